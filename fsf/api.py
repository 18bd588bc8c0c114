"""API: schema text or files -> :class:`fsf.Schema` (parse, resolve imports, check, compile)."""

from __future__ import annotations

import os

from fsf.check import check
from fsf.errors import Diagnostic, SchemaError, Source
from fsf.load import Reader, load_modules, read_text
from fsf.schema import Schema

COMPILED_SUFFIX = ".fsb"


def compile_source(text: str, filename: str = "<memory>", *, read: Reader = read_text) -> Schema:
    """Check FSF ``text`` (imports resolved relative to ``filename`` through ``read``) into a Schema.

    >>> compile_source("shape Task { id: str }").shapes
    ('Task',)
    """
    modules, problems = load_modules(Source(filename, text), read)
    return Schema(check(modules, problems))


def load_schema(path: str | os.PathLike[str]) -> Schema:
    """Load a schema from a ``.fsf`` source file or a ``.fsb`` compiled file (which needs no parser)."""
    name = os.fspath(path)
    if name.endswith(COMPILED_SUFFIX):
        from fsf.container import load_container

        with open(name, "rb") as fh:
            data = fh.read()
        schema_ir, program = load_container(data, name)
        return Schema(schema_ir, program)
    try:
        text = read_text(name)
    except (OSError, UnicodeDecodeError) as err:
        reason = "not UTF-8" if isinstance(err, UnicodeDecodeError) else (getattr(err, "strerror", "") or str(err))
        raise SchemaError([Diagnostic("F000", f"cannot read schema `{name}`: {reason.lower()}", None)]) from None
    return compile_source(text, name)
