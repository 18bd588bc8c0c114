"""Writer: a wire value (lists, dicts and scalars) of an IR type -> its canonical payload bytes (the reference encoder).

Used when the schema has an ``f32`` (msgpack-python writes every float with one width) and by the reference path.
"""

from __future__ import annotations

import struct
from typing import Any

from fsf import ir


def _w_int(v: int, out: bytearray) -> None:
    if v >= 0:
        if v < 0x80:
            out.append(v)
        elif v <= 0xFF:
            out += b"\xcc" + v.to_bytes(1, "big")
        elif v <= 0xFFFF:
            out += b"\xcd" + v.to_bytes(2, "big")
        elif v <= 0xFFFFFFFF:
            out += b"\xce" + v.to_bytes(4, "big")
        else:
            out += b"\xcf" + v.to_bytes(8, "big")
    elif v >= -32:
        out.append(v & 0xFF)
    elif v >= -0x80:
        out += b"\xd0" + v.to_bytes(1, "big", signed=True)
    elif v >= -0x8000:
        out += b"\xd1" + v.to_bytes(2, "big", signed=True)
    elif v >= -0x80000000:
        out += b"\xd2" + v.to_bytes(4, "big", signed=True)
    else:
        out += b"\xd3" + v.to_bytes(8, "big", signed=True)


def _w_len(n: int, fix: int | None, fix_max: int, codes: bytes, out: bytearray) -> None:
    """A length head: a fix form when there is one and ``n`` fits, else the 8/16/32-bit form."""
    if fix is not None and n <= fix_max:
        out.append(fix | n)
    elif codes[0] and n <= 0xFF:
        out += bytes([codes[0], n])
    elif n <= 0xFFFF:
        out += bytes([codes[1]]) + n.to_bytes(2, "big")
    else:
        out += bytes([codes[2]]) + n.to_bytes(4, "big")


def _w_str(s: str, out: bytearray) -> None:
    raw = s.encode("utf-8")
    _w_len(len(raw), 0xA0, 31, b"\xd9\xda\xdb", out)
    out += raw


def _w_bin(b: bytes, out: bytearray) -> None:
    _w_len(len(b), None, -1, b"\xc4\xc5\xc6", out)
    out += b


def write_wire(schema: ir.Schema, t: ir.Type, wire: Any, out: bytearray) -> None:
    """Append the canonical bytes of wire value ``wire`` of type ``t`` (already valid) to ``out``."""
    if isinstance(t, ir.Optional):
        if wire is None:
            out.append(0xC0)
            return
        t = t.inner
    if isinstance(t, ir.Bool):
        out.append(0xC3 if wire else 0xC2)
    elif isinstance(t, (ir.Int, ir.Time)):
        _w_int(wire, out)
    elif isinstance(t, ir.Float):
        out += struct.pack(">Bf", 0xCA, wire) if t.width == 32 else struct.pack(">Bd", 0xCB, wire)
    elif isinstance(t, ir.Str):
        _w_str(wire, out)
    elif isinstance(t, (ir.Bytes, ir.Hash, ir.Ref)):
        _w_bin(wire, out)
    elif isinstance(t, ir.Array):
        _w_len(len(wire), 0x90, 15, b"\x00\xdc\xdd", out)
        for item in wire:
            write_wire(schema, t.item, item, out)
    elif isinstance(t, ir.Map):
        _w_len(len(wire), 0x80, 15, b"\x00\xde\xdf", out)
        key_t: ir.Type = ir.Int("u32", 0, 0xFFFFFFFF) if is_enum(schema, t.key) else t.key
        for k, v in wire.items():
            write_wire(schema, key_t, k, out)
            write_wire(schema, t.value, v, out)
    else:
        assert isinstance(t, ir.Named)
        decl = schema[t.name]
        if isinstance(decl, ir.Enum):
            _w_int(wire, out)
        elif isinstance(decl, ir.Shape):
            _w_len(len(wire), 0x90, 15, b"\x00\xdc\xdd", out)
            for f, item in zip(decl.fields, wire, strict=True):
                write_wire(schema, f.type, item, out)
        else:
            _w_len(len(wire), 0x90, 15, b"\x00\xdc\xdd", out)
            _w_int(wire[0], out)
            for f, item in zip(decl.variants[wire[0]].fields, wire[1:], strict=True):
                write_wire(schema, f.type, item, out)


def is_enum(schema: ir.Schema, t: ir.Type) -> bool:
    return isinstance(t, ir.Named) and isinstance(schema[t.name], ir.Enum)
