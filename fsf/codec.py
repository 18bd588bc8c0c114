"""Codec: Python values of an IR schema <-> FSV bytes (container header + canonical positional msgpack).

The layers, each IR-driven and kept apart so a later stage can fuse them:

* the container header (:func:`read_header`, :func:`pack_header`) and content ids (:func:`content_id`);
* Python form <-> wire form (nested lists, dicts and scalars as msgpack reads and writes them): a
  :class:`Plan` compiles, once per schema, one converter function per named type each way;
* wire form <-> payload bytes: ``msgpack.packb``, or the canonical writer :func:`write_wire` when the schema
  has an ``f32`` (msgpack-python writes every float with one width);
* the reference reader :func:`read_reference`: a precise walk over the bytes with the IR that checks every
  canonical rule itself and reports the exact offset and code of the first problem.

Decoding runs the fast path (msgpack's C unpacker with limits derived from the input size, conversion,
``schema.validate``, canonical check by re-packing and comparing bytes); on any failure it re-runs the reference
reader, which raises the precise :class:`fsf.DecodeError`. The format is specified in ``docs/fsv.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import struct
import sys
from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal, NoReturn

import attrs
import blake3
import msgpack

from fsf import ir
from fsf.accel import AVAILABLE as _ACCEL_AVAILABLE
from fsf.errors import DecodeError, UsageError, ValidationError
from fsf.ids import format_id
from fsf.limits import MAX_DEPTH as MAX_DEPTH  # re-exported: the nesting limit (fsf.limits)
from fsf.native import AVAILABLE as _NATIVE_AVAILABLE

if TYPE_CHECKING:
    from fsf.accel import Accel
    from fsf.schema import Schema

MAGIC = b"\x89FSV"
"""The first four bytes of every FSV value (0x89 catches 7-bit transports, as in PNG)."""
FORMAT_VERSION = 1
HEADER_SIZE = len(MAGIC) + 1 + 32
"""Magic, one version byte, the 32-byte id digest of the root type."""

# The fast path hands msgpack a cap on every array and map header: msgpack allocates a declared container up
# front, so a hostile input of nested headers could otherwise claim depth x count x 8 bytes. With at most 1024
# open containers (msgpack's own stack) the transient allocation stays below about 32 x input + 1 MiB; larger
# legitimate containers simply take the reference path.
_FAST_CAP_DIVISOR = 256
_FAST_CAP_FLOOR = 128

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

PATHS = ("native", "accel", "fused", "reference")
"""The execution paths of encode and decode (``docs/fsv.md``, "Execution paths"): the native one-pass decoder
and encoder (``fsf/_native.c``); msgspec's C decoder and encoder with fused Python conversions; fused
pure-Python conversions over msgpack; the reference reader and canonical writer with the specialised
validator. All give the same bytes, values, codes, offsets and messages. A path whose extension is missing
(native not built, msgspec not installed) takes the next one."""
DEFAULT_PATH = "native" if _NATIVE_AVAILABLE else "accel" if _ACCEL_AVAILABLE else "fused"
"""The path used when none is asked for: read once, when this module is imported."""

_MSGSPEC_PATHS = ("native", "accel")
"""The paths that pack with msgspec's encoder (and decode with it when the native decoder is not built)."""

Convert = Callable[[Any, int], Any]
ToWire = Callable[[Any], Any]


def content_id(data: bytes | bytearray | memoryview) -> str:
    """The content id of FSV bytes: ``blake3:`` + hex of BLAKE3 over the whole value (header included).

    >>> content_id(b"")
    'blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'
    """
    return format_id(blake3.blake3(bytes(data)).digest())


@attrs.frozen
class Header:
    """The container header of an FSV value."""

    version: int
    root_id: bytes
    payload_offset: int
    payload_size: int


_HEAD = MAGIC + bytes([FORMAT_VERSION])


def pack_header(root_id: bytes) -> bytes:
    """The header bytes for a value whose root type has the 32-byte id digest ``root_id``."""
    return MAGIC + bytes([FORMAT_VERSION]) + root_id


