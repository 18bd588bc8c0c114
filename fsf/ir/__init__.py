"""IR: the resolved schema that every back end reads (compiler, ids, codec, views, codegen).

Produced by :mod:`fsf.front.check`. Bounds are explicit and effective (an ``u8`` carries ``0..255``), names are
resolved, doc comments are kept for views and generated code but never enter an id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from fsf.errors import Span

INT_RANGES: dict[str, tuple[int, int]] = {
    "i8": (-(1 << 7), (1 << 7) - 1),
    "i16": (-(1 << 15), (1 << 15) - 1),
    "i32": (-(1 << 31), (1 << 31) - 1),
    "i64": (-(1 << 63), (1 << 63) - 1),
    "u8": (0, (1 << 8) - 1),
    "u16": (0, (1 << 16) - 1),
    "u32": (0, (1 << 32) - 1),
    "u64": (0, (1 << 64) - 1),
}
FLOAT_WIDTHS: dict[str, int] = {"f32": 32, "f64": 64}
HASH_SIZE = 32


@attrs.frozen
class Bool:
    pass


@attrs.frozen
class Int:
    kind: str
    lo: int
    hi: int


@attrs.frozen
class Float:
    """An IEEE float of ``width`` bits; finite; ``lo``/``hi`` inclusive when present."""

    width: int
    lo: float | None = None
    hi: float | None = None

    @property
    def kind(self) -> str:
        return f"f{self.width}"


@attrs.frozen
class Str:
    """UTF-8 text; ``lo``/``hi`` count code points; ``hi`` None means no bound but the input's size."""

    lo: int = 0
    hi: int | None = None


@attrs.frozen
class Bytes:
    lo: int = 0
    hi: int | None = None


@attrs.frozen
class Hash:
    """A 32-byte BLAKE3 digest."""


@attrs.frozen
class Time:
    """A UTC instant as integer nanoseconds since the Unix epoch (signed 64-bit)."""


@attrs.frozen
class Ref:
    """The content id of another FSV value whose root type is ``target``."""

    target: str


@attrs.frozen
class Named:
    """A use of a declared shape, enum or union."""

    name: str


@attrs.frozen
class Optional:
    inner: Type


@attrs.frozen
class Array:
    lo: int
    hi: int
    item: Type


@attrs.frozen
class Map:
    lo: int
    hi: int
    key: Type
    value: Type


Type = Bool | Int | Float | Str | Bytes | Hash | Time | Ref | Named | Optional | Array | Map


@attrs.frozen
class Default:
    """A field's ``@default(literal)``: the literal as ``fsf fmt`` writes it (``0``, ``-1.5``, ``"text"``,
    ``true``, ``medium`` for an enum member, ``[]``, ``{}``), checked against the field's type and bounds;
    :func:`default_value` gives its Python form."""

    literal: str


@attrs.frozen
class Field:
    """A shape's or variant's field. The evolution annotations (``docs/evolution.md``) say how values of other
    types are read into this one; like ``doc`` they never enter an id."""

    name: str
    type: Type
    doc: str = ""
    was: tuple[str, ...] = ()
    """``@was``: earlier names of this field, in the order written."""
    default: Default | None = None
    """``@default``: what a value written without this field reads as."""
    deprecated: str | None = None
    """``@deprecated(reason)``."""
    span: Span | None = attrs.field(default=None, eq=False, repr=False)
    """Where the name was written (None for an IR from a ``.fsb`` or a store); never compared, never in an id."""

    @property
    def optional(self) -> bool:
        return isinstance(self.type, Optional)


@attrs.frozen
class Shape:
    name: str
    fields: tuple[Field, ...]
    doc: str = ""
    was: tuple[str, ...] = ()
    reserved: tuple[str, ...] = ()
    """``@reserved``: field names that may never be used again in this shape."""
    deprecated: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Member:
    name: str
    doc: str = ""
    was: tuple[str, ...] = ()
    fallback: bool = False
    """``@fallback``: what a writer's member this enum lacks reads as (one member at most)."""
    deprecated: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Enum:
    name: str
    members: tuple[Member, ...]
    doc: str = ""
    was: tuple[str, ...] = ()
    reserved: tuple[str, ...] = ()
    deprecated: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Variant:
    name: str
    fields: tuple[Field, ...]
    doc: str = ""
    was: tuple[str, ...] = ()
    fallback: bool = False
    """``@fallback`` (a unit variant only): what a writer's variant this union lacks reads as."""
    deprecated: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Union_:
    name: str
    variants: tuple[Variant, ...]
    doc: str = ""
    was: tuple[str, ...] = ()
    reserved: tuple[str, ...] = ()
    deprecated: str | None = None
    span: Span | None = attrs.field(default=None, eq=False, repr=False)


Decl = Shape | Enum | Union_


@attrs.frozen
class Schema:
    """Every named type of a schema (with its imports), sorted by name."""

    decls: tuple[Decl, ...]
    _index: dict[str, Decl] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", {d.name: d for d in self.decls})

    def __getitem__(self, name: str) -> Decl:
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.decls)


def children(t: Type) -> Iterator[Type]:
    """The type expressions directly inside ``t`` (not through named types)."""
    if isinstance(t, Optional):
        yield t.inner
    elif isinstance(t, Array):
        yield t.item
    elif isinstance(t, Map):
        yield t.key
        yield t.value


