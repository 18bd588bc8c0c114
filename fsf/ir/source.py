"""Source: IR schema -> FSF source text (one file, no imports) in the canonical layout of ``fsf fmt``.

The inverse of the front end: ``fsf.compile_source(to_source(s)).ir == s`` for every schema the checker produces
(declarations in the IR's order, fields, members, variants, doc comments, annotations, exact bounds), so every type
id is the same; except that the printed text must say what it holds wherever it is shown (a terminal, an editor,
``fsf store show`` of a hostile store): a control, bidirectional or line-breaking character (:mod:`fsf.text`) in
a doc comment is written ``\\u{XXXX}`` (a doc never changes an id), and in an annotation's string it is refused
(shown, the string would read back as another one). Annotations are printed by the table of :mod:`fsf.ir.annotations`, one per line after the doc
comment, in its order, the strings of a repeatable one merged (``@was("a", "b")``), as ``fsf fmt`` writes them. ``fsf store show`` prints a stored type closure (an IR rebuilt from a ``.fsb``) through it. Types are spelled
by :func:`fsf.ir.type_name`, the one spelling of a type. An IR that no FSF text reads back as (a ``.fsb`` is not
judged by the checker) is refused with :class:`fsf.FsfError` rather than printed as something else: every name
printed is one identifier token and every doc line stays inside its ``///`` comment, so hostile names and docs
cannot inject declarations. What the text can say but the checker rejects (a field name that is not camelCase, an
unknown type) is printed as is, and ``fsf check`` reports it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from fsf import ir
from fsf.errors import FsfError
from fsf.ir.annotations import Args, Item, annotations_of, quote, read_literal
from fsf.ir.kinds import Kind, kind_of
from fsf.text import invisible_in_a_line, show_in_a_line

INDENT = "  "
"""The indentation of ``fsf fmt`` (``fsf.front.fmt.INDENT``; the IR does not import the front end)."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Keywords (`shape`, `arr`, `ref`, ...) and the primitive types are lowercase: a type name that starts with a
# capital reads back as that declaration wherever a type is written.
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*")


def to_source(schema: ir.Schema) -> str:
    """FSF text declaring every declaration of ``schema``, in its order, with its doc comments.

    Raises :class:`fsf.FsfError` for an IR that FSF cannot write (e.g. ``str`` with a lower bound and no upper one).

    >>> to_source(ir.Schema((ir.Shape("Task", (ir.Field("id", ir.Str(1, 64), "The key."),)),)))
    'shape Task {\\n  /// The key.\\n  id: str[1..64],\\n}\\n'
    """
    blocks = ["\n".join(_DECLS[kind_of(d)](d)) for d in schema.decls]
    return "\n\n".join(blocks) + "\n" if blocks else ""


# -- declarations --------------------------------------------------------------------------------------------


def _shape(d: ir.Shape) -> list[str]:
    return [*_doc(d.doc, 0, d.name), *_annotations(d, 0, d.name),
            *_body(0, f"shape {_type_name(d.name, d.name)}", _fields(d.fields, 1, d.name))]


def _enum(d: ir.Enum) -> list[str]:
    if not d.members:
        raise _unwritable(d.name, "an enum needs at least one member")
    members: list[str] = []
    for m in d.members:
        where = f"{d.name}.{m.name}"
        members.extend([*_doc(m.doc, 1, where), *_annotations(m, 1, where), f"{INDENT}{_name(m.name, where)},"])
    return [*_doc(d.doc, 0, d.name), *_annotations(d, 0, d.name),
            *_body(0, f"enum {_type_name(d.name, d.name)}", members)]


def _union(d: ir.Union_) -> list[str]:
    if not d.variants:
        raise _unwritable(d.name, "a union needs at least one variant")
    variants: list[str] = []
    for v in d.variants:
        where = f"{d.name}.{v.name}"
        variants.extend([*_doc(v.doc, 1, where), *_annotations(v, 1, where)])
        head = _name(v.name, where)
        # A unit variant is its bare name, as `fsf fmt` writes it (`V {}` is the same variant).
        variants.extend(_body(1, head, _fields(v.fields, 2, where), ",") if v.fields else [f"{INDENT}{head},"])
    return [*_doc(d.doc, 0, d.name), *_annotations(d, 0, d.name),
            *_body(0, f"union {_type_name(d.name, d.name)}", variants)]


# A handler is reached only for its kind of declaration (hence Any).
_DECLS: dict[Kind, Callable[[Any], list[str]]] = {Kind.SHAPE: _shape, Kind.ENUM: _enum, Kind.UNION: _union}


def _body(depth: int, head: str, entries: list[str], comma: str = "") -> list[str]:
    pad = INDENT * depth
    if not entries:
        return [f"{pad}{head} {{}}{comma}"]
    return [f"{pad}{head} {{", *entries, f"{pad}}}{comma}"]


