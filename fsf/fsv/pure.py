"""Pure path: IR schema -> straight-line Python codec functions per named type, each validating while it converts.

The codec's pure-Python path (:class:`fsf.fsv.codec.Codec`, after the native one, before the reference). Two
families, generated once per schema from the IR and kept by the schema's codec (:class:`Pure`):

* ``decoders(schema)``: wire form as ``msgpack.unpackb`` returns it (nested lists, dicts and scalars) -> the
  canonical Python form, checking every type, bound, arity and the nesting limit as it goes, plus the canonical
  rules that re-packing the wire cannot see (map keys strictly increasing, no ``-0.0``);
* ``encoders(schema)``: the Python form (as :meth:`fsf.Schema.validate` accepts it) -> wire form, checking
  exactly what the validator checks (UTF-8 is left to the packer, which refuses lone surrogates; ``utf8=True``
  proves it in the code, for the acceptor whose result is not packed).

The generated code is optimistic: it accepts only what the reference executors accept, and never words an
error. Everything this module hands out raises :class:`fsf.errors.Refused` for anything it does not take, and
the codec then asks the reference path, which says what exactly is wrong. The refusals are converted at the
boundaries (:data:`REFUSALS`), and only these: ``Mismatch`` (a test of the generated code failed); ``KeyError``
(a required field missing: one ``itemgetter`` call fetches them all); ``ValueError`` (a tuple unpacking of the
wrong arity; ``UnicodeDecodeError``/``UnicodeEncodeError``, invalid UTF-8 on the wire or a lone surrogate for
the packer; msgpack's ``ExtraData``, ``FormatError``, ``StackError`` and its limits on lengths); ``TypeError``
(a comparison of keys of different types, an unhashable map key from msgpack); ``OverflowError`` (an int
beyond msgpack's 64 bits); ``RecursionError`` (a recursive type nested deeper than the interpreter's stack);
msgpack's ``UnpackException`` (``OutOfData``: a truncated payload). Anything else is a bug and propagates.

As in :mod:`fsf.bytecode.specialize`, every schema-derived value reaches the code through the globals dict
(``_kN``); only identifiers the generator makes itself appear in the text, and the source is registered in
:mod:`linecache` under a pseudo file name.
"""

from __future__ import annotations

import datetime as _dt
import math
import operator
import re
import struct
from collections.abc import Callable
from typing import Any, Literal

import msgpack
import msgpack.exceptions

from fsf import ir
from fsf.bytecode import vm
from fsf.errors import Refused
from fsf.fsv.header import HEADER_SIZE
from fsf.fsv.writer import write_wire
from fsf.limits import MAX_DEPTH
from fsf.pysource import Names, Writer, load

Fused = Callable[[Any], Any]
Mode = Literal["lists", "encode"]

_MAX_INLINE_LOOPS = 5
"""Containers nested deeper than this inside one function get a function of their own (CPython allows 20
statically nested blocks per function)."""


class Mismatch(Exception):
    """Raised by generated code for anything it does not accept; the boundary turns it into :class:`Refused`."""


REFUSALS: tuple[type[BaseException], ...] = (Mismatch, KeyError, ValueError, TypeError, OverflowError,
                                             RecursionError, msgpack.exceptions.UnpackException)
"""What the generated code, msgpack's unpacker and packer and the canonical writer raise for input the pure path
does not take (see the module docstring); each becomes :class:`Refused` at this module's boundary."""


def _f32_exact(x: float) -> bool:
    return bool(struct.unpack("<f", struct.pack("<f", x))[0] == x)


_RUNTIME: dict[str, Any] = {
    "_M": Mismatch,
    "_copysign": math.copysign,
    "_f32_exact": _f32_exact,
    "_check_float": vm.check_float,
    "_check_time": vm.check_time,
    "_ns": vm.time_nanoseconds,
    "_datetime": _dt.datetime,
    "_fromhex": bytes.fromhex,
    "_ref_text": re.compile("blake3:[0-9a-f]{64}").fullmatch,
    "_sorted": sorted,
    "_utf8": str.encode,
    "_I64_MIN": vm.I64_MIN,
    "_I64_MAX": vm.I64_MAX,
}


