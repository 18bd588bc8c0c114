"""Test support: schemas whose codec runs one chosen execution path (fixtures ``codec_path``, ``no_fallback``).

A path is picked through the schema's :class:`fsf.fsv.codec.Codec` (``Schema.using``), never a global. The
guard makes a fast path that refuses raise :class:`FallbackError`, so a path that stops serving fails loudly.
"""

from __future__ import annotations

from pathlib import Path

import attrs

import fsf
from fsf.fsv import codec


class FallbackError(AssertionError):
    """A fast codec path refused a value that the test claims it serves."""


def refuse_fallback(path: str, operation: str) -> None:
    """The ``on_fallback`` of a strict codec: a refusal is a test failure."""
    raise FallbackError(f"the {path} path refused during {operation}, but this test claims it serves")


AVAILABLE = tuple(p for p in codec.PATHS if p != "native" or "native" in codec.DEFAULT_PATHS)
"""The paths a test can pick here (``native`` only when the extension is built and not switched off)."""


@attrs.frozen
class CodecPath:
    """One execution path: ``use(schema)`` is that schema with a codec that runs ``name`` then ``reference``."""

    name: str

    def use(self, schema: fsf.Schema) -> fsf.Schema:
        return schema.using(self.name)

    def compile(self, text: str, name: str = "<string>") -> fsf.Schema:
        return self.use(fsf.compile_source(text, name))

    def load(self, path: str | Path) -> fsf.Schema:
        return self.use(fsf.load_schema(path))


def strict(schema: fsf.Schema) -> fsf.Schema:
    """``schema`` with the same codec paths, where any fallback from a fast path raises :class:`FallbackError`."""
    return schema.using(*schema.codec.paths, on_fallback=refuse_fallback)