def decl_types(decl: Decl) -> Iterator[Type]:
    """Every field type of a declaration (an enum has none)."""
    if isinstance(decl, Shape):
        for f in decl.fields:
            yield f.type
    elif isinstance(decl, Union_):
        for v in decl.variants:
            for f in v.fields:
                yield f.type


def references(decl: Decl) -> Iterator[str]:
    """Names of declared types that ``decl`` uses by value (``ref<T>`` is a content id, not a use)."""
    stack = list(decl_types(decl))
    while stack:
        t = stack.pop()
        if isinstance(t, Named):
            yield t.name
        stack.extend(children(t))


def type_list(t: Type, name: Callable[[str], Any]) -> list[Any]:
    """The canonical list form of a type expression, with each used type name written as ``name(n)``.

    One encoding shared by type ids (names inside a component, ids outside it) and the ``.fsb`` container
    (plain names): ``["arr", 0, 8, ["str", 0, None]]``. Type nesting is at most 64, so recursion is bounded.
    """
    if isinstance(t, Named):
        return ["named", name(t.name)]
    if isinstance(t, Ref):
        return ["ref", name(t.target)]
    if isinstance(t, Optional):
        return ["opt", type_list(t.inner, name)]
    if isinstance(t, Array):
        return ["arr", t.lo, t.hi, type_list(t.item, name)]
    if isinstance(t, Map):
        return ["map", t.lo, t.hi, type_list(t.key, name), type_list(t.value, name)]
    if isinstance(t, Int):
        return ["int", t.kind, t.lo, t.hi]
    if isinstance(t, Float):
        return ["float", t.width, t.lo, t.hi]
    if isinstance(t, (Str, Bytes)):
        return ["str" if isinstance(t, Str) else "bytes", t.lo, t.hi]
    return [{Bool: "bool", Hash: "hash", Time: "time"}[type(t)]]


def type_name(t: Type) -> str:
    """How a type is spelled in FSF: ``arr[0..5]<str>``, ``u8[0..9]``, ``Task?``; the one spelling of messages and
    of :func:`fsf.ir.source.to_source`, so it is the shortest text that checks back to ``t`` (``u8`` for the
    whole range, ``str`` for ``0..None``, float bounds that read back as the same binary64, ``-0`` included)."""
    if isinstance(t, Bool):
        return "bool"
    if isinstance(t, Int):
        lo, hi = INT_RANGES[t.kind]
        return t.kind if (t.lo, t.hi) == (lo, hi) else f"{t.kind}[{t.lo}..{t.hi}]"
    if isinstance(t, Float):
        if t.lo is None and t.hi is None:
            return t.kind
        return f"{t.kind}[{_num(t.lo)}..{_num(t.hi)}]"
    if isinstance(t, (Str, Bytes)):
        base = "str" if isinstance(t, Str) else "bytes"
        return base if (t.lo, t.hi) == (0, None) else f"{base}[{t.lo}..{'' if t.hi is None else t.hi}]"
    if isinstance(t, Hash):
        return "hash"
    if isinstance(t, Time):
        return "time"
    if isinstance(t, Ref):
        return f"ref<{t.target}>"
    if isinstance(t, Named):
        return t.name
    if isinstance(t, Optional):
        return f"{type_name(t.inner)}?"
    if isinstance(t, Array):
        return f"arr[{t.lo}..{t.hi}]<{type_name(t.item)}>"
    return f"map[{t.lo}..{t.hi}]<{type_name(t.key)}, {type_name(t.value)}>"


def _num(x: float | None) -> str:
    """A float bound as the shortest literal of the grammar that reads back as the same binary64 (``-0``, ``0.1``,
    ``1e16``, ``5e-324``): ``repr`` gives the shortest digits that round-trip; drop ``.0`` and the exponent's
    ``+`` and leading zeros."""
    if x is None:
        return ""
    mantissa, _, exponent = repr(x).partition("e")
    return mantissa.removesuffix(".0") + (f"e{int(exponent)}" if exponent else "")


_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def default_value(t: Type, default: Default) -> Any:
    """The Python form (``docs/fsv.md``) of a checked ``@default`` of a field of type ``t``: a fresh ``[]`` or
    ``{}``, a bool, an int, a float for a float type, the text of a string (a backslash makes the next character
    literal, as in every FSF string), else an enum member's name."""
    literal = default.literal
    inner = t.inner if isinstance(t, Optional) else t
    if literal == "[]":
        return []
    if literal == "{}":
        return {}
    if isinstance(inner, Bool):
        return literal == "true"
    if literal.startswith('"'):
        return _ESCAPED.sub(r"\1", literal[1:-1])
    if isinstance(inner, Float):
        return float(literal)
    if isinstance(inner, Int):
        return int(literal)
    return literal


def span_of(schema: Schema, decl: str, item: str | None = None) -> Span | None:
    """Where declaration ``decl`` (or its field, member or variant ``item``; ``Variant.field`` for a variant's
    field) was written, when the IR was checked from source; None otherwise or when there is no such item."""
    if decl not in schema:
        return None
    found: Any = schema[decl]
    for part in [] if item is None else item.split("."):
        children = getattr(found, "fields", None) or getattr(found, "members", None) or \
            getattr(found, "variants", None) or ()
        found = next((c for c in children if c.name == part), None)
        if found is None:
            return None
    span: Span | None = found.span
    return span
