"""Writer: a wire value (lists, dicts and scalars) of an IR type -> its canonical payload bytes (the reference encoder).

Used when the schema has an ``f32`` (msgpack-python writes every float with one width) and by the reference path.
Every head is the smallest the table of :mod:`fsf.fsv.format` allows.
"""

from __future__ import annotations

import struct
from typing import Any, cast

from fsf import ir
from fsf.fsv.format import BY_NAME, Family, Head, widths
from fsf.ir.kinds import (
    K_ARRAY,
    K_BOOL,
    K_BYTES,
    K_ENUM,
    K_FLOAT,
    K_HASH,
    K_INT,
    K_MAP,
    K_NAMED,
    K_OPTIONAL,
    K_REF,
    K_SHAPE,
    K_STR,
    K_TIME,
    is_named_kind,
    kind_of,
)

# The heads a value may take, narrowest first (fsf.fsv.format.widths): the first whose canonical range holds the
# value is its one canonical head. Each entry is (lo, hi, head byte, field size, signed, fix form).
_Width = tuple[int, int, int, int, bool, bool]



def _widths(heads: tuple[Head, ...]) -> tuple[_Width, ...]:
    return tuple((h.lo or 0, h.hi or 0, h.first, h.size, h.signed, h.last != h.first) for h in heads)


_NON_NEGATIVE = _widths(widths(Family.INT))
_NEGATIVE = _widths(widths(Family.INT, negative=True))
_STR_WIDTHS = _widths(widths(Family.STR))
_BIN_WIDTHS = _widths(widths(Family.BIN))
_ARR_WIDTHS = _widths(widths(Family.ARRAY))
_MAP_WIDTHS = _widths(widths(Family.MAP))
_NIL = BY_NAME["nil"].first
_FALSE = BY_NAME["false"].first
_TRUE = BY_NAME["true"].first
_F32 = BY_NAME["float32"].first
_F64 = BY_NAME["float64"].first


def _w_head(n: int, table: tuple[_Width, ...], out: bytearray) -> None:
    """The smallest head of ``table`` for argument ``n`` (an int's value, a length or a count)."""
    for lo, hi, first, size, signed, fix in table:  # noqa: B007 (the head found is used after the loop)
        if lo <= n <= hi:
            break
    # No range holds n: the loop ends on the widest head, whose to_bytes raises OverflowError before any write.
    if fix:
        out.append(first + n - lo)
    else:
        out += bytes([first]) + n.to_bytes(size, "big", signed=signed)


def _w_int(v: int, out: bytearray) -> None:
    _w_head(v, _NON_NEGATIVE if v >= 0 else _NEGATIVE, out)


def _w_str(s: str, out: bytearray) -> None:
    raw = s.encode("utf-8")
    _w_head(len(raw), _STR_WIDTHS, out)
    out += raw


def _w_bin(b: bytes, out: bytearray) -> None:
    _w_head(len(b), _BIN_WIDTHS, out)
    out += b


def write_wire(schema: ir.Schema, t: ir.Type, wire: Any, out: bytearray) -> None:
    """Append the canonical bytes of wire value ``wire`` of type ``t`` (already valid) to ``out``."""
    k = kind_of(t)
    if k is K_OPTIONAL:
        if wire is None:
            out.append(_NIL)
            return
        t = cast(ir.Optional, t).inner
        k = kind_of(t)
    if k is K_BOOL:
        out.append(_TRUE if wire else _FALSE)
    elif k is K_INT or k is K_TIME:
        _w_int(wire, out)
    elif k is K_FLOAT:
        out += struct.pack(">Bf", _F32, wire) if cast(ir.Float, t).width == 32 else struct.pack(">Bd", _F64, wire)
    elif k is K_STR:
        _w_str(wire, out)
    elif k is K_BYTES or k is K_HASH or k is K_REF:
        _w_bin(wire, out)
    elif k is K_ARRAY:
        a = cast(ir.Array, t)
        _w_head(len(wire), _ARR_WIDTHS, out)
        for item in wire:
            write_wire(schema, a.item, item, out)
    elif k is K_MAP:
        m = cast(ir.Map, t)
        _w_head(len(wire), _MAP_WIDTHS, out)
        key_t: ir.Type = ir.Int("u32", 0, 0xFFFFFFFF) if is_enum(schema, m.key) else m.key
        for key, v in wire.items():
            write_wire(schema, key_t, key, out)
            write_wire(schema, m.value, v, out)
    else:
        assert k is K_NAMED
        decl = schema[cast(ir.Named, t).name]
        dk = kind_of(decl)
        if dk is K_ENUM:
            _w_int(wire, out)
        elif dk is K_SHAPE:
            _w_head(len(wire), _ARR_WIDTHS, out)
            for f, item in zip(cast(ir.Shape, decl).fields, wire, strict=True):
                write_wire(schema, f.type, item, out)
        else:
            _w_head(len(wire), _ARR_WIDTHS, out)
            _w_int(wire[0], out)
            for f, item in zip(cast(ir.Union_, decl).variants[wire[0]].fields, wire[1:], strict=True):
                write_wire(schema, f.type, item, out)


def is_enum(schema: ir.Schema, t: ir.Type) -> bool:
    return is_named_kind(schema, t, K_ENUM)
