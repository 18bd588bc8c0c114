"""Views, the text form: IR + a canonical value -> stable, line-oriented text made for diffs (``fsv show``).

One field per line in schema order; a nested shape, array, map or a union variant with fields goes on the lines
below its name, indented by two spaces; array items start with ``- `` (a shape item's first field on the dash's
line, its other fields under it), so changing one scalar changes exactly one line. Strings are JSON strings
with control and bidirectional characters shown as ``\\u{XXXX}`` (:func:`~fsf.views.escape.show_invisible`),
so no value can break a line or reorder one. The format is stated in ``docs/git.md``; nothing here reads files.

API::

    show(schema_ir, name, value, *, type_id, content_id, written_as=None) -> str   # the whole text
    show_lines(schema_ir, type_, value, indent) -> list[str]   # one value's lines, indented
    show_unknown(*, type_id, content_id, payload_size) -> str   # a value whose schema is missing
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fsf import ir
from fsf.fsv.jsonform import format_time
from fsf.ir.kinds import Kind, decl_kind
from fsf.views.escape import show_invisible
from fsf.views.model import map_order

INDENT = "  "
"""One level of nesting."""

_Rendered = tuple[str | None, list[str]]
"""A value as text: what goes after ``name: `` on its own line (None: nothing) and the lines below it, not yet
indented. A scalar has a head and no lines; a shape, a non-empty array or map has lines and no head; a union
variant with fields has both (its name, then its fields)."""


def show(schema_ir: ir.Schema, name: str, value: Any, *, type_id: str, content_id: str,
         written_as: str | None = None) -> str:
    """The text form of a valid ``value`` of the named type ``name``: a header (``# Name <type id>``,
    ``# <content id>``, and ``# written as <writer type id>`` for a value read through the store from another
    type), then one line per field.

    >>> print(show(s, "Task", {"id": "T1", "done": False}, type_id=tid, content_id=cid))  # doctest: +SKIP
    # Task blake3:…
    # blake3:…
    id: "T1"
    done: false
    """
    header = [f"# {name} {type_id}", f"# {content_id}"]
    if written_as is not None:
        header.append(f"# written as {written_as}")
    return "\n".join(header + show_lines(schema_ir, ir.Named(name), value, 0)) + "\n"


def show_lines(schema_ir: ir.Schema, type_: ir.Type, value: Any, indent: int) -> list[str]:
    """The lines of a valid ``value`` of ``type_``, each indented by ``indent`` spaces (no line ends).

    A scalar, an enum member, a unit variant, an absent optional (``null``) and an empty array or map (``[]``,
    ``{}``) is one line; a shape is one ``name: …`` line per field (more for nested values); an array is one
    ``- …`` item after another; a map one ``key: …`` entry per key in canonical order; a variant with fields is
    its name, then its fields indented by two more spaces.

    >>> show_lines(s.ir, ir.Named("Task"), {"id": "T1", "done": False}, 2)  # doctest: +SKIP
    ['  id: "T1"', '  done: false']
    """
    head, body = _render(schema_ir, type_, value)
    lines = body if head is None else [head, *_indented(body)]
    pad = " " * indent
    return [pad + line for line in lines]


def show_unknown(*, type_id: str, content_id: str, payload_size: int) -> str:
    """The text form of a value whose writer schema is nowhere to be found: the header (``?`` for the type's
    name), the missing type id with how to add it, and the payload's size."""
    return (f"# ? {type_id}\n# {content_id}\n# schema not found: {type_id} (add it with fsf store add)\n"
            f"# payload: {payload_size} bytes\n")


def _render(schema: ir.Schema, t: ir.Type, x: Any) -> _Rendered:
    return _RENDER[decl_kind(schema, t)](schema, t, x)


def _indented(lines: list[str]) -> list[str]:
    return [INDENT + line for line in lines]


