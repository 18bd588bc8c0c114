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


class Names:
    """What generated code reaches through its globals -- each schema-derived value once, as ``_kN`` -- and the
    fresh local names it needs (``stem`` + a counter). A base of the code generators."""

    def __init__(self) -> None:
        self.consts: dict[str, Any] = {}
        self._const_ids: dict[tuple[str, Any], str] = {}
        self._temps = 0

    def const(self, value: Any) -> str:
        """The global name holding ``value`` (equal immutable values share one; anything else by identity)."""
        key = (type(value).__name__, value if isinstance(value, (str, int, float, bytes, tuple)) else id(value))
        name = self._const_ids.get(key)
        if name is None:
            name = self._const_ids[key] = f"_k{len(self.consts)}"
            self.consts[name] = value
        return name

    def reserve(self) -> str:
        """A fresh global name whose value is known only later, once its code is written: set it with
        :meth:`fill` before the code runs."""
        name = f"_k{len(self.consts)}"
        self.consts[name] = None
        return name

    def fill(self, name: str, value: Any) -> None:
        """Give the global ``name`` of :meth:`reserve` its value."""
        self.consts[name] = value

    def temp(self, stem: str) -> str:
        self._temps += 1
        return f"{stem}{self._temps}"


def load(source: str, label: str, namespace: dict[str, Any]) -> dict[str, Any]:
    """Execute generated ``source`` in ``namespace`` (which it fills and returns), as ``<label HASH>``."""
    filename = f"<{label} {blake3.blake3(source.encode()).hexdigest()[:16]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace
