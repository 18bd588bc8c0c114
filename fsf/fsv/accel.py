"""Accel: IR schema -> msgspec ``Struct`` types and typed msgpack decoders (the optional accelerated codec path).

FSV's payload is msgspec's ``array_like`` layout: a shape is an array of its fields in order, a union variant an
``array_like`` Struct with an integer ``tag`` in front, an enum its member index, ``bytes``/``hash``/``ref`` bin,
``time`` an integer. So msgspec's C decoder, given Struct types generated from the IR (bounds as ``Meta``), checks
types, arity, bounds and UTF-8 of a payload in one pass; :func:`fsf.fsv.pure.decoders` (``"structs"``) then does
the rest in Python (enum names, ``blake3:`` refs, map key order, ``-0.0``, the nesting limit), and re-encoding the
Structs with msgspec and comparing bytes is the canonical check. Any failure sends the caller to the reference
reader, so codes, offsets and messages never depend on the path.

msgspec is optional: :data:`AVAILABLE` is false when it is not installed or ``FSF_NO_ACCEL=1`` was set when
this module was first imported. Schemas msgspec cannot express get no accelerator (:func:`build` returns None),
and types whose values may hold an ``f32`` are not decoded here (msgspec writes every float as float 64, so its
re-encoding could not be the canonical check): both use the fused pure-Python path.
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Callable
from typing import Annotated, Any, Optional, Union

from fsf import ir

try:
    if os.environ.get("FSF_NO_ACCEL") == "1":
        raise ImportError("FSF_NO_ACCEL=1")
    import msgspec
except ImportError:
    msgspec = None  # type: ignore[assignment]

AVAILABLE = msgspec is not None
"""True when the accelerated path can be used in this process (read once, at import)."""

_F64_MAX = 1.7976931348623157e308
"""Bounds at the largest finite float make msgspec refuse NaN and the infinities, as FSV does."""
_I64 = ir.INT_RANGES["i64"]


class Accel:
    """The msgspec types of one schema: a typed decoder per root type (built on first use) and one encoder.

    The encoder holds no state between calls that a caller could see: each ``encode`` returns new bytes.
    """

    def __init__(self, classes: dict[str, Any], variants: dict[tuple[str, str], Any], types: dict[str, Any]) -> None:
        self.classes = classes
        self.variants = variants
        """``(union, variant) -> Struct class``, for :func:`fsf.fsv.pure.decoders`."""
        self._types = types
        self._decoders: dict[str, Callable[[Any], Any]] = {}
        self.encode: Callable[[Any], bytes] = msgspec.msgpack.Encoder().encode

    def decoder(self, name: str) -> Callable[[Any], Any]:
        """``decode(payload) -> Struct tree`` for root type ``name`` (raises on anything msgspec refuses)."""
        dec = self._decoders.get(name)
        if dec is None:
            dec = self._decoders[name] = msgspec.msgpack.Decoder(self._types[name]).decode
        return dec


def build(schema: ir.Schema) -> Accel | None:
    """The msgspec types of ``schema``, or None when msgspec is unavailable or cannot carry this schema."""
    if msgspec is None:
        return None
    try:
        return _Builder(schema).build()
    except Exception:  # a construct this msgspec refuses (TypeError, ValueError): the fused path serves it
        return None


def attribute_names(fields: tuple[ir.Field, ...]) -> tuple[str, ...]:
    """The Struct attribute of each field: the field's own name when every one is a plain public identifier
    (then ``msgspec.structs.asdict`` gives the Python form's dict at C speed), else ``f0``, ``f1``, ..."""
    names = tuple(f.name for f in fields)
    if all(n.isidentifier() and not keyword.iskeyword(n) and not n.startswith("_") for n in names):
        return names
    return tuple(f"f{i}" for i in range(len(names)))


class _Builder:
    def __init__(self, schema: ir.Schema) -> None:
        self.ir = schema
        self.classes: dict[str, Any] = {}
        self.variants: dict[tuple[str, str], Any] = {}

    def build(self) -> Accel:
        # Classes first, annotations after: recursive types then refer to the classes themselves (msgspec reads
        # the annotations when a decoder is first built).
        records: list[tuple[Any, tuple[ir.Field, ...]]] = []
        for decl in self.ir.decls:
            if isinstance(decl, ir.Shape):
                cls = self._struct(decl.name, decl.fields, None)
                self.classes[decl.name] = cls
                records.append((cls, decl.fields))
            elif isinstance(decl, ir.Union_):
                for i, v in enumerate(decl.variants):
                    cls = self._struct(f"{decl.name}.{v.name}", v.fields, i)
                    self.variants[decl.name, v.name] = cls
                    records.append((cls, v.fields))
        for cls, fields in records:
            for a, f in zip(attribute_names(fields), fields, strict=True):
                cls.__annotations__[a] = self.type(f.type)
        types = {decl.name: self.type(ir.Named(decl.name)) for decl in self.ir.decls}
        accel = Accel(self.classes, self.variants, types)
        for name in types:  # msgspec checks the types here; a refusal raises TypeError
            accel.decoder(name)
        return accel

    @staticmethod
    def _struct(name: str, fields: tuple[ir.Field, ...], tag: int | None) -> Any:
        options: dict[str, Any] = {"array_like": True, "forbid_unknown_fields": True, "gc": False}
        if tag is not None:
            options["tag"] = tag
        return msgspec.defstruct(name, [(a, Any) for a in attribute_names(fields)], **options)

    def type(self, t: ir.Type) -> Any:
        """The msgspec type of ``t`` (type nesting is bounded by the parser, so recursion is too)."""
        meta: Any = msgspec.Meta
        if isinstance(t, ir.Bool):
            return bool
        if isinstance(t, ir.Int):
            # msgspec takes bounds within int64 only; a wider one is checked by the fused converter instead.
            bounds = {k: v for k, v in (("ge", t.lo), ("le", t.hi)) if _I64[0] <= v <= _I64[1]}
            return Annotated[int, meta(**bounds)] if bounds else int
        if isinstance(t, ir.Time):
            return Annotated[int, meta(ge=_I64[0], le=_I64[1])]
        if isinstance(t, ir.Float):
            lo = -_F64_MAX if t.lo is None else t.lo
            hi = _F64_MAX if t.hi is None else t.hi
            return Annotated[float, meta(ge=lo, le=hi)]
        if isinstance(t, (ir.Str, ir.Bytes)):
            base = str if isinstance(t, ir.Str) else bytes
            bounds = {"min_length": t.lo} if t.lo else {}
            if t.hi is not None:
                bounds["max_length"] = t.hi
            return Annotated[base, meta(**bounds)] if bounds else base
        if isinstance(t, (ir.Hash, ir.Ref)):
            return Annotated[bytes, meta(min_length=ir.HASH_SIZE, max_length=ir.HASH_SIZE)]
        if isinstance(t, ir.Optional):
            return Optional[self.type(t.inner)]  # noqa: UP045 - a runtime type object for msgspec
        if isinstance(t, ir.Array):
            return Annotated[list[self.type(t.item)], meta(min_length=t.lo, max_length=t.hi)]  # type: ignore[misc]
        if isinstance(t, ir.Map):
            return Annotated[dict[self.type(t.key), self.type(t.value)],  # type: ignore[misc]
                             meta(min_length=t.lo, max_length=t.hi)]
        assert isinstance(t, ir.Named)
        decl = self.ir[t.name]
        if isinstance(decl, ir.Enum):
            return Annotated[int, meta(ge=0, le=len(decl.members) - 1)]
        if isinstance(decl, ir.Shape):
            return self.classes[decl.name]
        members = tuple(self.variants[decl.name, v.name] for v in decl.variants)
        return Union[members] if len(members) > 1 else members[0]  # noqa: UP007 - a runtime type object
