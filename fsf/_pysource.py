"""Python source: generated code text -> loaded functions (the code writer and loader the specialisers share).

Source is compiled once with :func:`compile` and :func:`exec`; values reach it only through the namespace,
never spliced into the text. Each module is registered in :mod:`linecache` under a pseudo file name named after
its content hash, so tracebacks and debuggers show the generated source.
"""

from __future__ import annotations

import linecache
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import blake3


class Writer:
    """Indented lines of Python source; an empty block gets ``pass``."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def close_block(self) -> None:
        """Called at the end of every indented block, before ``pass`` is decided (subclasses flush here)."""

    @contextmanager
    def indent(self) -> Iterator[None]:
        self.depth += 1
        start = len(self.lines)
        yield
        self.close_block()
        if len(self.lines) == start:
            self.line("pass")
        self.depth -= 1


def load(source: str, label: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Execute generated ``source`` in ``namespace`` (which it fills and returns), as ``<label HASH>``."""
    filename = f"<{label} {blake3.blake3(source.encode()).hexdigest()[:16]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace
