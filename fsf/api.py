"""API: schema text or files -> :class:`fsf.Schema` (parse, resolve imports, check, compile); and the
façade-level helpers over a Schema: :func:`write_compiled` (a ``.fsb`` file) and :func:`codegen` (source text)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from fsf.errors import Diagnostic, SchemaError, Source, UsageError
from fsf.schema import Schema

if TYPE_CHECKING:
    from fsf.load import Reader, Root

# Each helper is imported by the function that uses it: the parser only where source text is read (loading a .fsb
# never needs it), the code generators (and jinja2) only by codegen; `import fsf` stays cheap (tests/test_imports.py).

COMPILED_SUFFIX = ".fsb"


def compile_source(text: str, filename: str = "<memory>", *, read: Reader | None = None,
                   root: str | os.PathLike[str] | Root | None = None) -> Schema:
    """Check FSF ``text`` (imports resolved relative to ``filename`` through ``read``) into a Schema.

    Imports must stay inside ``root``, by default the folder of ``filename`` (the working folder for
    ``<memory>``); ``root`` must hold that folder (else :class:`fsf.UsageError`). A :class:`fsf.load.Root` is
    used as it is (a reader of another tree than the file system confines by it: ``fsf.gitrev``).

    >>> compile_source("shape Task { id: str }").shapes
    ('Task',)
    """
    from fsf.load import Root, schema_root

    return _compile(text, filename, read, root if isinstance(root, Root) else schema_root(filename, root))


def load_schema(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> Schema:
    """Load a schema from a ``.fsf`` source file or a ``.fsb`` compiled file (which needs no parser).

    The imports of a ``.fsf`` must stay inside ``root``, by default the folder of ``path``; a ``path`` whose
    folder is outside an explicit ``root`` is a :class:`fsf.UsageError` and is not opened. A ``.fsb`` has no
    imports: ``root`` does not apply.
    """
    name = os.fspath(path)
    if name.endswith(COMPILED_SUFFIX):
        from fsf.bytecode.container import load_container

        try:
            with open(name, "rb") as fh:
                data = fh.read()
        except OSError as err:
            reason = (err.strerror or str(err)).lower()
            raise SchemaError([Diagnostic("F000", f"cannot read schema `{name}`: {reason}", None)]) from None
        schema_ir, program = load_container(data, name)
        return Schema(schema_ir, program, origin=name)
    from fsf.load import read_source, schema_root

    confine = schema_root(name, root)  # before the file is opened
    text = read_source(name)  # F000 if unreadable or not UTF-8, F001 if too large
    schema = _compile(text, name, None, confine)
    schema.origin = name
    return schema


def write_compiled(source: str | os.PathLike[str], target: str | os.PathLike[str] | None = None, *,
                   root: str | os.PathLike[str] | None = None) -> Schema:
    """Compile schema file ``source`` (imports confined to ``root``, see :func:`load_schema`) and write its
    container atomically to ``target`` (default: the same path with the suffix ``.fsb``). Returns the schema."""
    from pathlib import Path

    from fsf.bytecode.container import dump_container
    from fsf.load import write_atomic

    path = Path(source)
    if path.suffix == COMPILED_SUFFIX:
        raise UsageError(f"`{path}` is already compiled; give the .fsf source")
    schema = load_schema(path, root=root)
    write_atomic(path.with_suffix(COMPILED_SUFFIX) if target is None else target,
                 dump_container(schema.ir, schema.program))
    return schema


def codegen(schema: Schema, target: str) -> str:
    """Generate ``target`` (``python``, ``jsonschema`` or ``typescript``) source for every type of ``schema``.

    >>> import fsf
    >>> print(codegen(fsf.compile_source("enum Color { red }"), "typescript").splitlines()[-1])
    export type Color = "red";
    """
    from fsf.codegen import codegen as generate

    return generate(schema.ir, {name: schema.id(name) for name in schema.shapes}, target)


def _compile(text: str, filename: str, read: Reader | None, root: Root) -> Schema:
    from fsf.front.check import check
    from fsf.load import load_modules, read_text

    modules, problems = load_modules(Source(filename, text), read or read_text, root=root)
    return Schema(check(modules, problems))
