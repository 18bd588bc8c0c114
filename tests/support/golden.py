"""Tests, every stage: a committed golden file and the text or JSON value a test computes -> pass, or a failure
that shows a unified diff (or, for a missing file, the command that creates it).

Today this is the one golden check of the suite, reached through the ``golden`` fixture of ``tests/conftest.py``.
One flag, ``FSF_UPDATE_GOLDEN=1``: the file is written first and then compared exactly as in any other run, so an
update run passes only when what was written reads back as the same value. Without the flag nothing is ever
written: a missing golden file fails, it is not created.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

UPDATE_FLAG = "FSF_UPDATE_GOLDEN"
ROOT = Path(__file__).resolve().parents[2]
MAX_DIFF_LINES = 200
"""A rewritten 10 MB golden file would drown the report; the head of the diff says enough."""


def updating() -> bool:
    """Whether this run rewrites golden files (``FSF_UPDATE_GOLDEN=1``)."""
    return os.environ.get(UPDATE_FLAG) == "1"


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def _diff(committed: str, got: str, path: Path) -> str:
    lines = list(difflib.unified_diff(committed.splitlines(keepends=True), got.splitlines(keepends=True),
                                      fromfile=f"{_shown(path)} (committed)", tofile="computed by the test"))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more diff lines\n"]
    # Golden text holds lone surrogates and control characters on purpose; the report must still print.
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
                   ).encode("utf-8", "backslashreplace").decode("utf-8")


@attrs.frozen
class Golden:
    """Compares with golden files for one test (``test`` is its node id, named in the failure messages)."""

    test: str
    update: bool = attrs.field(factory=updating)

    def _committed(self, path: Path, new: bytes) -> bytes:
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(new)
        if not path.is_file():
            pytest.fail(f"missing golden file {_shown(path)}; create it with "
                        f"`{UPDATE_FLAG}=1 python -m pytest '{self.test}'` and review it before committing",
                        pytrace=False)
        return path.read_bytes()

    def text(self, path: Path, got: str, *, errors: str = "strict") -> None:
        """The UTF-8 file ``path`` holds exactly ``got`` (``errors`` as for ``str.encode``, e.g.
        ``surrogateescape`` for diagnostics that quote undecodable input)."""
        committed = self._committed(path, got.encode("utf-8", errors)).decode("utf-8", errors)
        if committed != got:
            self._differs(path, committed, got)

    def json(self, path: Path, got: Any, dump: Callable[[Any], str]) -> None:
        """The JSON file ``path`` parses to a value equal to ``got``; an update writes ``dump(got)``."""
        committed = json.loads(self._committed(path, dump(got).encode("utf-8")).decode("utf-8"))
        if committed != got:
            self._differs(path, dump(committed), dump(got))

    def _differs(self, path: Path, committed: str, got: str) -> None:
        pytest.fail(f"{_shown(path)} differs from what the test computed; review, then regenerate with "
                    f"`{UPDATE_FLAG}=1 python -m pytest '{self.test}'`\n{_diff(committed, got, path)}", pytrace=False)
