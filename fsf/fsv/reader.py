"""Reader: FSV payload bytes + IR type -> the Python form, every rule checked with its exact offset (the reference).

It decides every verdict: when a fast path refuses, this reader finds the first problem and words it
(``docs/fsv.md``, "Decoder verdicts"). Heads are decoded by the table of :mod:`fsf.fsv.format` (family, field
size, canonical range).
"""

from __future__ import annotations

import math
import struct
from typing import Any, NoReturn, cast

from fsf import ir
from fsf.errors import DecodeError
from fsf.fsv.format import FAMILY_NAMES, HEAD_OF, REF_PREFIX, Family
from fsf.ir.kinds import (
    BY_CLASS,
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
from fsf.limits import MAX_DEPTH

_INT, _NIL, _BOOL, _F32, _F64, _STR, _BIN, _ARR, _MAP, _EXT = (int(f) for f in Family)
_KIND_NAMES = FAMILY_NAMES

# Byte -> (family, bytes of argument, signed, canonical lo, canonical hi, fix base), from the format table: a
# fix form's argument is byte + fix base; any other head's argument (the value of an int, the length or count of
# a str, bin, array or map) is the big-endian field after it, canonical only within lo..hi.
_DECODE: tuple[tuple[int, int, bool, int, int, int] | None, ...] = tuple(
    None if h is None else
    (int(h.family), h.size, h.signed, h.lo if h.lo is not None else 0, h.hi if h.hi is not None else 0,
     (h.lo if h.lo is not None else 0) - h.first)
    for h in HEAD_OF)
_FLOATS = {_F32: ">f", _F64: ">d"}


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
        decode = _DECODE[b]
        if decode is None:
            raise _Fail("type", f"the reserved byte `{b:02x}` is never valid msgpack", at)
        kind, size, signed, lo, hi, base = decode
        if kind == _EXT:
            raise _Fail("type", f"msgpack ext types (head `{b:02x}`, timestamps included) are not used by FSV", at)
        if kind in _FLOATS:
            return kind, struct.unpack(_FLOATS[kind], self._take(size, at, f"a {_KIND_NAMES[kind]}"))[0], at
        if kind == _NIL:
            return _NIL, None, at
        if size == 0:
            arg = b + base
        else:
            arg = int.from_bytes(self._take(size, at, f"a `{b:02x}` head"), "big", signed=signed)
            if not lo <= arg <= hi:
                raise _Fail("non_canonical", f"{_KIND_NAMES[kind]} {arg} in a wider head (`{b:02x}`) than needed", at)
        if kind == _INT:
            return kind, arg, at
        if kind == _BOOL:
            return kind, arg == 1, at
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
        k = BY_CLASS[type(t)]  # kind_of(t), inlined: one dict lookup per node
        if k is K_OPTIONAL:
            if kind == _NIL:
                return None
            t = cast(ir.Optional, t).inner
            k = BY_CLASS[type(t)]  # kind_of(t), inlined: one dict lookup per node
        if k is K_NAMED:
            decl = self.schema[cast(ir.Named, t).name]
            dk = kind_of(decl)
            if dk is K_ENUM:
                e = cast(ir.Enum, decl)
                self._expect(kind, _INT, t, at)
                if not 0 <= arg < len(e.members):
                    raise _Fail("bounds", f"enum index {arg} is out of range for `{e.name}` "
                                          f"(0..{len(e.members) - 1})", at)
                return e.members[arg].name
            self._expect(kind, _ARR, t, at)
            depth = self._enter(depth, at)
            if dk is K_SHAPE:
                sh = cast(ir.Shape, decl)
                return self._fields(sh.name, sh.fields, arg, at, depth)
            return self._union(cast(ir.Union_, decl), arg, at, depth)
        if k is K_BOOL:
            self._expect(kind, _BOOL, t, at)
            return arg
        if k is K_INT or k is K_TIME:
            self._expect(kind, _INT, t, at)
            if k is K_INT:
                ti = cast(ir.Int, t)
                lo, hi = ti.lo, ti.hi
            else:
                lo, hi = ir.INT_RANGES["i64"]
            if not lo <= arg <= hi:
                raise _Fail("bounds", f"{arg} is out of range for `{ir.type_name(t)}`", at)
            return arg
        if k is K_FLOAT:
            return self._float(cast(ir.Float, t), kind, arg, at)
        if k is K_STR:
            self._expect(kind, _STR, t, at)
            raw = self._take(arg, at, "a str")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise _Fail("utf8", f"invalid UTF-8 in a str ({err.reason})", self.pos - arg + err.start) from None
            self._length(cast(ir.Str, t), len(text), "code points", at)
            return text
        if k is K_BYTES or k is K_HASH or k is K_REF:
            self._expect(kind, _BIN, t, at)
            raw = self._take(arg, at, "a bin")
            if k is K_BYTES:
                self._length(cast(ir.Bytes, t), arg, "bytes", at)
                return raw
            if arg != ir.HASH_SIZE:
                raise _Fail("bounds", f"`{ir.type_name(t)}` holds {ir.HASH_SIZE} bytes, got {arg}", at)
            return raw if k is K_HASH else REF_PREFIX + raw.hex()
        if k is K_ARRAY:
            arr = cast(ir.Array, t)
            self._expect(kind, _ARR, t, at)
            depth = self._enter(depth, at)
            self._count(arr, arg, at)
            out = []
            for i in range(arg):
                try:
                    out.append(self.read(arr.item, depth))
                except _Fail as fail:
                    fail.path.append(f"[{i}]")
                    raise
            return out
        assert k is K_MAP
        m = cast(ir.Map, t)
        self._expect(kind, _MAP, t, at)
        depth = self._enter(depth, at)
        self._count(m, arg, at)
        return self._map(m, arg, depth)

    def _map(self, t: ir.Map, count: int, depth: int) -> dict[Any, Any]:
        order = None
        if is_named_kind(self.schema, t.key, K_ENUM):
            enum = cast(ir.Enum, self.schema[cast(ir.Named, t.key).name])
            order = {m.name: i for i, m in enumerate(enum.members)}
        out: dict[Any, Any] = {}
        last: Any = None
        for i in range(count):
            key_at = self.pos
            key = self.read(t.key, depth)
            rank = key if order is None else order[key]
            if i and rank <= last:
                import json  # only when a message is worded

                what = "duplicate map key" if rank == last else "map keys out of canonical order"
                fail = _Fail("non_canonical", f"{what} {json.dumps(key)}", key_at)
                fail.path.append(f"[{json.dumps(key)}]")
                raise fail
            last = rank
            try:
                out[key] = self.read(t.value, depth)
            except _Fail as fail:
                import json

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
