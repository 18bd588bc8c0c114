"""Views, the value model: a canonical Python value + its IR type -> the objects a template reads by field name.

Shapes become :class:`Record`, unions :class:`Variant`, ``time`` :class:`Instant`, ``bytes`` :class:`Blob`; maps
are ordered as FSV orders their keys, so a template iterates in one deterministic order. :func:`view_value` is
the definition (a walk that asks every node its kind); :class:`ModelPlan` compiles the same mapping into one
function per type, which is what rendering runs (and is tested against the walk).
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


Convert = Callable[[Any], Any]
"""A compiled conversion of a present (not ``None``) value of one type to its template form."""


class ModelPlan:
    """:func:`view_value` compiled: ``ModelPlan(schema)(t, value) == view_value(schema, t, value)``, in one pass.

    Each type becomes one function (``None`` where the template form is the value itself: strings, numbers,
    booleans, enums, refs), so building the model does no per-node dispatch on kinds, and a record whose fields
    come in declaration order (as decoding gives them) is copied in one step before its few conversions. Named
    types are compiled on first use and kept by name; a render makes its own plan (a few closures per type).

    >>> ModelPlan(schema)(ir.Named("ForgePlan"), plan).tasks[0].id  # doctest: +SKIP
    'T1'
    """

    __slots__ = ("_building", "_named", "_schema")

    def __init__(self, schema: ir.Schema) -> None:
        self._schema = schema
        self._named: dict[str, Convert | None] = {}
        self._building: set[str] = set()

    def __call__(self, t: ir.Type, value: Any) -> Any:
        if value is None:
            return None
        convert = self.convert(t)
        return value if convert is None else convert(value)

    def convert(self, t: ir.Type) -> Convert | None:
        """The conversion of present values of ``t``, or ``None`` when a value is its own template form."""
        tk = kind_of(t)
        if tk is Kind.OPTIONAL:
            return self.convert(cast(ir.Optional, t).inner)  # None never reaches a conversion (see _maybe)
        if tk is Kind.ARRAY:
            item = cast(ir.Array, t).item
            return _array(_maybe(self.convert(item), item))
        if tk is Kind.MAP:
            m = cast(ir.Map, t)
            return _map(map_order(self._schema, m.key), _maybe(self.convert(m.value), m.value))
        if tk is Kind.TIME:
            return lambda v: Instant(time_to_ns(v))
        if tk is Kind.BYTES:
            return lambda v: Blob(bytes(v))
        if tk is Kind.HASH:
            return lambda v: format_id(bytes(v))
        if tk is Kind.NAMED:
            return self._named_convert(cast(ir.Named, t).name)
        return None

    def _named_convert(self, name: str) -> Convert | None:
        if name in self._named:
            return self._named[name]
        if name in self._building:  # a recursive type: bound by name, looked up when a value is converted
            named = self._named
            return lambda v: cast(Convert, named[name])(v)
        decl = self._schema[name]
        dk = kind_of(decl)
        if dk is not Kind.SHAPE and dk is not Kind.UNION:
            self._named[name] = None
            return None
        self._building.add(name)
        built: Convert
        if dk is Kind.SHAPE:
            built = self._record(name, cast(ir.Shape, decl).fields)
        else:
            union = cast(ir.Union_, decl)
            built = _union({v.name: self._record(f"{union.name}.{v.name}", v.fields) for v in union.variants})
        self._named[name] = built
        return built

    def _record(self, type_name: str, fields: tuple[ir.Field, ...]) -> Callable[[Any], Record]:
        names = tuple(f.name for f in fields)
        converted = tuple((f.name, c) for f in fields if (c := self.convert(f.type)) is not None)

        def record(v: Any) -> Record:
            # A decoded record holds every field in declaration order: one copy. Anything else (a value given in
            # another order, an absent optional left out) is read field by field, absent as None.
            got = dict(v) if tuple(v) == names else _read_fields(names, v)
            for field, convert in converted:
                x = got[field]
                if x is not None:
                    got[field] = convert(x)
            return Record(type_name, got)

        return record


def _read_fields(names: tuple[str, ...], value: dict[str, Any]) -> dict[str, Any]:
    return dict(zip(names, map(value.get, names), strict=True))


def _array(convert: Convert | None) -> Convert:
    if convert is None:
        return tuple
    return lambda v: tuple(map(convert, v))


def _map(order: Callable[[Any], Any], convert: Convert | None) -> Convert:
    if convert is None:
        return lambda v: {k: v[k] for k in sorted(v, key=order)}
    return lambda v: {k: convert(v[k]) for k in sorted(v, key=order)}


def _union(variants: dict[str, Callable[[Any], Record]]) -> Convert:
    def variant(v: Any) -> Variant:
        ((name, body),) = v.items()
        return Variant(name, variants[name](body or {}))

    return variant


def _maybe(convert: Convert | None, t: ir.Type) -> Convert | None:
    """``convert`` for the items of a container: ``None`` items (of an optional type) stay ``None``."""
    if convert is None or kind_of(t) is not Kind.OPTIONAL:
        return convert
    return lambda v: None if v is None else convert(v)
