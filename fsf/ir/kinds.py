"""IR: an IR type or declaration -> its :class:`Kind`; the one table the back ends dispatch on today.

Back ends (compiler, ids, codec, views, codegen) ask this table what an IR node is instead of walking an
``isinstance`` chain, and dispatch through a ``dict`` keyed by :class:`Kind`. The table is a dict keyed by the
exact IR class, so a lookup is O(1) and an IR class added without a kind fails loudly (``KeyError``).

API::

    Kind                       # IntEnum: BOOL INT FLOAT STR BYTES HASH TIME REF NAMED OPTIONAL ARRAY MAP
                               #          (type expressions) and SHAPE ENUM UNION (declarations)
    kind_of(node) -> Kind      # of an ir.Type or an ir.Decl; kind_of(ir.Named("T")) is Kind.NAMED
    decl_kind(schema, t)       # like kind_of, but a Named is resolved to SHAPE / ENUM / UNION
    is_named_kind(schema, t, k)  # t is a Named whose declaration is of kind k (e.g. an enum key)
    LEAVES, CONTAINERS, DECLS  # frozensets of kinds: scalars, OPTIONAL/ARRAY/MAP, SHAPE/ENUM/UNION

Dispatch idiom::

    _HANDLERS: dict[Kind, Callable[[ir.Type], str]] = {Kind.BOOL: _bool, Kind.INT: _int, ...}
    _HANDLERS[kind_of(t)](t)
"""

from __future__ import annotations

import enum

from fsf import ir


class Kind(enum.IntEnum):
    """What an IR node is; type expressions first, then declarations."""

    BOOL = 1
    INT = 2
    FLOAT = 3
    STR = 4
    BYTES = 5
    HASH = 6
    TIME = 7
    REF = 8
    NAMED = 9
    OPTIONAL = 10
    ARRAY = 11
    MAP = 12
    SHAPE = 13
    ENUM = 14
    UNION = 15


BY_CLASS: dict[type, Kind] = {
    ir.Bool: Kind.BOOL,
    ir.Int: Kind.INT,
    ir.Float: Kind.FLOAT,
    ir.Str: Kind.STR,
    ir.Bytes: Kind.BYTES,
    ir.Hash: Kind.HASH,
    ir.Time: Kind.TIME,
    ir.Ref: Kind.REF,
    ir.Named: Kind.NAMED,
    ir.Optional: Kind.OPTIONAL,
    ir.Array: Kind.ARRAY,
    ir.Map: Kind.MAP,
    ir.Shape: Kind.SHAPE,
    ir.Enum: Kind.ENUM,
    ir.Union_: Kind.UNION,
}

LEAVES: frozenset[Kind] = frozenset(
    {Kind.BOOL, Kind.INT, Kind.FLOAT, Kind.STR, Kind.BYTES, Kind.HASH, Kind.TIME, Kind.REF})
CONTAINERS: frozenset[Kind] = frozenset({Kind.OPTIONAL, Kind.ARRAY, Kind.MAP})
DECLS: frozenset[Kind] = frozenset({Kind.SHAPE, Kind.ENUM, Kind.UNION})


# Each kind as a plain module global as well: the reference reader and writer compare kinds per node, and a
# global load is several times cheaper than an enum attribute lookup.
K_ARRAY = Kind.ARRAY
K_BOOL = Kind.BOOL
K_BYTES = Kind.BYTES
K_ENUM = Kind.ENUM
K_FLOAT = Kind.FLOAT
K_HASH = Kind.HASH
K_INT = Kind.INT
K_MAP = Kind.MAP
K_NAMED = Kind.NAMED
K_OPTIONAL = Kind.OPTIONAL
K_REF = Kind.REF
K_SHAPE = Kind.SHAPE
K_STR = Kind.STR
K_TIME = Kind.TIME


def kind_of(node: ir.Type | ir.Decl) -> Kind:
    """The kind of an IR type expression or declaration (exact class; IR classes are final)."""
    return BY_CLASS[type(node)]


def decl_kind(schema: ir.Schema, t: ir.Type | ir.Decl) -> Kind:
    """Like :func:`kind_of`, but a ``Named`` use is resolved through ``schema`` to SHAPE, ENUM or UNION."""
    if type(t) is ir.Named:
        return BY_CLASS[type(schema[t.name])]
    return BY_CLASS[type(t)]


def is_named_kind(schema: ir.Schema, t: ir.Type, kind: Kind) -> bool:
    """``t`` is a ``Named`` use of a declaration of ``kind`` (SHAPE, ENUM or UNION)."""
    return type(t) is ir.Named and BY_CLASS[type(schema[t.name])] is kind
