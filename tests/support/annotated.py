"""Test support, front end and back: IR schemas with evolution annotations added (every one, or drawn by
Hypothesis), and a messy layout of annotated FSF text.

``annotate_all(schema)`` gives every item of a checked schema every annotation it can take (valid, so it still
checks); ``annotated(schema)`` draws a random valid subset; ``messy(text)`` respells FSF text the ways ``fsf fmt``
must undo (annotations out of order, a ``@was`` split in several, any spacing, ``//`` comments). These build on
the schemas of :mod:`tests.support.strategies` (drawn there, annotated here).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import attrs
from hypothesis import strategies as st

from fsf import ir
from fsf.ir.annotations import quote

DEPRECATION = 'old: use "other" \\ elsewhere'
"""A reason that needs escaping."""

Choose = Callable[[str], bool]
"""Whether to add the annotation named by the argument (``was``, ``default``, ...) to the item at hand."""


def default_literal(t: ir.Type, schema: ir.Schema) -> str | None:
    """A ``@default`` literal that fits a field of type ``t``, or None if the type takes none."""
    inner = t.inner if isinstance(t, ir.Optional) else t
    if isinstance(inner, ir.Int):
        return str(inner.lo if inner.lo > 0 or inner.hi < 0 else 0)
    if isinstance(inner, ir.Float):
        if inner.lo is None or inner.hi is None or inner.lo <= 0 <= inner.hi:
            return "0.0"
        return repr(inner.lo)
    if isinstance(inner, ir.Str):
        return quote("x" * inner.lo)
    if isinstance(inner, ir.Bool):
        return "true"
    if isinstance(inner, ir.Array) and inner.lo == 0:
        return "[]"
    if isinstance(inner, ir.Map) and inner.lo == 0:
        return "{}"
    if isinstance(inner, ir.Named) and isinstance(schema[inner.name], ir.Enum):
        decl = schema[inner.name]
        assert isinstance(decl, ir.Enum)
        return decl.members[-1].name
    return None


def _old(name: str, kind: str, n: int) -> str:
    """An earlier name of ``name`` by the naming rule of ``kind`` (field, member or type)."""
    if kind == "field":
        return f"{name}_old{n}" if "_" in name else f"{name}Old{n}"
    if kind == "member":
        return f"{name}_old{n}"
    return f"{name}Old{n}"


def _with(item: Any, choose: Choose, kind: str, taken: set[str], extra: dict[str, Any]) -> Any:
    values: dict[str, Any] = dict(extra)
    if choose("was"):
        names = [_old(item.name, kind, n) for n in (1, 2) if n == 1 or choose("was")]
        names = [n for n in names if n not in taken]
        taken.update(names)
        if names:
            values["was"] = tuple(names)
    if choose("deprecated"):
        values["deprecated"] = DEPRECATION
    return attrs.evolve(item, **values)


def _fields(fields: tuple[ir.Field, ...], schema: ir.Schema, choose: Choose) -> tuple[ir.Field, ...]:
    taken = {f.name for f in fields} | {"retiredField"}
    out = []
    for f in fields:
        literal = default_literal(f.type, schema)
        extra = {"default": ir.Default(literal)} if literal is not None and choose("default") else {}
        out.append(_with(f, choose, "field", taken, extra))
    return tuple(out)


def annotate(schema: ir.Schema, choose: Choose) -> ir.Schema:
    """``schema`` with the annotations ``choose`` picks, all valid: ``fsf check`` accepts the result."""
    decls: list[ir.Decl] = []
    types = set(schema.names)
    for d in schema.decls:
        reserved: dict[str, Any] = {}
        if isinstance(d, ir.Shape):
            if choose("reserved"):
                reserved = {"reserved": ("retiredField",)}
            decls.append(_with(attrs.evolve(d, fields=_fields(d.fields, schema, choose)), choose, "type", types,
                               reserved))
        elif isinstance(d, ir.Enum):
            taken = {m.name for m in d.members} | {"retired_member"}
            if choose("reserved"):
                reserved = {"reserved": ("retired_member",)}
            fallback = choose("fallback")
            members = tuple(_with(m, choose, "member", taken, {"fallback": fallback and i == 0})
                            for i, m in enumerate(d.members))
            decls.append(_with(attrs.evolve(d, members=members), choose, "type", types, reserved))
        else:
            taken = {v.name for v in d.variants} | {"RetiredVariant"}
            if choose("reserved"):
                reserved = {"reserved": ("RetiredVariant",)}
            unit = next((v.name for v in d.variants if not v.fields), None) if choose("fallback") else None
            variants = tuple(_with(attrs.evolve(v, fields=_fields(v.fields, schema, choose)), choose, "type", taken,
                                   {"fallback": v.name == unit}) for v in d.variants)
            decls.append(_with(attrs.evolve(d, variants=variants), choose, "type", types, reserved))
    return ir.Schema(tuple(decls))


def annotate_all(schema: ir.Schema) -> ir.Schema:
    """``schema`` with every annotation each item can take."""
    return annotate(schema, lambda name: True)


@st.composite
def annotated(draw: st.DrawFn, schema: ir.Schema) -> ir.Schema:
    """``schema`` with a drawn subset of valid annotations."""
    return annotate(schema, lambda name: draw(st.booleans(), label=name))


_TOKEN = re.compile(r'//[^\n]*|@[^\W\d]\w*|[^\W\d]\w*|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\.\.|'
                    r'"(?:[^"\\\n]|\\.)*"|\S')
_ANNOTATION_LINE = re.compile(r"^( *)(@.*)$")
_WAS = re.compile(r'@was\((.*)\)\Z')
_STRINGS = re.compile(r'"(?:[^"\\\n]|\\.)*"')


@st.composite
def messy(draw: st.DrawFn, text: str) -> str:
    """``text`` (in the layout of ``fsf fmt``) respelled: each item's annotations in a drawn order, a ``@was``
    with several names split into one per name, tokens re-spaced, ``//`` comments added between tokens."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        block = []
        while i < len(lines) and _ANNOTATION_LINE.match(lines[i]):
            block.append(lines[i])
            i += 1
        if not block:
            out.append(lines[i])
            i += 1
            continue
        pad = _ANNOTATION_LINE.match(block[0]).group(1)  # type: ignore[union-attr]
        parts: list[str] = []
        for line in block:
            body = line.strip()
            was = _WAS.match(body)
            if was and draw(st.booleans(), label="split @was"):
                parts.extend(f"@was({s})" for s in _STRINGS.findall(was.group(1)))
            else:
                parts.append(body)
        order = draw(st.permutations(parts), label="annotation order")
        out.append(pad + " ".join(order))
    tokens = _TOKEN.findall("\n".join(out))
    spaced: list[str] = []
    for k, token in enumerate(tokens):
        prev = tokens[k - 1] if k else ""
        gap = draw(st.sampled_from(["", " ", "\n", "\n\n", "  ", " // c\n", "\n// own\n"]), label="gap")
        if token.startswith("///"):
            gap = "\n"  # a doc stays a doc, on its own line
        elif prev.startswith("//"):
            gap = "\n" + gap.lstrip(" ")  # a comment runs to the end of its line
        if not gap and prev and (prev[-1].isalnum() or prev[-1] in "_.") and (token[0].isalnum() or token[0] in "_-."):
            gap = " "
        spaced.append(gap + token)
    return "".join(spaced) + "\n"
