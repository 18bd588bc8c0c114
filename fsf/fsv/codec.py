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
import math
import sys
from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

import attrs
import msgpack

from fsf import ir
from fsf.errors import DecodeError, UsageError, ValidationError
from fsf.fsv.accel import AVAILABLE as _ACCEL_AVAILABLE
from fsf.fsv.header import HEAD, HEADER_SIZE, MAGIC, Header, pack_header, read_header
from fsf.fsv.header import content_id as content_id  # re-exported
from fsf.fsv.native import AVAILABLE as _NATIVE_AVAILABLE
from fsf.fsv.reader import read_reference
from fsf.fsv.writer import is_enum, write_wire
from fsf.ir.ids import format_id
from fsf.limits import MAX_DEPTH as MAX_DEPTH  # re-exported: the nesting limit (fsf.limits)

if TYPE_CHECKING:
    from fsf.fsv.accel import Accel
    from fsf.schema import Schema


# The fast path hands msgpack a cap on every array and map header: msgpack allocates a declared container up
# front, so a hostile input of nested headers could otherwise claim depth x count x 8 bytes. With at most 1024
# open containers (msgpack's own stack) the transient allocation stays below about 32 x input + 1 MiB; larger
# legitimate containers simply take the reference path.
_FAST_CAP_DIVISOR = 256
_FAST_CAP_FLOOR = 128

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

PATHS = ("native", "accel", "fused", "reference")
"""The execution paths of encode and decode (``docs/fsv.md``, "Execution paths"): the native one-pass decoder
and encoder (``fsf/fsv/_native.c``); msgspec's C decoder and encoder with fused Python conversions; fused
pure-Python conversions over msgpack; the reference reader and canonical writer with the specialised
validator. All give the same bytes, values, codes, offsets and messages. A path whose extension is missing
(native not built, msgspec not installed) takes the next one."""
DEFAULT_PATH = "native" if _NATIVE_AVAILABLE else "accel" if _ACCEL_AVAILABLE else "fused"
"""The path used when none is asked for: read once, when this module is imported."""

_MSGSPEC_PATHS = ("native", "accel")
"""The paths that pack with msgspec's encoder (and decode with it when the native decoder is not built)."""

Convert = Callable[[Any, int], Any]
ToWire = Callable[[Any], Any]


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
        """The node of each named type in the native codec's table (:func:`fsf.fsv.native.program`)."""
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
        """The fused decoder of ``name``: unpacked wire lists -> Python form, validating (:mod:`fsf.fsv.pure`)."""
        if self._fused_decode is None:
            from fsf.fsv.pure import decoders

            self._fused_decode = decoders(self.ir, "lists", MAX_DEPTH)
        return self._fused_decode[name]

    def fused_encoder(self, name: str) -> Callable[[Any], Any]:
        """The fused encoder of ``name``: Python form -> wire lists, validating (:mod:`fsf.fsv.pure`)."""
        if self._fused_encode is None:
            from fsf.fsv.pure import encoders

            self._fused_encode = encoders(self.ir, MAX_DEPTH)
        return self._fused_encode[name]

    def fused_checker(self, name: str) -> Callable[[Any], Any]:
        """The fused encoder of ``name`` that also proves text UTF-8: it raises on anything not valid."""
        if self._fused_check is None:
            from fsf.fsv.pure import encoders

            self._fused_check = encoders(self.ir, MAX_DEPTH, utf8=True)
        return self._fused_check[name]

    def accel(self) -> tuple[Accel, dict[str, Callable[[Any], Any]]] | None:
        """The msgspec types of this schema and the fused Struct -> Python form converters, or None when the
        accelerated path cannot serve it (:mod:`fsf.fsv.accel`)."""
        if self._accel is None:
            from fsf.fsv import accel
            from fsf.fsv import pure as fused

            built = accel.build(self.ir)
            self._accel = (built, fused.decoders(self.ir, "structs", MAX_DEPTH, built.variants)) if built else False
        return self._accel or None

    def native(self) -> Any | None:
        """The native codec of this schema (:mod:`fsf.fsv.native`), or None when it is not built."""
        if self._native is None:
            from fsf.fsv import native

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
            if is_enum(self.ir, t.key):
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
            if is_enum(self.ir, t.key):
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
    if path is None and DEFAULT_PATH == "native" and type(data) is bytes and data[:5] == HEAD:  # the common call
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