class _Writer(Writer):
    """A code writer that queues simple tests and emits them together as one ``if not (...): raise _M``."""

    def __init__(self) -> None:
        super().__init__()
        self.loops = 0
        self.pending: list[str] = []

    def line(self, text: str) -> None:
        self.flush()
        super().line(text)

    def close_block(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Emit the queued tests as one ``if not (...): raise``."""
        if self.pending:
            tests, self.pending = self.pending, []
            self.line(f"if not ({' and '.join(tests)}):")
            self.line("    raise _M")


class _Generator(Names):
    """Emits the functions of one family. A ``level`` is how many containers below its function's own argument
    (whose depth is ``d``) a value sits."""

    def __init__(self, schema: ir.Schema, mode: Mode, max_depth: int) -> None:
        super().__init__()
        self.ir = schema
        self.mode = mode
        self.max_depth = max_depth
        self.functions: list[_Writer] = []
        self.names = {decl.name: f"_n{i}" for i, decl in enumerate(schema.decls)}
        self.levels: list[int] = []
        self.rooms: list[str] = []
        """The global holding the depth room of each open function (see :meth:`too_deep`)."""
        self.utf8 = False
        """Encoders only: also prove each str UTF-8 (when no packer will)."""
        depth = _static_depth(schema)
        self.depth_free = depth is not None and depth <= max_depth
        """No value of this schema nests deeper than allowed: no depth tests at all."""

    # -- helpers --------------------------------------------------------------------------------------------

    def too_deep(self, level: int) -> list[str]:
        """The depth test of a function, true when ``d`` leaves no room for its deepest container -- or none
        (``[]``) in a depth-free schema, where no value can nest too deeply.

        Each function tests its depth once, on entry, against the deepest container it handles inline (noted by
        :meth:`contains`), so a value near the limit may be refused here though valid: the reference reader or
        the validator then decides, as for any refusal. That room is known only once the function is written,
        so the test reads it from a global reserved now and filled by :meth:`close`.
        """
        self.contains(level)
        return [] if self.depth_free else [f"d > {self.rooms[-1]}"]

    def entry_test(self, tests: list[str], level: int) -> str:
        """``tests`` and then the depth test of :meth:`too_deep`, as one ``or`` expression."""
        return " or ".join(tests + self.too_deep(level))

    def contains(self, level: int) -> None:
        self.levels[-1] = max(self.levels[-1], level)

    def open(self, name: str) -> _Writer:
        """Start generated function ``name(x, d)``."""
        w = _Writer()
        self.functions.append(w)
        self.levels.append(0)
        self.rooms.append(self.reserve())
        w.line(f"def {name}(x, d):")
        w.depth += 1
        return w

    def close(self, w: _Writer) -> None:
        w.flush()
        self.fill(self.rooms.pop(), self.max_depth - self.levels.pop())

    @staticmethod
    def at(level: int) -> str:
        """The depth expression of a container ``level`` below the function's own."""
        return f"d + {level}" if level else "d"

    def source(self) -> str:
        return "\n".join(line for w in self.functions for line in w.lines) + "\n"

    # -- named types ----------------------------------------------------------------------------------------

    def decl(self, decl: ir.Decl) -> None:
        w = self.open(self.names[decl.name])
        if isinstance(decl, ir.Enum):
            expr = self.leaf_expr(w, ir.Named(decl.name), "x")
            w.line(f"return {expr}")
        elif isinstance(decl, ir.Shape):
            self.shape(w, decl.fields, "x", 0, None)
        else:
            self.union(w, decl)
        self.close(w)

    def shape(self, w: _Writer, fields: tuple[ir.Field, ...], x: str, level: int,
              variant: tuple[int, str] | None) -> None:
        """Check and convert the record ``x`` (its container at ``level``; ``variant`` is the index and name of
        the union variant it is) and ``return`` the result."""
        n = len(fields)
        args = [f"a{i}" for i in range(n)]
        if self.mode == "lists":
            if variant is None:
                w.line(f"if {self.entry_test([f'type({x}) is not list', f'len({x}) != {n}'], level)}:")
                with w.indent():
                    w.line("raise _M")
                if n:
                    w.line(f"{', '.join(args)}, = {x}")
            elif n:
                w.line(f"_, {', '.join(args)}, = {x}")
            inner = level + 1
        else:
            # The Python form: a dict of field names (a variant's body shares its union's level).
            names = self.const(frozenset(f.name for f in fields))
            required = [(f, a) for f, a in zip(fields, args, strict=True) if not f.optional]
            w.line(f"if {self.entry_test([f'type({x}) is not dict'], level)}:")
            w.line("    raise _M")
            if len(required) > 1:  # one C call fetches them all (KeyError if one is missing)
                getter = self.const(operator.itemgetter(*(f.name for f, _ in required)))
                w.line(f"{', '.join(a for _, a in required)} = {getter}({x})")
            elif required:
                w.line(f"{required[0][1]} = {x}[{self.const(required[0][0].name)}]")
            for f, a in zip(fields, args, strict=True):
                if f.optional:
                    w.line(f"{a} = {x}.get({self.const(f.name)})")
            # Every required field is there, so exactly that many keys means no unknown one.
            w.line(f"if len({x}) != {len(required)} and not {x}.keys() <= {names}:")
            w.line("    raise _M")
            inner = level + 1
        exprs = [self.value(w, f.type, a, inner) for f, a in zip(fields, args, strict=True)]
        if self.mode == "encode":
            w.line(f"return [{', '.join(([] if variant is None else [str(variant[0])]) + exprs)}]")
            return
        body = "{" + ", ".join(f"{self.const(f.name)}: {e}" for f, e in zip(fields, exprs, strict=True)) + "}"
        w.line(f"return {{{self.const(variant[1])}: {body}}}" if variant is not None else f"return {body}")

    def union(self, w: _Writer, decl: ir.Union_) -> None:
        if self.mode == "lists":
            w.line(f"if {self.entry_test(['type(x) is not list', 'not x'], 0)}:")
            with w.indent():
                w.line("raise _M")
            w.line("t = x[0]")
            w.line("if type(t) is not int:")
            with w.indent():
                w.line("raise _M")
            for i, variant in enumerate(decl.variants):
                w.line(f"{'if' if i == 0 else 'elif'} t == {i}:")
                with w.indent():
                    w.line(f"if len(x) != {1 + len(variant.fields)}:")
                    with w.indent():
                        w.line("raise _M")
                    self.shape(w, variant.fields, "x", 0, (i, variant.name))
            w.line("raise _M")
            return
        # encode: {"Variant": {fields}} -> [index, fields...]
        w.line(f"if {self.entry_test(['type(x) is not dict', 'len(x) != 1'], 0)}:")
        with w.indent():
            w.line("raise _M")
        w.line("(t, b), = x.items()")
        for i, variant in enumerate(decl.variants):
            w.line(f"{'if' if i == 0 else 'elif'} t == {self.const(variant.name)}:")
            with w.indent():
                self.shape(w, variant.fields, "b", 0, (i, variant.name))
        w.line("raise _M")

    # -- type expressions -----------------------------------------------------------------------------------

    def value(self, w: _Writer, t: ir.Type, v: str, level: int) -> str:
        """Emit the checks of local ``v`` (a value of type ``t`` at ``level`` if it is a container); return the
        expression of its converted form (``v`` itself when nothing changes)."""
        if isinstance(t, ir.Optional):
            w.line(f"if {v} is not None:")
            with w.indent():
                expr = self.value(w, t.inner, v, level)
                if expr != v:
                    w.line(f"{v} = {expr}")
            # A converted value is a new expression: callers then build a new container around it.
            return v if expr == v else f"({v})"
        if isinstance(t, ir.Named) and not isinstance(self.ir[t.name], ir.Enum):
            return f"{self.names[t.name]}({v}, {self.at(level)})"
        if isinstance(t, ir.Array):
            return self.array(w, t, v, level)
        if isinstance(t, ir.Map):
            return self.map(w, t, v, level)
        return self.leaf_expr(w, t, v)

    def leaf_expr(self, w: _Writer, t: ir.Type, v: str) -> str:
        """Queue the tests of scalar ``v`` (consecutive ones become one ``if``); its converted expression."""
        tests, expr = self.leaf(w, t, v)
        w.pending.extend(tests)
        return expr

    def leaf(self, w: _Writer, t: ir.Type, v: str) -> tuple[list[str], str]:
        """The tests that accept a scalar ``v`` of type ``t``, and the expression of its converted form."""
        mode = self.mode
        if isinstance(t, ir.Bool):
            return [f"type({v}) is bool"], v
        if isinstance(t, ir.Int):
            return [f"type({v}) is int", f"{self.const(t.lo)} <= {v} <= {self.const(t.hi)}"], v
        if isinstance(t, ir.Time):
            if mode == "encode":
                w.line(f"if not (type({v}) is int and _I64_MIN <= {v} <= _I64_MAX):")
                with w.indent():
                    w.line(f"if _check_time({v}) is not None:")
                    with w.indent():
                        w.line("raise _M")
                    w.line(f"{v} = _ns({v})")
                return [], f"({v})"
            return [f"type({v}) is int", f"_I64_MIN <= {v} <= _I64_MAX"], v
        if isinstance(t, ir.Float):
            return self.float(w, t, v)
        if isinstance(t, (ir.Str, ir.Bytes)):
            tests = [f"type({v}) is {'str' if isinstance(t, ir.Str) else 'bytes'}"]
            if t.lo:
                tests.append(f"{self.const(t.lo)} <= len({v})")
            if t.hi is not None:
                tests.append(f"len({v}) <= {self.const(t.hi)}")
            if self.utf8 and isinstance(t, ir.Str):  # encoding raises UnicodeEncodeError on a lone surrogate
                tests.append(f"({v}.isascii() or _utf8({v}))")
            return tests, v
        if isinstance(t, ir.Hash):
            return [f"type({v}) is bytes", f"len({v}) == {ir.HASH_SIZE}"], v
        if isinstance(t, ir.Ref):
            if mode == "encode":
                return [f"type({v}) is str", f"_ref_text({v})"], f"_fromhex({v}[7:])"
            return [f"type({v}) is bytes", f"len({v}) == {ir.HASH_SIZE}"], f"{self.const('blake3:')} + {v}.hex()"
        assert isinstance(t, ir.Named)
        decl = self.ir[t.name]
        assert isinstance(decl, ir.Enum)
        if mode == "encode":
            index = self.const({m.name: i for i, m in enumerate(decl.members)})
            return [f"type({v}) is str", f"{v} in {index}"], f"{index}[{v}]"
        members = self.const(tuple(m.name for m in decl.members))
        return [f"type({v}) is int", f"0 <= {v} < {len(decl.members)}"], f"{members}[{v}]"

    def float(self, w: _Writer, t: ir.Float, v: str) -> tuple[list[str], str]:
        lo = self.const(t.lo) if t.lo is not None else None
        hi = self.const(t.hi) if t.hi is not None else None
        if self.mode == "encode":
            # A finite f64 float within the bounds is accepted at once; anything else (an int, any f32) is
            # judged by the VM's own check. -0.0 + 0.0 is +0.0: one zero on the wire.
            slow = f"_check_float({v}, {t.width}, {lo or 'None'}, {hi or 'None'}) is not None"
            if t.width == 64:
                fast = [f"type({v}) is float", f"{v} - {v} == 0.0"]
                fast += [f"{lo} <= {v}"] if lo else []
                fast += [f"{v} <= {hi}"] if hi else []
                w.line(f"if {' and '.join(fast)}:")
                w.line(f"    {v} = {v} + 0.0")
                w.line("else:")
                w.depth += 1
            w.line(f"if {slow}:")
            w.line("    raise _M")
            w.line(f"{v} = float({v}) + 0.0")
            if t.width == 64:
                w.depth -= 1
            return [], f"({v})"
        # Decode: a finite float of the right width, within bounds, and not -0.0 (re-packing cannot see it).
        w.line(f"if {v} == 0.0 and _copysign(1.0, {v}) < 0.0:")
        with w.indent():
            w.line("raise _M")
        tests = [f"type({v}) is float", f"{v} - {v} == 0.0"]
        tests += [f"{lo} <= {v}"] if lo else []
        tests += [f"{v} <= {hi}"] if hi else []
        if t.width == 32:
            tests.append(f"_f32_exact({v})")
        return tests, v

    def container(self, w: _Writer, t: ir.Array | ir.Map, kind: str, v: str, level: int) -> None:
        """Queue the tests of an array or map: its type and count, depth."""
        w.pending.append(f"type({v}) is {kind}")
        lo = f"{self.const(t.lo)} <= " if t.lo else ""
        w.pending.append(f"{lo}len({v}) <= {self.const(t.hi)}")
        self.contains(level)

    def array(self, w: _Writer, t: ir.Array, v: str, level: int) -> str:
        if w.loops >= _MAX_INLINE_LOOPS:
            return self._sub(w, t, v, level)
        self.container(w, t, "list", v, level)
        body = _Writer()
        body.depth = w.depth + 1
        body.loops = w.loops + 1
        item = self.temp("e")
        expr = self.value(body, t.item, item, level + 1)
        body.flush()
        if expr == item and not body.lines:
            return v
        if expr == item:
            w.line(f"for {item} in {v}:")
            w.lines.extend(body.lines)
            return v
        out = self.temp("r")
        if not body.lines:
            w.line(f"{out} = [{expr} for {item} in {v}]")
            return out
        w.line(f"{out} = []")
        w.line(f"for {item} in {v}:")
        w.lines.extend(body.lines)
        w.line(f"    {out}.append({expr})")
        return out

    def map(self, w: _Writer, t: ir.Map, v: str, level: int) -> str:
        if w.loops >= _MAX_INLINE_LOOPS:
            return self._sub(w, t, v, level)
        enum_key = isinstance(t.key, ir.Named)
        self.container(w, t, "dict", v, level)
        key, item, out, prev = self.temp("k"), self.temp("e"), self.temp("r"), self.temp("p")
        body = _Writer()
        body.depth = w.depth + 1
        body.loops = w.loops + 1
        key_expr = self.leaf_expr(body, t.key, key)
        if self.mode == "encode":
            body.line(f"{item} = {v}[{key}]")
        else:
            # Keys strictly increasing (the wire order; enum keys are member indexes): this also forbids twins.
            body.line(f"if {prev} is not None and not {prev} < {key}:")
            body.line("    raise _M")
            body.line(f"{prev} = {key}")
        item_expr = self.value(body, t.value, item, level + 1)
        body.flush()
        keep = self.mode != "encode" and key_expr == key and item_expr == item
        if not keep:
            w.line(f"{out} = {{}}")
        if self.mode == "encode":
            if enum_key:
                members = self.ir[t.key.name].members  # type: ignore[union-attr]
                order = self.const({m.name: i for i, m in enumerate(members)})
                w.line(f"for {key} in _sorted({v}, key={order}.__getitem__):")
            else:
                w.line(f"for {key} in _sorted({v}):")
        else:
            w.line(f"{prev} = None")
            w.line(f"for {key}, {item} in {v}.items():")
        w.lines.extend(body.lines)
        if keep:
            return v
        w.line(f"    {out}[{key_expr}] = {item_expr}")
        return out

    def _sub(self, w: _Writer, t: ir.Array | ir.Map, v: str, level: int) -> str:
        """A container in a function of its own (deeply nested anonymous containers)."""
        fname = self.temp("_c")
        sub = self.open(fname)
        for test in self.too_deep(0):
            sub.line(f"if {test}:")
            sub.line("    raise _M")
        expr = self.array(sub, t, "x", 0) if isinstance(t, ir.Array) else self.map(sub, t, "x", 0)
        sub.line(f"return {expr}")
        self.close(sub)
        return f"{fname}({v}, {self.at(level)})"


def _static_depth(schema: ir.Schema) -> int | None:
    """The deepest nesting of containers any value of any type of ``schema`` can have (a union is one level, as
    :data:`fsf.limits.MAX_DEPTH` counts), or None when a type is recursive."""
    memo: dict[str, int | None] = {}

    def of_type(t: ir.Type) -> int:
        if isinstance(t, ir.Optional):
            return of_type(t.inner)
        if isinstance(t, ir.Array):
            return 1 + of_type(t.item)
        if isinstance(t, ir.Map):
            return 1 + max(of_type(t.key), of_type(t.value))
        if isinstance(t, ir.Named):
            return of_decl(t.name)
        return 0

    def of_decl(name: str) -> int:
        if name in memo:
            known = memo[name]
            if known is None:
                raise _Recursive
            return known
        memo[name] = None
        decl = schema[name]
        inner = max((of_type(t) for t in ir.decl_types(decl)), default=0)
        depth = 0 if isinstance(decl, ir.Enum) else inner + 1
        memo[name] = depth
        return depth

    try:
        return max((of_decl(d.name) for d in schema.decls), default=0)
    except (_Recursive, RecursionError):  # RecursionError: a chain of types too long to walk here
        return None


class _Recursive(Exception):
    pass


def _build(schema: ir.Schema, mode: Mode, max_depth: int, utf8: bool = False) -> dict[str, Fused]:
    gen = _Generator(schema, mode, max_depth)
    gen.utf8 = utf8
    for decl in schema.decls:
        gen.decl(decl)
    source = gen.source()
    namespace: dict[str, Any] = {**_RUNTIME, **gen.consts}
    load(source, f"fsf-fused-{mode}{'-utf8' if utf8 else ''}", namespace)
    return {decl.name: _entry(namespace[gen.names[decl.name]]) for decl in schema.decls}


def _entry(fn: Callable[[Any, int], Any]) -> Fused:
    def run(value: Any) -> Any:
        try:
            return fn(value, 1)
        except REFUSALS:  # whatever the generated code stumbled on: the reference path says what
            raise Refused from None

    return run


def decoders(schema: ir.Schema, max_depth: int = MAX_DEPTH) -> dict[str, Fused]:
    """One fused decoder per named type: wire lists -> the canonical Python form; raises :class:`Refused` on
    anything it does not accept."""
    return _build(schema, "lists", max_depth)


def encoders(schema: ir.Schema, max_depth: int = MAX_DEPTH, *, utf8: bool = False) -> dict[str, Fused]:
    """One fused encoder per named type: a Python-form value -> its wire form (nested lists, sorted dicts);
    raises :class:`Refused` on anything :meth:`fsf.Schema.validate` would refuse (and perhaps on more: then ask
    the validator).

    Text is proved UTF-8 only with ``utf8=True`` (a checker whose result is not packed); otherwise the packer
    refuses a lone surrogate.
    """
    return _build(schema, "encode", max_depth, utf8=utf8)


# The fast path hands msgpack a cap on every array and map header: msgpack allocates a declared container up
# front, so a hostile input of nested headers could otherwise claim depth x count x 8 bytes. With at most 1024
# open containers (msgpack's own stack) the transient allocation stays below about 32 x input + 1 MiB; larger
# legitimate containers simply take the reference path.
_FAST_CAP_DIVISOR = 256
_FAST_CAP_FLOOR = 128


class Pure:
    """The pure-Python path of one schema: payload bytes <-> Python form through msgpack and the fused
    functions, built on first use. Every method raises :class:`Refused` for what it does not take."""

    __slots__ = ("_check", "_decode", "_encode", "f32_roots", "ir", "max_count")

    def __init__(self, schema: ir.Schema) -> None:
        self.ir = schema
        self._decode: dict[str, Fused] | None = None
        self._encode: dict[str, Fused] | None = None
        self._check: dict[str, Fused] | None = None
        self.max_count, self.f32_roots = _counts(schema)

    def decode(self, name: str, data: bytes, canonical: bool) -> Any:
        """The Python form of the payload of FSV ``data`` (header already checked) as a ``name``."""
        if self._decode is None:
            self._decode = decoders(self.ir)
        payload = memoryview(data)[HEADER_SIZE:]
        n = len(payload)
        cap = min(self.max_count, n // _FAST_CAP_DIVISOR + _FAST_CAP_FLOOR)
        try:
            wire = msgpack.unpackb(payload, raw=False, strict_map_key=False, max_str_len=n, max_bin_len=n,
                                   max_array_len=cap, max_map_len=cap, max_ext_len=0)
        except REFUSALS:  # malformed, truncated, trailing bytes, over the caps: the reference reader locates it
            raise Refused from None
        value = self._decode[name](wire)
        if canonical:
            again = self._pack(name, wire)
            # The payload of ``data`` byte for byte (memcmp, no copy).
            if len(again) != n or not data.endswith(again):
                raise Refused
        return value

    def encode(self, name: str, value: Any) -> bytes:
        """The canonical payload of ``value`` as a ``name``, validated as it is converted."""
        if self._encode is None:
            self._encode = encoders(self.ir)
        return self._pack(name, self._encode[name](value))

    def accepts(self, name: str, value: Any) -> None:
        """Return when ``value`` is a valid ``name`` (text proved UTF-8 too); raise :class:`Refused` if not sure."""
        if self._check is None:
            self._check = encoders(self.ir, utf8=True)
        self._check[name](value)

    def _pack(self, name: str, wire: Any) -> bytes:
        try:
            if name in self.f32_roots:  # msgpack-python writes every float as float 64
                out = bytearray()
                write_wire(self.ir, ir.Named(name), wire, out)
                return bytes(out)
            return msgpack.packb(wire)  # type: ignore[no-any-return]
        except REFUSALS:  # a lone surrogate in a str
            raise Refused from None


def _counts(schema: ir.Schema) -> tuple[int, frozenset[str]]:
    """The largest count of any container or record of ``schema`` (msgpack's caps need no more), and the types
    whose values may hold an ``f32``, however indirectly (their payloads come from the canonical writer)."""
    max_count = 0
    f32 = set()
    for decl in schema.decls:
        if isinstance(decl, ir.Shape):
            max_count = max(max_count, len(decl.fields))
        elif isinstance(decl, ir.Union_):
            max_count = max([max_count, *(1 + len(v.fields) for v in decl.variants)])
        stack = list(ir.decl_types(decl))
        while stack:
            t = stack.pop()
            if isinstance(t, ir.Float) and t.width == 32:
                f32.add(decl.name)
            if isinstance(t, (ir.Array, ir.Map)):
                max_count = max(max_count, t.hi)
            stack.extend(ir.children(t))
    uses = {decl.name: set(ir.references(decl)) for decl in schema.decls}
    grown = True
    while grown:
        grown = False
        for name, used in uses.items():
            if name not in f32 and used & f32:
                f32.add(name)
                grown = True
    return max_count, frozenset(f32)