def _entry(label: str, rendered: _Rendered) -> list[str]:
    """``label: head`` (or ``label:``) and the lines below it, indented."""
    head, body = rendered
    return [f"{label}: {head}" if head is not None else f"{label}:", *_indented(body)]


def _item(rendered: _Rendered) -> list[str]:
    """An array item: ``- head`` and its lines under it, or, for a value without a head (a shape, an array, a
    map), its first line after the dash and the others aligned with it."""
    head, body = rendered
    if head is not None:
        return [f"- {head}", *_indented(body)]
    return [f"- {body[0]}", *_indented(body[1:])]


def _string(text: str) -> str:
    """A JSON string (C0 controls as JSON escapes) with DEL, C1 and bidirectional controls shown as
    ``\\u{XXXX}``, and U+2028/U+2029, which editors take for line breaks, as well."""
    quoted = show_invisible(json.dumps(text, ensure_ascii=False))
    if "\u2028" in quoted or "\u2029" in quoted:
        quoted = quoted.replace("\u2028", "\\u{2028}").replace("\u2029", "\\u{2029}")
    return quoted


def _fields(schema: ir.Schema, fields: tuple[ir.Field, ...], x: Any) -> list[str]:
    lines: list[str] = []
    for f in fields:
        lines += _entry(f.name, _render(schema, f.type, x.get(f.name)))
    return lines


def _optional(schema: ir.Schema, t: Any, x: Any) -> _Rendered:
    return ("null", []) if x is None else _render(schema, t.inner, x)


def _array(schema: ir.Schema, t: Any, x: Any) -> _Rendered:
    if not x:
        return "[]", []
    lines: list[str] = []
    for item in x:
        lines += _item(_render(schema, t.item, item))
    return None, lines


def _map(schema: ir.Schema, t: Any, x: Any) -> _Rendered:
    if not x:
        return "{}", []
    lines: list[str] = []
    for key in sorted(x, key=map_order(schema, t.key)):
        label, _ = _render(schema, t.key, key)
        assert label is not None  # keys are str, integers or enum members
        lines += _entry(label, _render(schema, t.value, x[key]))
    return None, lines


def _shape(schema: ir.Schema, t: Any, x: Any) -> _Rendered:
    decl = schema[t.name]
    assert isinstance(decl, ir.Shape)
    return ("{}", []) if not decl.fields else (None, _fields(schema, decl.fields, x))


def _union(schema: ir.Schema, t: Any, x: Any) -> _Rendered:
    decl = schema[t.name]
    assert isinstance(decl, ir.Union_)
    ((vname, body),) = x.items()
    variant = next(v for v in decl.variants if v.name == vname)
    return vname, _fields(schema, variant.fields, body)


def _scalar(text: Callable[[Any], str]) -> Callable[[ir.Schema, Any, Any], _Rendered]:
    def render(schema: ir.Schema, t: Any, x: Any) -> _Rendered:
        return text(x), []

    return render


# Handlers take the type as Any: each is reached only for its kind (the table is the type test).
_RENDER: dict[Kind, Callable[[ir.Schema, Any, Any], _Rendered]] = {
    Kind.OPTIONAL: _optional,
    Kind.ARRAY: _array,
    Kind.MAP: _map,
    Kind.SHAPE: _shape,
    Kind.UNION: _union,
    Kind.ENUM: _scalar(str),
    Kind.BOOL: _scalar(lambda x: "true" if x else "false"),
    Kind.INT: _scalar(lambda x: str(int(x))),
    Kind.FLOAT: _scalar(lambda x: repr(float(x) + 0.0)),  # the shortest text that reads back, as in JSON
    Kind.STR: _scalar(_string),
    Kind.BYTES: _scalar(lambda x: f"h'{bytes(x).hex()}'"),
    Kind.HASH: _scalar(lambda x: f"h'{bytes(x).hex()}'"),
    Kind.TIME: _scalar(format_time),
    Kind.REF: _scalar(show_invisible),
}
