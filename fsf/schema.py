"""Schema (façade): one checked IR schema -> the embedded API (ids, compiled program, validators, codec).

Build one with :func:`fsf.load_schema` or :func:`fsf.compile_source`; everything here is derived from the
IR once and cached on the object (no module-level state). Encode, decode, verify and the validator's fast
acceptance all go to the schema's one :class:`fsf.fsv.codec.Codec`, which keeps its own caches.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

import attrs

from fsf import ir
from fsf.errors import UsageError, ValidationError
from fsf.ir.ids import format_id, type_ids
from fsf.limits import MAX_DEPTH

if TYPE_CHECKING:
    from fsf.bytecode.opcodes import Program
    from fsf.codegen.objects import ObjectPlan
    from fsf.evolve import Convert, Side
    from fsf.fsv.codec import Codec, Fallback

T = TypeVar("T")

TypeName = str | type[Any] | types.UnionType
"""How a root type is named: its FSF name (``"ForgePlan"``), or a class generated from this schema by ``fsf
codegen --target python`` (``forge_plan.ForgePlan``: a shape's or enum's class; a union variant's class or the
union's alias stands for the union), which a type checker can check."""

DEFAULT_MAX_DEPTH = MAX_DEPTH
"""Values nested deeper than this (containers inside containers, by the rule of :data:`fsf.limits.MAX_DEPTH`)
are refused."""


class StoreLike(Protocol):
    """What decoding and verifying need of a store (:class:`fsf.store.Store`): writer schemas by type id, and
    the reference check."""

    def schema(self, type_id: str) -> Schema: ...

    def check_refs(self, data: bytes, schema: Schema | None = None, *, deep: bool = True) -> int: ...


@attrs.frozen
class Read:
    """A value read by :meth:`Schema.read`: the value (the reader's Python form), the reader type's name, the
    writer type's id, and whether it was resolved from another type (``docs/evolution.md``)."""

    value: Any
    name: str
    writer_id: str
    resolved: bool


class Schema:
    """A checked schema: its named types, their ids, and validation.

    >>> s = compile_source("shape Task { id: str[1..8] }")  # doctest: +SKIP
    >>> s.validate("Task", {"id": "T1"})                       # doctest: +SKIP
    """

    __slots__ = ("_codec", "_fast", "_ids", "_names_by_id", "_objects", "_plans", "_program", "ir", "origin")

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
        self._plans: dict[tuple[int, bytes, str | None], tuple[Schema, str, str, Convert]] = {}

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

    def validate(self, name: TypeName, value: Any, *, engine: str = "fast", all_errors: bool = False) -> None:
        """Return None if ``value`` is a valid ``name``, else raise :class:`fsf.ValidationError` for its first error.

        ``engine="vm"`` runs the reference bytecode VM instead of the fast path. The fast path first asks the
        codec's fast paths (accept-only, see ``docs/fsv.md``); anything they do not take goes to the validator
        specialised from the bytecode, which decides and words the error exactly as the VM.

        ``all_errors=True`` raises one error whose ``.errors`` lists every error of the value in its order (a
        valid value costs what it costs by default; the errors are found by the VM, which walks on past each):

        >>> s.validate("Task", {"id": 7, "dependsOn": [1]}, all_errors=True)   # doctest: +SKIP
        fsf.errors.ValidationError: Expected `str`, got `int` - at `$.id`
        Expected `str`, got `int` - at `$.dependsOn[0]`
        """
        if type(name) is not str:
            name = self._type_name(name)
        if engine == "fast" and not all_errors:
            if self.codec.accepts(name, value):
                return
            self._judge(name, value, vm=False)
            return
        self._require(name)
        if engine != "fast" and engine != "vm":
            raise UsageError(f"unknown engine `{engine}`; use `fast` or `vm`")
        if not all_errors:
            self._judge(name, value, vm=True)
            return
        if engine == "fast" and self.codec.accepts(name, value):
            return
        from fsf.bytecode.vm import errors

        found = errors(self.program, name, value, DEFAULT_MAX_DEPTH)
        if found:
            raise ValidationError.every(found)

    def from_json(self, name: TypeName, data: Any, *, all_errors: bool = False) -> Any:
        """The Python form of ``data``, a ``name`` in the JSON form (``docs/fsv.md``, "JSON form"; what
        ``json.load`` gives), validated: what :meth:`encode` takes. Raises :class:`fsf.ValidationError` for a
        wrong JSON spelling (base64, hex, RFC 3339 time, integer map key) as for any other error; ``all_errors``
        as in :meth:`validate`, the wrong spellings among them.

        >>> s.from_json("Event", {"at": "2026-11-22T00:00:00.5Z"})   # doctest: +SKIP
        {'at': 1795305600500000000}
        """
        from fsf.fsv.jsonform import from_json

        name = self._type_name(name)
        value = from_json(self, name, data, collect=all_errors)
        self.validate(name, value, all_errors=all_errors)
        return value

    def to_json(self, name: TypeName, value: Any) -> Any:
        """The JSON form of ``value`` (the Python form or objects of generated classes), validated first: plain
        dicts, lists, str, int, float, bool and None for ``json.dump``. The inverse of :meth:`from_json`."""
        from fsf.fsv.jsonform import to_json

        name = self._type_name(name)
        return to_json(self, name, self._python_form(name, value))

    def _type_name(self, name: TypeName) -> str:
        """The FSF type ``name`` stands for (:data:`TypeName`); :class:`fsf.UsageError` for a class generated
        from another schema, or anything else."""
        if type(name) is str:
            return name
        cls = typing.get_args(name)[0] if isinstance(name, types.UnionType) else name
        if not isinstance(cls, type):
            raise UsageError(f"a type is named by a `str` or a class generated from the schema, not "
                             f"`{type(name).__name__}`")
        from fsf.codegen.objects import root_of

        found = root_of(self.object_plan, name)[1]
        assert found is not None
        if issubclass(cls, enum.Enum):
            decl = self.ir[found]
            generated = isinstance(decl, ir.Enum) and [m.value for m in cls] == [m.name for m in decl.members]
        else:
            generated = getattr(cls, "FSF_ID", None) == self.id(found)
        if not generated:
            raise UsageError(f"class `{cls.__qualname__}` was not generated from this schema's `{found}` (its id is "
                             f"{getattr(cls, 'FSF_ID', 'missing')}, here {self.id(found)}); regenerate it with "
                             "`fsf codegen --target python`")
        return found

    def _python_form(self, name: str, value: Any) -> Any:
        """``value`` with the objects of generated classes in it converted to the Python form."""
        if type(value) is dict:  # a dict tree costs nothing extra, not even the import
            return value
        from fsf.codegen.objects import is_object, to_python_form

        if is_object(value) and name in self.ir:
            return to_python_form(self.object_plan, name, value)
        return value

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

    def encode(self, name: TypeName, value: Any) -> bytes:
        """Validate ``value`` as a ``name`` and return its canonical FSV bytes (raises :class:`fsf.ValidationError`).

        >>> data = s.encode("Task", {"id": "T1"})   # doctest: +SKIP

        ``value`` may also be an object of a class generated by ``fsf codegen --target python`` (same bytes).
        """
        if type(name) is not str:
            name = self._type_name(name)
        if type(value) is not dict:  # a dict tree costs nothing extra, not even a call
            return self.object_plan.encode(name, value, self.codec)
        return self.codec.encode(name, value)

    @overload
    def decode(self, data: bytes, name: TypeName | None = None, *, into: type[T], canonical: bool = True,
               max_values: int | None = None, store: StoreLike | None = None, exact: bool = False) -> T: ...

    @overload
    def decode(self, data: bytes, name: TypeName | None = None, *,
               into: types.ModuleType | types.UnionType | None = None, canonical: bool = True,
               max_values: int | None = None, store: StoreLike | None = None, exact: bool = False) -> Any: ...

    def decode(self, data: bytes, name: TypeName | None = None, *, into: Any = None, canonical: bool = True,
               max_values: int | None = None, store: StoreLike | None = None, exact: bool = False) -> Any:
        """The value of FSV bytes ``data`` (root type from its header; ``name`` insists on one), validated.

        Returns the canonical Python form: every field present (an absent optional is ``None``), ``time`` as
        integer nanoseconds. Raises :class:`fsf.DecodeError` (with ``.code`` and ``.offset``) for anything else.
        ``into`` (a module generated by ``fsf codegen --target python``, or one of its classes) returns objects
        of its classes instead. ``canonical=False`` still validates everything but skips the byte-for-byte
        comparison with the re-encoded value, for bytes this library wrote itself (a non-canonical spelling may
        then be accepted; the strict default refuses every one). ``max_values`` is the decode budget: bytes
        holding more msgpack values than that are refused with the code ``budget`` (None, the default: no
        limit; see ``docs/fsv.md``, "Decode budget").

        With a ``store``, a value written with another type (an older or newer version of it) is read strictly
        as its writer type from the store, then resolved into this schema's type by the rules of
        ``docs/evolution.md`` (:class:`fsf.errors.IncompatibleError`, code ``incompatible``, when it cannot be;
        ``schema_unknown`` when the writer's schema is not in the store). ``exact=True`` refuses any writer but
        the reader's own type (``schema_mismatch``), as without a store.
        """
        if name is not None and type(name) is not str:
            name = self._type_name(name)
        if store is None:  # the common calls, as direct as the codec's own
            if into is None:
                return self.codec.decode(data, name, canonical=canonical, max_values=max_values)
            from fsf.codegen.objects import decode_into

            return decode_into(self.object_plan, data, name, into, self.codec, canonical=canonical,
                               max_values=max_values)
        return self.read(data, name, into=into, canonical=canonical, max_values=max_values, store=store,
                         exact=exact).value

    def read(self, data: bytes, name: TypeName | None = None, *, into: Any = None, canonical: bool = True,
             max_values: int | None = None, store: StoreLike | None = None, exact: bool = False) -> Read:
        """:meth:`decode`, with what it learnt: the reader type's name, the writer type's id and whether the value
        was resolved from another type."""
        from fsf.fsv.header import read_header

        if name is not None and type(name) is not str:
            name = self._type_name(name)

        header = read_header(data)
        writer_id = format_id(header.root_id)
        resolved = store is not None and not exact and not self._reads_directly(header.root_id, name)
        if resolved:
            assert store is not None
            rname, value = self._resolve(bytes(data), header.root_id, name, store, canonical, max_values)
            if into is not None:
                from fsf.codegen.objects import from_python_form

                value = from_python_form(self.object_plan, into, rname, value)
            return Read(value, rname, writer_id, True)
        if into is not None:
            from fsf.codegen.objects import decode_into

            value = decode_into(self.object_plan, data, name, into, self.codec, canonical=canonical,
                                max_values=max_values)
        else:
            value = self.codec.decode(data, name, canonical=canonical, max_values=max_values)
        found = self.name_of(header.root_id)
        assert found is not None
        return Read(value, found, writer_id, False)

    def _reads_directly(self, root_id: bytes, name: str | None) -> bool:
        """True if the value's root type is this schema's own (``name``'s, when given): no resolution."""
        found = self.name_of(root_id)
        return found is not None and (name is None or name == found)

    def _resolve(self, data: bytes, root_id: bytes, name: str | None, store: StoreLike, canonical: bool,
                 max_values: int | None) -> tuple[str, Any]:
        """Decode ``data`` strictly as its writer type from ``store``, then resolve it into ``name`` (or the type
        its root matches by name or ``@was``)."""
        writer = store.schema(format_id(root_id))
        key = (id(writer), root_id, name)
        hit = self._plans.get(key)
        if hit is None:
            hit = self._plans[key] = self._plan(writer, root_id, name)
        _, wname, rname, convert = hit
        return rname, convert(writer.codec.decode(data, wname, canonical=canonical, max_values=max_values))

    def _plan(self, writer: Schema, root_id: bytes, name: str | None) -> tuple[Schema, str, str, Convert]:
        """What reading ``writer``'s root ``root_id`` as ``name`` (or the matching type) needs, built once: the
        writer (kept, so the cache key's ``id`` stays its own), both names and the resolving function."""
        from fsf.errors import IncompatibleError
        from fsf.evolve import match_root, resolver
        from fsf.fsv.format import HEADER_SIZE

        wname = writer.name_of(root_id)
        assert wname is not None
        rname = name if name is not None else match_root(writer._side(), wname, self._side())
        if rname is None:  # no reader type to label or locate: the reader is named by the file it came from
            raise IncompatibleError("ROOT_TYPE_MISSING", f"the reader has no type `{wname}` (nor one whose "
                                    f"`@was` names it)", path="$", writer=writer._side().label(wname),
                                    reader="this schema" if self.origin is None else f"the schema `{self.origin}`",
                                    site=wname, offset=HEADER_SIZE)
        self._require(rname)
        return writer, wname, rname, resolver(writer._side(), wname, self._side(), rname)

    def locate(self, decl: str, item: str | None = None) -> str | None:
        """Where declaration ``decl`` (or its field, member or variant ``item``) was written, ``file:line:col``;
        None for a schema loaded from a ``.fsb`` or a store. Resolution errors and ``fsf breaking`` quote it."""
        span = ir.span_of(self.ir, decl, item)
        return None if span is None else str(span)

    def _side(self) -> Side:
        from fsf.evolve import Side

        return Side(self.ir, self._ids, self.locate)

    def verify(self, data: bytes, name: TypeName | None = None, *, max_values: int | None = None,
               store: StoreLike | None = None, exact: bool = False) -> str:
        """Check that FSV bytes ``data`` are a canonical, valid value (of ``name``, if given) without keeping the
        value; returns its root type's name. Raises :class:`fsf.DecodeError` exactly as :meth:`decode` does,
        with the same budget ``max_values`` (counted the same way, though nothing is built).

        With a ``store`` (:func:`fsf.open_store`), a value of another writer type must resolve into this schema's
        type (as :meth:`decode` does; ``exact`` as there), and every ``ref<T>`` in the value must name a value in
        the store whose root type is ``T``, through the whole graph (:class:`fsf.StoreError` ``dangling_ref`` or
        ``ref_type``, with the value path)."""
        if name is not None and type(name) is not str:
            name = self._type_name(name)
        if store is None:
            return self.codec.verify(data, name, max_values=max_values)
        from fsf.fsv.header import read_header

        root_id = read_header(data).root_id
        if exact or self._reads_directly(root_id, name):
            found = self.codec.verify(data, name, max_values=max_values)
            store.check_refs(data, self)
            return found
        rname, _ = self._resolve(bytes(data), root_id, name, store, True, max_values)
        store.check_refs(data)
        return rname

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
