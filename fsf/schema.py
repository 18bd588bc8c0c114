"""Schema (façade): one checked IR schema -> the embedded API (ids, compiled program, validators, codec).

Build one with :func:`fsf.load_schema` or :func:`fsf.compile_source`; everything here is derived from the
IR once and cached on the object (no module-level state). Encode, decode, verify and the validator's fast
acceptance all go to the schema's one :class:`fsf.fsv.codec.Codec`, which keeps its own caches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fsf import ir
from fsf.errors import UsageError
from fsf.ir.ids import format_id, type_ids
from fsf.limits import MAX_DEPTH

if TYPE_CHECKING:
    from fsf.bytecode.opcodes import Program
    from fsf.codegen.objects import ObjectPlan
    from fsf.fsv.codec import Codec, Fallback

DEFAULT_MAX_DEPTH = MAX_DEPTH
"""Values nested deeper than this (containers inside containers, by the rule of :data:`fsf.limits.MAX_DEPTH`)
are refused."""


class Schema:
    """A checked schema: its named types, their ids, and validation.

    >>> s = compile_source("shape Task { id: str[1..8] }")  # doctest: +SKIP
    >>> s.validate("Task", {"id": "T1"})                       # doctest: +SKIP
    """

    __slots__ = ("_codec", "_fast", "_ids", "_names_by_id", "_objects", "_program", "ir", "origin")

    def __init__(self, schema_ir: ir.Schema, program: Program | None = None, origin: str | None = None) -> None:
        self.ir = schema_ir
        self.origin = origin
        """The file this schema was loaded from (None when compiled from text); views look for templates there."""
        self._ids = type_ids(schema_ir)
        self._names_by_id = {digest: name for name, digest in self._ids.items()}
        self._program = program
        self._fast: dict[str, Callable[[Any], None]] | None = None
        self._codec: Codec | None = None
        self._objects: ObjectPlan | None = None

    def __repr__(self) -> str:
        return f"<fsf.Schema {', '.join(self.shapes)}>"

    @property
    def shapes(self) -> tuple[str, ...]:
        """Every named type (shapes, enums, unions), sorted by name."""
        return self.ir.names

    def id(self, name: str) -> str:
        """The id of a named type: ``blake3:`` + 64 hex digits."""
        return format_id(self.id_bytes(name))

    def id_bytes(self, name: str) -> bytes:
        """The 32-byte id digest of a named type."""
        self._require(name)
        return self._ids[name]

    def name_of(self, digest: bytes) -> str | None:
        """The named type whose id digest is ``digest``, if this schema has one."""
        return self._names_by_id.get(digest)

    @property
    def program(self) -> Program:
        """The compiled bytecode program (one validator per named type)."""
        if self._program is None:
            from fsf.bytecode.compile import compile_schema

            self._program = compile_schema(self.ir)
        return self._program

    @property
    def codec(self) -> Codec:
        """The codec of this schema (built on first use, once): every path available (``docs/fsv.md``)."""
        codec = self._codec
        if codec is None:
            from fsf.fsv.codec import Codec

            codec = self._codec = Codec(self)
        return codec

    def using(self, *paths: str, on_fallback: Fallback | None = None) -> Schema:
        """This schema with a codec that runs only ``paths`` (see :class:`fsf.fsv.codec.Codec`); everything else,
        the compiled caches included, is shared. For tests and benchmarks that pick a path."""
        other = Schema.__new__(Schema)
        for slot in Schema.__slots__:
            if hasattr(self, slot):
                setattr(other, slot, getattr(self, slot))
        other._codec = self.codec.with_paths(*paths, on_fallback=on_fallback)
        return other

    def validate(self, name: str, value: Any, *, engine: str = "fast") -> None:
        """Return None if ``value`` is a valid ``name``, else raise :class:`fsf.ValidationError`.

        ``engine="vm"`` runs the reference bytecode VM instead of the fast path. The fast path first asks the
        codec's fast paths (accept-only, see ``docs/fsv.md``); anything they do not take goes to the validator
        specialised from the bytecode, which decides and words the error exactly as the VM.
        """
        if engine == "fast":
            if self.codec.accepts(name, value):
                return
            self._judge(name, value, vm=False)
            return
        self._require(name)
        if engine != "vm":
            raise UsageError(f"unknown engine `{engine}`; use `fast` or `vm`")
        self._judge(name, value, vm=True)

    def _judge(self, name: str, value: Any, *, vm: bool) -> None:
        """The reference judgement of ``value`` (the codec's reference path calls it): the bytecode VM, or the
        validator specialised from it (same verdicts, messages and paths)."""
        if vm:
            from fsf.bytecode.vm import run

            run(self.program, name, value, DEFAULT_MAX_DEPTH)
            return
        if self._fast is None:
            from fsf.bytecode.specialize import specialize

            self._fast = dict(specialize(self.program, DEFAULT_MAX_DEPTH))
        self._fast[name](value)

    def encode(self, name: str, value: Any) -> bytes:
        """Validate ``value`` as a ``name`` and return its canonical FSV bytes (raises :class:`fsf.ValidationError`).

        >>> data = s.encode("Task", {"id": "T1"})   # doctest: +SKIP

        ``value`` may also be an object of a class generated by ``fsf codegen --target python`` (same bytes).
        """
        from fsf.codegen.objects import is_object, to_python_form
        if type(value) is not dict and is_object(value) and name in self.ir:  # a dict tree costs nothing extra
            value = to_python_form(self.object_plan, name, value)
        return self.codec.encode(name, value)

    def decode(self, data: bytes, name: str | None = None, *, into: Any = None, canonical: bool = True,
               max_values: int | None = None) -> Any:
        """The value of FSV bytes ``data`` (root type from its header; ``name`` insists on one), validated.

        Returns the canonical Python form: every field present (an absent optional is ``None``), ``time`` as
        integer nanoseconds. Raises :class:`fsf.DecodeError` (with ``.code`` and ``.offset``) for anything else.
        ``into`` (a module generated by ``fsf codegen --target python``, or one of its classes) returns objects
        of its classes instead. ``canonical=False`` still validates everything but skips the byte-for-byte
        comparison with the re-encoded value, for bytes this library wrote itself (a non-canonical spelling may
        then be accepted; the strict default refuses every one). ``max_values`` is the decode budget: bytes
        holding more msgpack values than that are refused with the code ``budget`` (None, the default: no
        limit; see ``docs/fsv.md``, "Decode budget").
        """
        if into is not None:
            from fsf.codegen.objects import decode_into
            from fsf.fsv.codec import root_name

            return decode_into(self.object_plan, data, name, into,
                               lambda b, n: self.decode(b, n, canonical=canonical, max_values=max_values),
                               lambda header: root_name(self, header, None))
        return self.codec.decode(data, name, canonical=canonical, max_values=max_values)

    def verify(self, data: bytes, name: str | None = None, *, max_values: int | None = None) -> str:
        """Check that FSV bytes ``data`` are a canonical, valid value (of ``name``, if given) without keeping the
        value; returns its root type's name. Raises :class:`fsf.DecodeError` exactly as :meth:`decode` does,
        with the same budget ``max_values`` (counted the same way, though nothing is built)."""
        return self.codec.verify(data, name, max_values=max_values)

    @property
    def object_plan(self) -> ObjectPlan:
        """What the conversions between generated objects and the Python form need (built once, kept here)."""
        if self._objects is None:
            from fsf.codegen.objects import make_plan

            self._objects = make_plan(self.ir, {n: self.id(n) for n in self.shapes})
        return self._objects

    def _require(self, name: str) -> None:
        if name not in self.ir:
            known = ", ".join(f"`{n}`" for n in self.shapes) or "none"
            raise UsageError(f"schema has no type `{name}`; it has {known}")