def read_header(data: bytes) -> Header:
    """Check and split the container header (needs no schema); raises :class:`fsf.DecodeError`."""
    n = len(data)
    if bytes(data[: len(MAGIC)]) != MAGIC[: min(n, len(MAGIC))]:
        head = " ".join(f"{b:02x}" for b in data[: len(MAGIC)])
        raise DecodeError("bad_magic", f"not an FSV value: starts with `{head}`, expected `89 46 53 56`", 0)
    if n < len(MAGIC) + 1:
        raise DecodeError("truncated", "input ends inside the FSV header", n)
    version = data[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise DecodeError("unsupported_version",
                          f"unsupported FSV format version {version}; this library reads version {FORMAT_VERSION}",
                          len(MAGIC))
    if n < HEADER_SIZE:
        raise DecodeError("truncated", "input ends inside the root type id of the FSV header", n)
    return Header(version, bytes(data[len(MAGIC) + 1 : HEADER_SIZE]), HEADER_SIZE, n - HEADER_SIZE)


# ---------------------------------------------------------------------------------------------------------------
# Canonical writer: wire form -> payload bytes (used when the schema has f32, and as the reference encoder).


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
        key_t: ir.Type = ir.Int("u32", 0, 0xFFFFFFFF) if _is_enum(schema, t.key) else t.key
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


def _is_enum(schema: ir.Schema, t: ir.Type) -> bool:
    return isinstance(t, ir.Named) and isinstance(schema[t.name], ir.Enum)


# ---------------------------------------------------------------------------------------------------------------
# Python form <-> wire form, compiled once per schema.


class _Mismatch(Exception):
    """The fast path met something it does not handle; the reference reader will say what exactly."""


def time_to_ns(value: Any) -> int:
    """Nanoseconds since the Unix epoch of a valid ``time`` value (integer ns or an aware datetime)."""
    if isinstance(value, _dt.datetime):
        delta = value - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    return int(value)


def _identity(x: Any) -> Any:
    return x


class Plan:
    """The compiled converters of one schema: Python form <-> wire form for every named type.

    All converters are built on first use, declarations in dependency order (so a use of another type calls its
    converter directly; only uses inside a recursive cycle go through a lookup), iteratively however long the
    chains of types are. Leaf conversions that are the identity are folded away. One plan per
    :class:`fsf.Schema`, cached on it.
    """

    def __init__(self, schema: ir.Schema) -> None:
        self.ir = schema
        self._to_wire: dict[str, ToWire] = {}
        self._from_wire: dict[str, Convert] = {}
        self._fused_decode: dict[str, Callable[[Any], Any]] | None = None
        self._fused_encode: dict[str, Callable[[Any], Any]] | None = None
        self._fused_check: dict[str, Callable[[Any], Any]] | None = None
        self._accel: tuple[Accel, dict[str, Callable[[Any], Any]]] | Literal[False] | None = None
        self._native: Any = None
        self.lane: _Lane | Literal[False] | None = None
        self.node_of = {decl.name: i for i, decl in enumerate(schema.decls)}
        """The node of each named type in the native codec's table (:func:`fsf.native.program`)."""
        self.max_count = 0
        f32 = set()
        for decl in schema.decls:
            if isinstance(decl, ir.Shape):
                self.max_count = max(self.max_count, len(decl.fields))
            elif isinstance(decl, ir.Union_):
                self.max_count = max([self.max_count, *(1 + len(v.fields) for v in decl.variants)])
            stack = list(ir.decl_types(decl))
            while stack:
                t = stack.pop()
                if isinstance(t, ir.Float) and t.width == 32:
                    f32.add(decl.name)
                if isinstance(t, (ir.Array, ir.Map)):
                    self.max_count = max(self.max_count, t.hi)
                stack.extend(ir.children(t))
        uses = {decl.name: set(ir.references(decl)) for decl in schema.decls}
        grown = True
        while grown:  # every type that uses one with an f32, however indirectly
            grown = False
            for name, used in uses.items():
                if name not in f32 and used & f32:
                    f32.add(name)
                    grown = True
        self.f32_roots = frozenset(f32)
        """Types whose values may hold an ``f32``: msgpack-python and msgspec write every float as float 64, so
        their payloads come from the canonical writer :func:`write_wire`."""

    def fused_decoder(self, name: str) -> Callable[[Any], Any]:
        """The fused decoder of ``name``: unpacked wire lists -> Python form, validating (:mod:`fsf.fused`)."""
        if self._fused_decode is None:
            from fsf.fused import decoders

            self._fused_decode = decoders(self.ir, "lists", MAX_DEPTH)
        return self._fused_decode[name]

    def fused_encoder(self, name: str) -> Callable[[Any], Any]:
        """The fused encoder of ``name``: Python form -> wire lists, validating (:mod:`fsf.fused`)."""
        if self._fused_encode is None:
            from fsf.fused import encoders

            self._fused_encode = encoders(self.ir, MAX_DEPTH)
        return self._fused_encode[name]

    def fused_checker(self, name: str) -> Callable[[Any], Any]:
        """The fused encoder of ``name`` that also proves text UTF-8: it raises on anything not valid."""
        if self._fused_check is None:
            from fsf.fused import encoders

            self._fused_check = encoders(self.ir, MAX_DEPTH, utf8=True)
        return self._fused_check[name]

    def accel(self) -> tuple[Accel, dict[str, Callable[[Any], Any]]] | None:
        """The msgspec types of this schema and the fused Struct -> Python form converters, or None when the
        accelerated path cannot serve it (:mod:`fsf.accel`)."""
        if self._accel is None:
            from fsf import accel, fused

            built = accel.build(self.ir)
            self._accel = (built, fused.decoders(self.ir, "structs", MAX_DEPTH, built.variants)) if built else False
        return self._accel or None

    def native(self) -> Any | None:
        """The native codec of this schema (:mod:`fsf.native`), or None when it is not built."""
        if self._native is None:
            from fsf import native

            self._native = native.codec(self.ir) or False
        return self._native or None

    def to_wire(self, name: str) -> ToWire:
        """The converter of *valid* Python values of ``name`` to wire form."""
        if not self._to_wire:
            self._build()
        return self._to_wire[name]

    def from_wire(self, name: str) -> Convert:
        """The converter of wire values of ``name`` to the canonical Python form (raises on anything odd)."""
        if not self._from_wire:
            self._build()
        return self._from_wire[name]

    def _build(self) -> None:
        # Built aside and published whole, so a concurrent caller never sees a half-built table.
        builder = _Builder(self.ir)
        for name in _dependency_order(self.ir):
            decl = self.ir[name]
            builder._to_wire[name] = builder._decl_to_wire(decl)
            builder._from_wire[name] = builder._decl_from_wire(decl)
        self._from_wire = builder._from_wire
        self._to_wire = builder._to_wire


class _Builder:
    """Builds the converters of one schema (see :class:`Plan`)."""

    def __init__(self, schema: ir.Schema) -> None:
        self.ir = schema
        self._to_wire: dict[str, ToWire] = {}
        self._from_wire: dict[str, Convert] = {}

    # -- Python -> wire (the value is already valid) ------------------------------------------------------------

    def _named_to_wire(self, name: str) -> ToWire:
        built = self._to_wire.get(name)
        if built is not None:
            return built

        def lazy(x: Any) -> Any:  # a use inside a recursive cycle
            return self._to_wire[name](x)

        return lazy

    def _decl_to_wire(self, decl: ir.Decl) -> ToWire:
        if isinstance(decl, ir.Enum):
            index = {m.name: i for i, m in enumerate(decl.members)}
            return index.__getitem__
        if isinstance(decl, ir.Shape):
            return self._fields_to_wire(decl.fields)
        variants = {v.name: (i, self._fields_to_wire(v.fields)) for i, v in enumerate(decl.variants)}

        def union(x: dict[str, Any]) -> list[Any]:
            ((vname, body),) = x.items()
            i, fields = variants[vname]
            return [i, *fields(body)]

        return union

    def _fields_to_wire(self, fields: tuple[ir.Field, ...]) -> Callable[[dict[str, Any]], list[Any]]:
        names = tuple(f.name for f in fields)
        convs = tuple(self._type_to_wire(f.type) for f in fields)
        if all(c is _identity for c in convs):
            return lambda x: list(map(x.get, names))
        pairs = tuple(zip(names, convs, strict=True))
        return lambda x: [conv(x.get(fname)) for fname, conv in pairs]

    def _type_to_wire(self, t: ir.Type) -> ToWire:
        if isinstance(t, ir.Optional):
            inner = self._type_to_wire(t.inner)
            if inner is _identity:
                return _identity
            return lambda x: None if x is None else inner(x)
        if isinstance(t, ir.Float):
            return _float_to_wire
        if isinstance(t, ir.Time):
            return time_to_ns
        if isinstance(t, ir.Ref):
            return _ref_to_wire
        if isinstance(t, ir.Array):
            item = self._type_to_wire(t.item)
            if item is _identity:
                return _identity  # msgpack packs any list; a tuple is refused by validate first
            return lambda x: [item(v) for v in x]
        if isinstance(t, ir.Map):
            value = self._type_to_wire(t.value)
            if _is_enum(self.ir, t.key):
                decl = self.ir[t.key.name]  # type: ignore[union-attr]
                index = {m.name: i for i, m in enumerate(decl.members)}  # type: ignore[union-attr]
                return lambda x: {index[k]: value(x[k]) for k in sorted(x, key=index.__getitem__)}
            return lambda x: {k: value(x[k]) for k in sorted(x)}
        if isinstance(t, ir.Named):
            return self._named_to_wire(t.name)
        return _identity

    # -- wire -> Python (the fast path: optimistic; anything odd raises and the reference reader takes over) ----
    #
    # A conversion that would be the identity is folded away (``_keep``): whatever the wire holds there is then
    # judged by ``schema.validate`` on the converted value, and any respelling by the byte comparison after it.

    def _named_from_wire(self, name: str) -> Convert:
        built = self._from_wire.get(name)
        if built is not None:
            return built

        def lazy(x: Any, d: int) -> Any:  # a use inside a recursive cycle
            return self._from_wire[name](x, d)

        return lazy

    def _decl_from_wire(self, decl: ir.Decl) -> Convert:
        if isinstance(decl, ir.Enum):
            members = tuple(m.name for m in decl.members)

            def enum(x: Any, d: int) -> str:
                if type(x) is not int or x < 0:
                    raise _Mismatch
                return members[x]

            return enum
        if isinstance(decl, ir.Shape):
            return self._fields_from_wire(decl.fields, 0)
        variants = tuple((v.name, len(v.fields), self._fields_from_wire(v.fields, 1)) for v in decl.variants)

        def union(x: Any, d: int) -> dict[str, Any]:
            if type(x) is not list or not x or type(x[0]) is not int or x[0] < 0:
                raise _Mismatch
            vname, n, fields = variants[x[0]]
            if len(x) != 1 + n:
                raise _Mismatch
            return {vname: fields(x, d)}

        return union

    def _fields_from_wire(self, fields: tuple[ir.Field, ...], skip: int) -> Convert:
        """Fields at positions ``skip``.. of a wire array (a union's array starts with the variant index)."""
        names = tuple(f.name for f in fields)
        n = len(names) + skip
        special = tuple((i + skip, f.name, conv) for i, f in enumerate(fields)
                        if (conv := self._type_from_wire(f.type)) is not _keep)
        if not special:
            def plain(x: Any, d: int) -> dict[str, Any]:
                if type(x) is not list or len(x) != n:
                    raise _Mismatch
                return dict(zip(names, x[skip:] if skip else x, strict=True))

            return plain

        def mixed(x: Any, d: int) -> dict[str, Any]:
            if type(x) is not list or len(x) != n or d > MAX_DEPTH:
                raise _Mismatch
            out = dict(zip(names, x[skip:] if skip else x, strict=True))
            d += 1
            for i, fname, conv in special:
                out[fname] = conv(x[i], d)
            return out

        return mixed

    def _type_from_wire(self, t: ir.Type) -> Convert:
        if isinstance(t, ir.Optional):
            inner = self._type_from_wire(t.inner)
            if inner is _keep:
                return _keep

            def optional(x: Any, d: int) -> Any:
                return None if x is None else inner(x, d)

            return optional
        if isinstance(t, ir.Float):
            return _float_from_wire
        if isinstance(t, ir.Time):
            return _time_from_wire
        if isinstance(t, ir.Ref):
            return _ref_from_wire
        if isinstance(t, ir.Array):
            item = self._type_from_wire(t.item)
            if item is _keep:
                return _keep

            def array(x: Any, d: int) -> list[Any]:
                if type(x) is not list or d > MAX_DEPTH:
                    raise _Mismatch
                d += 1
                return [item(v, d) for v in x]

            return array
        if isinstance(t, ir.Map):
            value = self._type_from_wire(t.value)
            if _is_enum(self.ir, t.key):
                decl = self.ir[t.key.name]  # type: ignore[union-attr]
                members = tuple(m.name for m in decl.members)  # type: ignore[union-attr]

                def enum_map(x: Any, d: int) -> dict[str, Any]:
                    if type(x) is not dict or d > MAX_DEPTH:
                        raise _Mismatch
                    keys = list(x)
                    if any(type(k) is not int or k < 0 for k in keys) or keys != sorted(set(keys)):
                        raise _Mismatch
                    d += 1
                    return {members[k]: value(v, d) for k, v in x.items()}

                return enum_map

            def plain_map(x: Any, d: int) -> dict[Any, Any]:
                if type(x) is not dict or d > MAX_DEPTH:
                    raise _Mismatch
                if any(a >= b for a, b in pairwise(x)):
                    raise _Mismatch
                if value is _keep:
                    return x
                d += 1
                return {k: value(v, d) for k, v in x.items()}

            return plain_map
        if isinstance(t, ir.Named):
            return self._named_from_wire(t.name)
        return _keep


def _dependency_order(schema: ir.Schema) -> list[str]:
    """Every declared name, each after the names it uses by value (cycles broken anywhere); iterative."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = in progress, 2 = done
    for root in schema.names:
        if root in state:
            continue
        state[root] = 1
        work = [(root, iter(sorted(set(ir.references(schema[root])))))]
        while work:
            name, deps = work[-1]
            for dep in deps:
                if dep not in state:
                    state[dep] = 1
                    work.append((dep, iter(sorted(set(ir.references(schema[dep]))))))
                    break
            else:
                work.pop()
                state[name] = 2
                order.append(name)
    return order


def _keep(x: Any, d: int) -> Any:
    return x


def _float_to_wire(x: Any) -> float:
    return float(x) + 0.0  # -0.0 + 0.0 is +0.0: one zero on the wire


def _float_from_wire(x: Any, d: int) -> float:
    if type(x) is not float or (x == 0.0 and math.copysign(1.0, x) < 0.0):
        raise _Mismatch
    return x


def _time_from_wire(x: Any, d: int) -> int:
    if type(x) is not int:
        raise _Mismatch
    return x


def _ref_to_wire(x: str) -> bytes:
    return bytes.fromhex(x[7:])


def _ref_from_wire(x: Any, d: int) -> str:
    if type(x) is not bytes or len(x) != ir.HASH_SIZE:
        raise _Mismatch
    return "blake3:" + x.hex()


@attrs.frozen
class _Lane:
    """The native codec with every header worked out in advance: what a call that names no path runs first."""

    program: Any
    by_id: dict[bytes, int]
    """The root type's id digest -> its node."""
    by_name: dict[str, tuple[int, bytes]]
    """A type's name -> its node and its values' header."""


def _lane(schema: Schema) -> _Lane | None:
    plan = plan_of(schema)
    if plan.lane is None:
        program = plan.native()
        plan.lane = _Lane(program, {schema.id_bytes(n): plan.node_of[n] for n in schema.shapes},
                          {n: (plan.node_of[n], pack_header(schema.id_bytes(n))) for n in schema.shapes}
                          ) if program is not None else False
    return plan.lane or None


def plan_of(schema: Schema) -> Plan:
    """The codec plan of ``schema``, built once and cached on it."""
    plan = schema._codec
    if plan is None:
        plan = Plan(schema.ir)
        schema._codec = plan
    return plan


# ---------------------------------------------------------------------------------------------------------------
# Encode and decode.


def encode_payload(plan: Plan, name: str, value: Any) -> bytes:
    """The canonical payload bytes of a *valid* value of ``name`` (no header, no validation)."""
    wire = plan.to_wire(name)(value)
    if name in plan.f32_roots:
        out = bytearray()
        write_wire(plan.ir, ir.Named(name), wire, out)
        return bytes(out)
    return msgpack.packb(wire)  # type: ignore[no-any-return]


def encode(schema: Schema, name: str, value: Any, *, path: str | None = None) -> bytes:
    """Validate ``value`` as a ``name`` and return its FSV bytes (raises :class:`fsf.ValidationError`).

    The native encoder, or else the fused encoder, validates while it writes; if it refuses (the native one
    takes only the exact types of the canonical form; the packer refuses a lone surrogate), the next one tries,
    and last the validator runs and raises the exact error. ``path`` (see :data:`PATHS`) is for tests.
    """
    tried = False  # the native codec refused already: not again
    if path is None and DEFAULT_PATH == "native":  # the common call: straight to C, headers precomputed
        lane = _lane(schema)
        entry = lane.by_name.get(name) if lane is not None else None
        if lane is not None and entry is not None:
            try:
                data: bytes = lane.program.encode(value, *entry)
                return data
            except Exception:  # the general path below decides
                tried = True
    plan = plan_of(schema)
    path = path or DEFAULT_PATH
    if path != "reference":
        program = plan.native() if path == "native" and not tried else None
        if program is not None:
            try:
                data = program.encode(value, plan.node_of[name], pack_header(schema.id_bytes(name)))
                return data
            except Exception:  # a spelling it does not take, or an invalid value: the next path decides
                pass
        try:
            return pack_header(schema.id_bytes(name)) + _pack(plan, name, plan.fused_encoder(name)(value), path)
        except Exception:  # any refusal: the validator below says exactly what is wrong
            pass
    schema.validate(name, value, engine="vm" if path == "reference" else "fast")
    if path == "reference":  # the canonical writer, whatever the schema
        out = bytearray()
        write_wire(plan.ir, ir.Named(name), plan.to_wire(name)(value), out)
        payload = bytes(out)
    else:
        payload = encode_payload(plan, name, value)
    return pack_header(schema.id_bytes(name)) + payload


def _pack(plan: Plan, name: str, wire: Any, path: str) -> bytes:
    """The payload of the wire form of a ``name`` (the packer refuses a str with a lone surrogate)."""
    if name in plan.f32_roots:
        out = bytearray()
        write_wire(plan.ir, ir.Named(name), wire, out)
        return bytes(out)
    accel = plan.accel() if path in _MSGSPEC_PATHS else None
    return accel[0].encode(wire) if accel else msgpack.packb(wire)


def acceptor(schema: Schema, name: str) -> Callable[[Any], bool]:
    """``accepts(value)``: True when the fast code takes ``value`` as a ``name``, which proves it valid; False
    means "ask the validator" (which words the error; the value may even be valid: a lenient spelling, say, or
    a value near the nesting limit).

    Built once per type (for the path in force then): the native encoder, or the fused encoder and msgspec's
    encoder, which also proves text UTF-8 (CPython caches a str's UTF-8 form), or else the fused checker that
    proves it itself.
    """
    plan = plan_of(schema)
    program = plan.native() if DEFAULT_PATH == "native" else None
    if program is not None:
        node = plan.node_of[name]

        def writes(value: Any) -> bool:
            try:
                program.encode(value, node, b"")
            except Exception:
                return False
            return True

        return writes
    accel = plan.accel() if DEFAULT_PATH in _MSGSPEC_PATHS else None
    if accel is not None:
        fused, encode = plan.fused_encoder(name), accel[0].encode

        def accepts(value: Any) -> bool:
            try:
                encode(fused(value))
            except Exception:
                return False
            return True

        return accepts
    check = plan.fused_checker(name)

    def checks(value: Any) -> bool:
        try:
            check(value)
        except Exception:
            return False
        return True

    return checks


def root_name(schema: Schema, header: Header, name: str | None) -> str:
    """The root type named by ``header``; a ``schema_mismatch`` if the schema lacks it or ``name`` differs."""
    found = schema.name_of(header.root_id)
    if name is not None:
        want = schema.id_bytes(name)
        if header.root_id != want:
            other = f"`{found}` " if found else "a type unknown to this schema, "
            raise DecodeError("schema_mismatch",
                              f"the value's root type is {other}{format_id(header.root_id)}; "
                              f"expected `{name}` {format_id(want)}", len(MAGIC) + 1)
        return name
    if found is None:
        raise DecodeError("schema_mismatch",
                          f"the value's root type {format_id(header.root_id)} is not a type of this schema",
                          len(MAGIC) + 1)
    return found


def check_budget(max_values: object) -> int:
    """The native codec's budget for ``max_values`` (None: no limit); a :class:`fsf.UsageError` for anything
    but None or a non-negative int."""
    if max_values is None:
        return _NO_BUDGET
    if type(max_values) is not int or max_values < 0:
        raise UsageError(f"max_values must be None or a non-negative integer, got {max_values!r}")
    return max_values


_NO_BUDGET = sys.maxsize


def decode(schema: Schema, data: bytes | bytearray | memoryview, name: str | None = None, *,
           canonical: bool = True, max_values: int | None = None, path: str | None = None) -> Any:
    """The canonical Python value of FSV bytes ``data``, validated; raises :class:`fsf.DecodeError`.

    Absent optionals come back as ``None``, ``time`` as integer nanoseconds, every float as ``float``.
    ``canonical=False`` skips the byte-for-byte comparison with the re-encoded value (everything else is still
    checked; a non-canonical spelling may then be accepted, or refused as ``non_canonical``). ``max_values`` is
    the decode budget: a payload of more msgpack values is refused with ``budget`` at the head of the first one
    beyond it (``docs/fsv.md``, "Decode budget"). ``path`` (see :data:`PATHS`) is for tests; by default the
    fastest path available runs.
    """
    budget = _NO_BUDGET if max_values is None else check_budget(max_values)
    refused = False  # the native codec refused already: the reference reader decides (exact code and offset)
    if path is None and DEFAULT_PATH == "native" and type(data) is bytes and data[:5] == _HEAD:  # the common call
        lane = _lane(schema)
        node = lane.by_id.get(data[5:HEADER_SIZE]) if lane is not None else None
        if lane is not None and node is not None and (name is None or lane.by_name.get(name, (-1,))[0] == node):
            try:
                return lane.program.decode(data, HEADER_SIZE, node, budget)
            except Exception:  # the reference reader below finds and reports the problem
                refused = True
    data = _as_bytes(data)
    header = read_header(data)
    name = root_name(schema, header, name)
    plan = plan_of(schema)
    path = path or DEFAULT_PATH
    # Every msgpack value takes at least one byte, so a payload no longer than the budget cannot exceed it: the
    # paths that do not count (msgspec, msgpack) serve only those, and the reference reader counts the others.
    uncounted = len(data) - HEADER_SIZE <= budget
    if path != "reference" and not refused:
        payload = memoryview(data)[HEADER_SIZE:]
        try:
            program = plan.native() if path == "native" else None
            if program is not None:  # always strict: it checks every spelling as it reads
                return program.decode(data, HEADER_SIZE, plan.node_of[name], budget)
            if not uncounted:
                raise _Mismatch
            accel = plan.accel() if path in _MSGSPEC_PATHS and name not in plan.f32_roots else None
            if accel is not None:
                structs = accel[0].decoder(name)(payload)
                value = accel[1][name](structs)
                if canonical and not _same_payload(data, accel[0].encode(structs)):
                    raise _Mismatch
                return value
            return _decode_fused(plan, name, data, payload, canonical)
        except Exception:  # any failure at all: the reference reader finds and reports the exact problem
            pass
    value = read_reference(plan.ir, name, data, HEADER_SIZE, max_values)
    try:
        schema.validate(name, value, engine="vm" if path == "reference" else "fast")
    except ValidationError as err:
        raise DecodeError("invalid", f"{err.message} at `{err.path}`", HEADER_SIZE) from None
    return value


def verify(schema: Schema, data: bytes | bytearray | memoryview, name: str | None = None, *,
           max_values: int | None = None, path: str | None = None) -> str:
    """The root type of FSV bytes ``data`` once they prove canonical and valid; raises :class:`fsf.DecodeError`
    exactly as :func:`decode` would, the budget ``max_values`` included (counted the same way, though nothing is
    built). The native path checks without building the value."""
    budget = check_budget(max_values)
    data = _as_bytes(data)
    name = root_name(schema, read_header(data), name)
    path = path or DEFAULT_PATH
    program = plan_of(schema).native() if path == "native" else None
    try:
        if program is not None:
            program.check(data, HEADER_SIZE, plan_of(schema).node_of[name], budget)
            return name
    except Exception:  # decode below says exactly what is wrong
        pass
    decode(schema, data, name, max_values=max_values, path=path)
    return name


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if not isinstance(data, (bytearray, memoryview)):
        raise TypeError(f"FSV data must be bytes, not {type(data).__name__}")
    return bytes(data)


def _same_payload(data: bytes, again: bytes) -> bool:
    """``again`` is the payload of ``data`` byte for byte (memcmp, no copy)."""
    return len(again) == len(data) - HEADER_SIZE and data.endswith(again)


def _decode_fused(plan: Plan, name: str, data: bytes, payload: memoryview, canonical: bool) -> Any:
    n = len(payload)
    cap = min(plan.max_count, n // _FAST_CAP_DIVISOR + _FAST_CAP_FLOOR)
    wire = msgpack.unpackb(payload, raw=False, strict_map_key=False, max_str_len=n, max_bin_len=n,
                           max_array_len=cap, max_map_len=cap, max_ext_len=0)
    value = plan.fused_decoder(name)(wire)
    if canonical:
        if name in plan.f32_roots:
            out = bytearray()
            write_wire(plan.ir, ir.Named(name), wire, out)
            again: bytes = bytes(out)
        else:
            again = msgpack.packb(wire)
        if not _same_payload(data, again):
            raise _Mismatch
    return value


# ---------------------------------------------------------------------------------------------------------------
# The reference reader: bytes -> Python form, every rule checked here with its exact offset.

_INT, _NIL, _BOOL, _F32, _F64, _STR, _BIN, _ARR, _MAP = range(9)
_KIND_NAMES = ("int", "nil", "bool", "float 32", "float 64", "str", "bin", "array", "map")

# Head byte -> (kind, bytes of argument, signed, canonical lo, canonical hi) for the 0xc0..0xdf heads that carry
# an argument; the argument is the value (ints) or the length / count (str, bin, array, map).
_HEADS: dict[int, tuple[int, int, bool, int, int]] = {
    0xC4: (_BIN, 1, False, 0, 0xFF),
    0xC5: (_BIN, 2, False, 0x100, 0xFFFF),
    0xC6: (_BIN, 4, False, 0x10000, 0xFFFFFFFF),
    0xCC: (_INT, 1, False, 0x80, 0xFF),
    0xCD: (_INT, 2, False, 0x100, 0xFFFF),
    0xCE: (_INT, 4, False, 0x10000, 0xFFFFFFFF),
    0xCF: (_INT, 8, False, 0x100000000, 0xFFFFFFFFFFFFFFFF),
    0xD0: (_INT, 1, True, -0x80, -33),
    0xD1: (_INT, 2, True, -0x8000, -0x81),
    0xD2: (_INT, 4, True, -0x80000000, -0x8001),
    0xD3: (_INT, 8, True, -0x8000000000000000, -0x80000001),
    0xD9: (_STR, 1, False, 32, 0xFF),
    0xDA: (_STR, 2, False, 0x100, 0xFFFF),
    0xDB: (_STR, 4, False, 0x10000, 0xFFFFFFFF),
    0xDC: (_ARR, 2, False, 16, 0xFFFF),
    0xDD: (_ARR, 4, False, 0x10000, 0xFFFFFFFF),
    0xDE: (_MAP, 2, False, 16, 0xFFFF),
    0xDF: (_MAP, 4, False, 0x10000, 0xFFFFFFFF),
}
_EXT_HEADS = frozenset([0xC7, 0xC8, 0xC9, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8])


class _Fail(Exception):
    """A decode problem on its way up; each level adds its path segment."""

    def __init__(self, code: str, message: str, offset: int) -> None:
        self.code = code
        self.message = message
        self.offset = offset
        self.path: list[str] = []


def read_reference(schema: ir.Schema, name: str, data: bytes, start: int, max_values: int | None = None) -> Any:
    """Read the value of type ``name`` at ``start`` (the payload) to the end of ``data``; raises DecodeError.

    ``max_values`` is the decode budget: the head of one more msgpack value is refused with ``budget``."""
    reader = _Reader(schema, data)
    reader.pos = start
    if max_values is not None:
        reader.left = reader.budget = max_values
    try:
        value = reader.read(ir.Named(name), 0)
        if reader.pos != len(data):
            raise _Fail("trailing_bytes", f"{len(data) - reader.pos} byte(s) after the end of the value",
                        reader.pos)
    except _Fail as fail:
        where = "$" + "".join(reversed(fail.path))
        raise DecodeError(fail.code, f"{fail.message} at `{where}`", fail.offset) from None
    return value


class _Reader:
    __slots__ = ("budget", "data", "left", "pos", "schema")

    def __init__(self, schema: ir.Schema, data: bytes) -> None:
        self.schema = schema
        self.data = data
        self.pos = 0
        self.budget = self.left = len(data)  # no payload holds more values than bytes: no limit

    def _take(self, n: int, head: int, what: str) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise _Fail("truncated", f"input ends inside {what}", head)
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def head(self) -> tuple[int, Any, int]:
        """The next msgpack head: its kind, its argument (value, length or count) and its offset."""
        at = self.pos
        self.left -= 1
        if self.left < 0:
            raise _Fail("budget", f"more than {self.budget} msgpack value(s) (`max_values`)", at)
        if at >= len(self.data):
            raise _Fail("truncated", "input ends where a value should start", at)
        b = self.data[at]
        self.pos = at + 1
        if b <= 0x7F:
            return _INT, b, at
        if b >= 0xE0:
            return _INT, b - 0x100, at
        if b <= 0x8F:
            kind, arg = _MAP, b & 0x0F
        elif b <= 0x9F:
            kind, arg = _ARR, b & 0x0F
        elif b <= 0xBF:
            kind, arg = _STR, b & 0x1F
        elif b == 0xC0:
            return _NIL, None, at
        elif b in (0xC2, 0xC3):
            return _BOOL, b == 0xC3, at
        elif b == 0xCA:
            return _F32, struct.unpack(">f", self._take(4, at, "a float 32"))[0], at
        elif b == 0xCB:
            return _F64, struct.unpack(">d", self._take(8, at, "a float 64"))[0], at
        elif b == 0xC1:
            raise _Fail("type", "the reserved byte `c1` is never valid msgpack", at)
        elif b in _EXT_HEADS:
            raise _Fail("type", f"msgpack ext types (head `{b:02x}`, timestamps included) are not used by FSV", at)
        else:
            kind, size, signed, lo, hi = _HEADS[b]
            arg = int.from_bytes(self._take(size, at, f"a `{b:02x}` head"), "big", signed=signed)
            if not lo <= arg <= hi:
                raise _Fail("non_canonical", f"{_KIND_NAMES[kind]} {arg} in a wider head (`{b:02x}`) than needed", at)
            if kind == _INT:
                return kind, arg, at
        need = arg * 2 if kind == _MAP else arg
        if need > len(self.data) - self.pos:
            what = {_STR: "bytes", _BIN: "bytes", _ARR: "items", _MAP: "entries"}[kind]
            raise _Fail("length_exceeds_input",
                        f"{_KIND_NAMES[kind]} declares {arg} {what}; only {len(self.data) - self.pos} byte(s) remain",
                        at)
        return kind, arg, at

    def read(self, t: ir.Type, depth: int) -> Any:
        """The Python value of type ``t`` at the current position; ``depth`` open containers around it."""
        kind, arg, at = self.head()
        if isinstance(t, ir.Optional):
            if kind == _NIL:
                return None
            t = t.inner
        if isinstance(t, ir.Named):
            decl = self.schema[t.name]
            if isinstance(decl, ir.Enum):
                self._expect(kind, _INT, t, at)
                if not 0 <= arg < len(decl.members):
                    raise _Fail("bounds", f"enum index {arg} is out of range for `{decl.name}` "
                                          f"(0..{len(decl.members) - 1})", at)
                return decl.members[arg].name
            self._expect(kind, _ARR, t, at)
            depth = self._enter(depth, at)
            if isinstance(decl, ir.Shape):
                return self._fields(decl.name, decl.fields, arg, at, depth)
            return self._union(decl, arg, at, depth)
        if isinstance(t, ir.Bool):
            self._expect(kind, _BOOL, t, at)
            return arg
        if isinstance(t, (ir.Int, ir.Time)):
            self._expect(kind, _INT, t, at)
            lo, hi = (t.lo, t.hi) if isinstance(t, ir.Int) else ir.INT_RANGES["i64"]
            if not lo <= arg <= hi:
                raise _Fail("bounds", f"{arg} is out of range for `{ir.type_name(t)}`", at)
            return arg
        if isinstance(t, ir.Float):
            return self._float(t, kind, arg, at)
        if isinstance(t, ir.Str):
            self._expect(kind, _STR, t, at)
            raw = self._take(arg, at, "a str")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _Fail("utf8", f"invalid UTF-8 in a str ({err.reason})", self.pos - arg + err.start) from None
            self._length(t, len(text), "code points", at)
            return text
        if isinstance(t, (ir.Bytes, ir.Hash, ir.Ref)):
            self._expect(kind, _BIN, t, at)
            raw = self._take(arg, at, "a bin")
            if isinstance(t, ir.Bytes):
                self._length(t, arg, "bytes", at)
                return raw
            if arg != ir.HASH_SIZE:
                raise _Fail("bounds", f"`{ir.type_name(t)}` holds {ir.HASH_SIZE} bytes, got {arg}", at)
            return raw if isinstance(t, ir.Hash) else "blake3:" + raw.hex()
        if isinstance(t, ir.Array):
            self._expect(kind, _ARR, t, at)
            depth = self._enter(depth, at)
            self._count(t, arg, at)
            out = []
            for i in range(arg):
                try:
                    out.append(self.read(t.item, depth))
                except _Fail as fail:
                    fail.path.append(f"[{i}]")
                    raise
            return out
        assert isinstance(t, ir.Map)
        self._expect(kind, _MAP, t, at)
        depth = self._enter(depth, at)
        self._count(t, arg, at)
        return self._map(t, arg, depth)

    def _map(self, t: ir.Map, count: int, depth: int) -> dict[Any, Any]:
        enum = self.schema[t.key.name] if isinstance(t.key, ir.Named) else None
        order = {m.name: i for i, m in enumerate(enum.members)} if isinstance(enum, ir.Enum) else None
        out: dict[Any, Any] = {}
        last: Any = None
        for i in range(count):
            key_at = self.pos
            key = self.read(t.key, depth)
            rank = key if order is None else order[key]
            if i and rank <= last:
                what = "duplicate map key" if rank == last else "map keys out of canonical order"
                fail = _Fail("non_canonical", f"{what} {json.dumps(key)}", key_at)
                fail.path.append(f"[{json.dumps(key)}]")
                raise fail
            last = rank
            try:
                out[key] = self.read(t.value, depth)
            except _Fail as fail:
                fail.path.append(f"[{json.dumps(key)}]")
                raise
        return out

    def _fields(self, owner: str, fields: tuple[ir.Field, ...], count: int, at: int, depth: int) -> dict[str, Any]:
        if count != len(fields):
            raise _Fail("arity", f"`{owner}` has {len(fields)} field(s); the array holds {count}", at)
        out = {}
        for f in fields:
            try:
                out[f.name] = self.read(f.type, depth)
            except _Fail as fail:
                fail.path.append(f".{f.name}")
                raise
        return out

    def _union(self, decl: ir.Union_, count: int, at: int, depth: int) -> dict[str, Any]:
        if count == 0:
            raise _Fail("arity", f"a `{decl.name}` is [variant index, fields...]; the array is empty", at)
        kind, index, index_at = self.head()
        if kind != _INT:
            raise _Fail("type", f"Expected a variant index of `{decl.name}`, got `{_KIND_NAMES[kind]}`", index_at)
        if not 0 <= index < len(decl.variants):
            raise _Fail("bounds", f"variant index {index} is out of range for `{decl.name}` "
                                  f"(0..{len(decl.variants) - 1})", index_at)
        variant = decl.variants[index]
        try:
            return {variant.name: self._fields(f"{decl.name}.{variant.name}", variant.fields, count - 1, at, depth)}
        except _Fail as fail:
            fail.path.append(f".{variant.name}")
            raise

    def _float(self, t: ir.Float, kind: int, x: float, at: int) -> float:
        if kind not in (_F32, _F64):
            self._fail_type(t, kind, at)
        if math.isnan(x) or math.isinf(x):
            raise _Fail("not_finite", f"{x} is not a finite float", at)
        if (kind == _F32) != (t.width == 32):
            raise _Fail("non_canonical", f"`{t.kind}` is written as float {t.width}, not {_KIND_NAMES[kind]}", at)
        if x == 0.0 and math.copysign(1.0, x) < 0.0:
            raise _Fail("non_canonical", "-0.0 is written as 0.0", at)
        if (t.lo is not None and x < t.lo) or (t.hi is not None and x > t.hi):
            raise _Fail("bounds", f"{x!r} is out of range for `{ir.type_name(t)}`", at)
        return x

    def _expect(self, kind: int, want: int, t: ir.Type, at: int) -> None:
        if kind != want:
            self._fail_type(t, kind, at)

    @staticmethod
    def _fail_type(t: ir.Type, kind: int, at: int) -> NoReturn:
        raise _Fail("type", f"Expected `{ir.type_name(t)}`, got `{_KIND_NAMES[kind]}`", at)

    @staticmethod
    def _enter(depth: int, at: int) -> int:
        if depth >= MAX_DEPTH:
            raise _Fail("too_deep", f"containers nested deeper than {MAX_DEPTH}", at)
        return depth + 1

    @staticmethod
    def _length(t: ir.Str | ir.Bytes, n: int, unit: str, at: int) -> None:
        if n < t.lo or (t.hi is not None and n > t.hi):
            raise _Fail("bounds", f"{n} {unit} is out of range for `{ir.type_name(t)}`", at)

    @staticmethod
    def _count(t: ir.Array | ir.Map, n: int, at: int) -> None:
        if not t.lo <= n <= t.hi:
            raise _Fail("bounds", f"{n} item(s) is out of range for `{ir.type_name(t)}`", at)