def _fields(fields: tuple[ir.Field, ...], depth: int, owner: str) -> list[str]:
    lines: list[str] = []
    for f in fields:
        where = f"{owner}.{f.name}"
        lines.extend([*_doc(f.doc, depth, where), *_annotations(f, depth, where)])
        lines.append(f"{INDENT * depth}{_name(f.name, where)}: {_type(f.type, where)},")
    return lines


# -- the parts of an entry -----------------------------------------------------------------------------------


def _doc(doc: str, depth: int, where: str) -> list[str]:
    """The ``///`` lines that the parser reads back as ``doc`` (its lines, one space after ``///``), every
    control, bidirectional and line-breaking character in them shown as ``\\u{XXXX}``: printed, a line says what
    it holds (it cannot move the cursor, reorder itself or seem to end), and a doc never changes an id."""
    if not doc:
        return []
    lines = [show_in_a_line(line) for line in doc.split("\n")]
    if doc != doc.rstrip() or any(line != line.rstrip() for line in lines):
        raise _unwritable(where, "a doc comment cannot end a line or itself with whitespace")
    pad = INDENT * depth
    return [f"{pad}/// {line}" if line else f"{pad}///" for line in lines]


def _annotations(item: Item, depth: int, where: str) -> list[str]:
    """One line per annotation of ``item``, in the table's order."""
    lines = []
    for annotation, args in annotations_of(item):
        if annotation.args is Args.NONE:
            lines.append(f"{INDENT * depth}{annotation.spelled}")
            continue
        if annotation.args is Args.LITERAL:
            if read_literal(args[0]) is None:
                raise _unwritable(where, f"`@default` literal `{_shown(args[0])}` is not an FSF literal")
            shown = args
        else:
            if any("\n" in a for a in args):
                raise _unwritable(where, f"a string of `{annotation.spelled}` cannot hold a line break")
            shown = tuple(quote(a) for a in args)
        # A string says what reading does (an old name, a reserved one, a default): shown otherwise, it would
        # read back as another string, so one that a printed line cannot hold as it is is refused.
        bad = next((m.group() for a in args if (m := invisible_in_a_line(a)) is not None), None)
        if bad is not None:
            raise _unwritable(where, f"`{annotation.spelled}` cannot hold U+{ord(bad):04X}, a control, "
                                     "bidirectional or line-breaking character")
        lines.append(f"{INDENT * depth}{annotation.spelled}({', '.join(shown)})")
    return lines


def _name(name: str, where: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise _unwritable(where, f"`{_shown(name)}` is not an identifier")
    return name


def _type_name(name: str, where: str) -> str:
    if not _TYPE_NAME.fullmatch(name):
        raise _unwritable(where, f"type name `{_shown(name)}` does not start with a capital letter")
    return name


def _type(t: ir.Type, where: str) -> str:
    """``t`` spelled by :func:`ir.type_name`, once every part of it is known to read back as itself."""
    stack = [t]
    while stack:  # iterative: a .fsb's type may nest as deep as the limit allows
        node = stack.pop()
        check = _CHECKS.get(kind_of(node))
        if check is not None:
            check(node, where)
        stack.extend(ir.children(node))
    return ir.type_name(t)


def _lengths(t: ir.Str | ir.Bytes, where: str) -> None:
    if t.hi is None and t.lo != 0:  # FSF writes both bounds or none (`str` is 0..no bound)
        raise _unwritable(where, f"`{ir.type_name(t)}` has a lower bound and no upper bound")


def _floats(t: ir.Float, where: str) -> None:
    bounds = (t.lo, t.hi)
    if bounds != (None, None) and not all(b is not None and math.isfinite(b) for b in bounds):
        raise _unwritable(where, f"`{t.kind}` bounds must be two finite numbers, not {t.lo!r} and {t.hi!r}")


def _named(t: ir.Named, where: str) -> None:
    _type_name(t.name, where)


def _ref(t: ir.Ref, where: str) -> None:
    _type_name(t.target, where)


# A check is reached only for its kind of type (hence Any); kinds without one always read back as themselves.
_CHECKS: dict[Kind, Callable[[Any, str], None]] = {
    Kind.STR: _lengths, Kind.BYTES: _lengths, Kind.FLOAT: _floats, Kind.NAMED: _named, Kind.REF: _ref,
}


def _unwritable(where: str, why: str) -> FsfError:
    return FsfError(f"cannot write `{_shown(where)}` as FSF: {why}")


def _shown(text: str) -> str:
    """``text`` for a message: a character a terminal would not print is written ``\\uXXXX``."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04X}" for c in text)
