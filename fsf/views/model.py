"""Views, the value model: a canonical Python value + its IR type -> the objects a template reads by field name.

Shapes become :class:`Record`, unions :class:`Variant`, ``time`` :class:`Instant`, ``bytes`` :class:`Blob`; maps
are ordered as FSV orders their keys, so a template iterates in one deterministic order.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, cast

import attrs

from fsf import ir
from fsf.fsv.codec import time_to_ns
from fsf.fsv.jsonform import format_time
from fsf.ir.ids import format_id
from fsf.ir.kinds import Kind, is_named_kind, kind_of


class Record:
    """A shape value (or a union variant's fields): ``rec.field`` and ``rec['field']``, in declaration order."""

    __slots__ = ("_fields", "_type")

    def __init__(self, type_name: str, fields: dict[str, Any]) -> None:
        self._type = type_name
        self._fields = fields

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __str__(self) -> str:
        return self._type

    def __repr__(self) -> str:
        return f"Record({self._type!r})"


@attrs.frozen
class Variant:
    """A union value: the variant's ``name`` and its ``fields`` (a :class:`Record`)."""

    name: str
    fields: Record

    def __str__(self) -> str:
        return self.name


@attrs.frozen
class Instant:
    """A ``time`` value: prints as RFC 3339 in UTC (``2026-11-21T09:41:12Z``); ``ns`` is the integer."""

    ns: int

    def __str__(self) -> str:
        return format_time(self.ns)


@attrs.frozen
class Blob:
    """A ``bytes`` value: prints as standard base64; ``hex`` and ``size`` for templates that want them."""

    data: bytes = attrs.field(repr=False)

    @property
    def hex(self) -> str:
        return self.data.hex()

    @property
    def size(self) -> int:
        return len(self.data)

    def __str__(self) -> str:
        return base64.b64encode(self.data).decode("ascii")


def map_order(schema: ir.Schema, key_type: ir.Type) -> Callable[[Any], Any]:
    """The sort key of a map's keys in FSV canonical order (enum members by index, others by value)."""
    if is_named_kind(schema, key_type, Kind.ENUM):
        decl = cast(ir.Enum, schema[cast(ir.Named, key_type).name])
        index = {m.name: i for i, m in enumerate(decl.members)}
        return index.__getitem__
    return _identity


def _identity(x: Any) -> Any:
    return x


def view_value(schema: ir.Schema, t: ir.Type, value: Any) -> Any:
    """The template form of a valid ``value`` of type ``t``: shapes as :class:`Record`, unions as
    :class:`Variant`, arrays as tuples, maps as dicts in canonical key order, ``time`` as :class:`Instant`,
    ``bytes`` as :class:`Blob`, ``hash`` as ``blake3:<hex>``; other scalars, enums and refs as they are."""
    if value is None:
        return None
    tk = kind_of(t)
    if tk is Kind.OPTIONAL:
        return view_value(schema, cast(ir.Optional, t).inner, value)
    if tk is Kind.ARRAY:
        item = cast(ir.Array, t).item
        return tuple(view_value(schema, item, v) for v in value)
    if tk is Kind.MAP:
        m = cast(ir.Map, t)
        order = map_order(schema, m.key)
        return {k: view_value(schema, m.value, value[k]) for k in sorted(value, key=order)}
    if tk is Kind.TIME:
        return Instant(time_to_ns(value))
    if tk is Kind.BYTES:
        return Blob(bytes(value))
    if tk is Kind.HASH:
        return format_id(bytes(value))
    if tk is Kind.NAMED:
        decl = schema[cast(ir.Named, t).name]
        dk = kind_of(decl)
        if dk is Kind.SHAPE:
            shape = cast(ir.Shape, decl)
            return Record(shape.name, _fields(schema, shape.fields, value))
        if dk is Kind.UNION:
            union = cast(ir.Union_, decl)
            ((name, body),) = value.items()
            variant = next(v for v in union.variants if v.name == name)
            return Variant(name, Record(f"{union.name}.{name}", _fields(schema, variant.fields, body or {})))
    return value


def _fields(schema: ir.Schema, fields: tuple[ir.Field, ...], value: dict[str, Any]) -> dict[str, Any]:
    return {f.name: view_value(schema, f.type, value.get(f.name)) for f in fields}

