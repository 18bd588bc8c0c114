"""Accept: a committed ``fsf-breaking.toml`` -> the findings accepted on purpose (``docs/breaking.md``).

Each entry names one rule id and one type path (a declaration, or down to a field, member or variant) with a
reason; an entry accepts the findings of that rule at that path or under it, and nothing else, so accepting a
break never hides the next one. An entry that matches no finding any more is reported as stale.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from fsf.breaking import Finding
from fsf.errors import FsfError
from fsf.evolve.rules import BY_ID

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ACCEPT_FILE = "fsf-breaking.toml"
"""The file name the accept list is found by, in the working folder or its nearest parent."""
_MAX_BYTES = 1 << 20


class AcceptError(FsfError):
    """An accept file that cannot be used: not TOML, an unknown rule, a missing reason, a wrong key."""


@attrs.frozen
class Accepted:
    """One entry: a rule id, a type path and why the break is accepted."""

    rule: str
    path: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return finding.rule == self.rule and (finding.path == self.path or finding.path.startswith(self.path + "."))


def find_accept_file(cwd: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest ``fsf-breaking.toml`` from ``cwd`` up, or None."""
    here = Path(cwd if cwd is not None else os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ACCEPT_FILE
        if candidate.is_file():
            return candidate
    return None


def load_accepted(path: str | os.PathLike[str]) -> tuple[Accepted, ...]:
    """The entries of the accept file at ``path``; :class:`AcceptError` for anything wrong in it."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            raw = fh.read(_MAX_BYTES + 1)
    except OSError as err:
        raise AcceptError(f"cannot read `{name}`: {(err.strerror or str(err)).lower()}") from None
    if len(raw) > _MAX_BYTES:
        raise AcceptError(f"`{name}`: larger than {_MAX_BYTES} bytes")
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise AcceptError(f"`{name}`: not UTF-8 (byte {err.start})") from None
    except tomllib.TOMLDecodeError as err:
        raise AcceptError(f"`{name}`: not TOML: {err}") from None
    unknown = sorted(set(doc) - {"accept"})
    if unknown:
        raise AcceptError(f"`{name}`: unknown key `{unknown[0]}` (only `[[accept]]` tables)")
    entries = doc.get("accept", [])
    if not isinstance(entries, list):
        raise AcceptError(f"`{name}`: `accept` must be an array of tables (`[[accept]]`)")
    return tuple(_entry(name, i, e) for i, e in enumerate(entries, 1))


def _entry(name: str, index: int, entry: Any) -> Accepted:
    where = f"`{name}`: [[accept]] number {index}"
    if not isinstance(entry, dict):
        raise AcceptError(f"{where} is not a table")
    extra = sorted(set(entry) - {"rule", "path", "reason"})
    if extra:
        raise AcceptError(f"{where}: unknown key `{extra[0]}` (keys: rule, path, reason)")
    for key in ("rule", "path", "reason"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise AcceptError(f"{where}: `{key}` must be a non-empty string")
    if entry["rule"] not in BY_ID:
        from difflib import get_close_matches

        close = get_close_matches(entry["rule"], list(BY_ID), n=1)
        raise AcceptError(f"{where}: unknown rule `{entry['rule']}`"
                          + (f"; did you mean `{close[0]}`?" if close else " (docs/breaking.md lists them)"))
    return Accepted(entry["rule"], entry["path"], entry["reason"])


def split(findings: Sequence[Finding], accepted: Sequence[Accepted]
          ) -> tuple[dict[tuple[str, str], Accepted], tuple[Accepted, ...]]:
    """Which findings an entry accepts (finding key -> the entry), and the entries that match nothing (stale)."""
    matched: dict[tuple[str, str], Accepted] = {}
    used: set[Accepted] = set()
    for f in findings:
        for entry in accepted:
            if entry.matches(f):
                matched[f.key] = entry
                used.add(entry)
                break
    return matched, tuple(e for e in accepted if e not in used)
