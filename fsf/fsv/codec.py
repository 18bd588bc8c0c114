"""Codec: Python values of an IR schema <-> FSV bytes (container header + canonical positional msgpack).

One :class:`Codec` per :class:`fsf.Schema` (built once, on first use, by the schema) runs every encode, decode,
verify and the validator's fast acceptance through up to three paths, in this order (``docs/fsv.md``,
"Execution paths"):

* ``native``: the C codec of :mod:`fsf.fsv.native` (``fsf/fsv/_native.c``), one pass over the bytes or the
  value, when it is built;
* ``pure``: the fused Python functions of :mod:`fsf.fsv.pure` over msgpack;
* ``reference``: the reference reader :func:`read_reference` (exact code and offset of the first problem), the
  validator (exact message and path) and the canonical writer :func:`write_wire`. It always decides: a fast path
  never words an error.

A fast path that does not take an input raises :class:`fsf.errors.Refused`, and only that is caught: the next
path runs. No path runs twice on one call. A decode the native path refuses goes straight to the reference path
(the native decoder checks every rule, so its refusal means there is a problem to locate). The format is
specified in ``docs/fsv.md``; the header is :mod:`fsf.fsv.header`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from fsf import ir
from fsf.errors import DecodeError, Refused, UsageError, ValidationError
from fsf.fsv import native as _native_path
from fsf.fsv.format import REF_PREFIX, time_ns
from fsf.fsv.header import HEADER_SIZE, MAGIC, Header, pack_header, read_header
from fsf.fsv.header import content_id as content_id  # re-exported
from fsf.ir.ids import format_id
from fsf.limits import MAX_DEPTH as MAX_DEPTH  # re-exported: the nesting limit (fsf.limits)

if TYPE_CHECKING:
    from fsf.fsv.pure import Pure
    from fsf.fsv.reader import read_reference as read_reference  # re-exported
    from fsf.fsv.writer import write_wire as write_wire  # re-exported

# The pure path, the reference reader and the canonical writer are imported when a call first needs them: a value
# the native path serves loads none of them (start-up: `fsv verify` of one file).
_LAZY = {"read_reference": "fsf.fsv.reader", "write_wire": "fsf.fsv.writer"}


def __getattr__(name: str) -> Any:
    """The re-exported names of the reference path (:data:`_LAZY`), imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

time_to_ns = time_ns
"""The one date -> nanoseconds of the format (:func:`fsf.fsv.format.time_ns`), by its old name here."""


class Schema(Protocol):
    """What the codec needs of its façade, :class:`fsf.Schema` (named here so the codec does not import it)."""

    @property
    def ir(self) -> ir.Schema: ...

    @property
    def shapes(self) -> tuple[str, ...]: ...

    def id_bytes(self, name: str) -> bytes: ...

    def name_of(self, digest: bytes) -> str | None: ...

    def _require(self, name: str) -> None: ...

    def _judge(self, name: str, value: Any, *, vm: bool) -> None: ...

    @property
    def codec(self) -> Codec: ...

PATHS = ("native", "pure", "reference")
"""The execution paths, in the order a :class:`Codec` tries them. All give the same bytes, values, codes,
offsets and messages."""

DEFAULT_PATHS: tuple[str, ...] = PATHS if _native_path.AVAILABLE else PATHS[1:]
"""What a schema's codec runs: every path, less ``native`` when it is not built or ``FSF_NO_NATIVE=1`` was set
when :mod:`fsf.fsv.native` was first imported. Read once; a constant, never reassigned."""


Fallback = Callable[[str, str], None]
"""``on_fallback(path, operation)``: told each time ``path`` refuses during ``operation`` (``encode``, ``decode``,
``verify`` or ``accepts``; ``decode into`` when the native decoder cannot build a module's classes itself,
``encode objects`` when the native encoder cannot read them itself),
before the next path runs; raising from it makes the call raise that."""

ToWire = Callable[[Any], Any]


# ---------------------------------------------------------------------------------------------------------------
# The reference path's Python form -> wire form, compiled once per schema.


def _identity(x: Any) -> Any:
    return x


class Plan:
    """The reference path's converters of one schema: *valid* Python form -> wire form for every named type,
    which the canonical writer :func:`write_wire` then writes.

    All converters are built on first use, declarations in dependency order (so a use of another type calls its
    converter directly; only uses inside a recursive cycle go through a lookup), iteratively however long the
    chains of types are. Leaf conversions that are the identity are folded away. One plan per schema, kept by
    its :class:`Codec`.
    """

    __slots__ = ("_to_wire", "ir")

    def __init__(self, schema: ir.Schema) -> None:
        self.ir = schema
        self._to_wire: dict[str, ToWire] = {}

    def to_wire(self, name: str) -> ToWire:
        """The converter of *valid* Python values of ``name`` to wire form."""
        if not self._to_wire:
            self._build()
        return self._to_wire[name]

    def _build(self) -> None:
        # Built aside and published whole, so a concurrent caller never sees a half-built table.
        builder = _Builder(self.ir)
        for name in _dependency_order(self.ir):
            decl = self.ir[name]
            builder._to_wire[name] = builder._decl_to_wire(decl)
        self._to_wire = builder._to_wire


class _Builder:
    """Builds the converters of one schema (see :class:`Plan`)."""

    def __init__(self, schema: ir.Schema) -> None:
        self.ir = schema
        self._to_wire: dict[str, ToWire] = {}

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
            from fsf.fsv.writer import is_enum

            value = self._type_to_wire(t.value)
            if is_enum(self.ir, t.key):
                decl = self.ir[t.key.name]  # type: ignore[union-attr]
                index = {m.name: i for i, m in enumerate(decl.members)}  # type: ignore[union-attr]
                return lambda x: {index[k]: value(x[k]) for k in sorted(x, key=index.__getitem__)}
            return lambda x: {k: value(x[k]) for k in sorted(x)}
        if isinstance(t, ir.Named):
            return self._named_to_wire(t.name)
        return _identity

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


def _float_to_wire(x: Any) -> float:
    return float(x) + 0.0  # -0.0 + 0.0 is +0.0: one zero on the wire


def _ref_to_wire(x: str) -> bytes:
    return bytes.fromhex(x[len(REF_PREFIX):])


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

# ---------------------------------------------------------------------------------------------------------------
# The codec.


class _Shared:
    """What every :class:`Codec` of one schema shares, whichever paths it runs: built once, on first use."""

    __slots__ = ("_plan", "_pure", "by_header", "by_id", "by_name", "native", "nodes", "variants")

    def __init__(self, schema: Schema) -> None:
        self.nodes = {decl.name: i for i, decl in enumerate(schema.ir.decls)}
        """The node of each named type in the native codec's table (:func:`fsf.fsv.native.program`)."""
        self.by_name = {name: (self.nodes[name], pack_header(schema.id_bytes(name))) for name in schema.shapes}
        """A type's name -> its node and the header of its values."""
        self.by_id = {schema.id_bytes(name): self.nodes[name] for name in schema.shapes}
        """The root type's id digest -> its node."""
        self.by_header = {header: (node, name) for name, (node, header) in self.by_name.items()}
        """A whole header -> the node and name of its root type: the one lookup of the common call."""
        self.native: Any = _native_path.codec(schema.ir)
        self._pure: Pure | None = None
        self._plan: Plan | None = None
        self.variants: dict[tuple[tuple[str, ...], Fallback | None], Codec] = {}

    def pure(self, schema: ir.Schema) -> Pure:
        if self._pure is None:
            from fsf.fsv.pure import Pure

            self._pure = Pure(schema)
        return self._pure

    def plan(self, schema: ir.Schema) -> Plan:
        if self._plan is None:
            self._plan = Plan(schema)
        return self._plan


class Codec:
    """Encode, decode, verify and fast acceptance for one schema, through its ``paths`` (see :data:`PATHS`).

    >>> codec = Codec(schema)                                   # doctest: +SKIP
    >>> codec.decode(codec.encode("Task", {"id": "T1"}))        # doctest: +SKIP
    {'id': 'T1'}

    ``paths`` is a selection of :data:`PATHS` in that order (``reference`` is always last, added if left out;
    ``native`` is dropped when it is not built). ``on_fallback`` (see :data:`Fallback`) is for tests: a fast
    path that stops serving then fails loudly. :meth:`with_paths` gives the codec of the same schema with other
    paths, sharing every compiled cache.
    """

    __slots__ = ("_native", "_pure", "_schema", "_shared", "_uses_pure", "_vm", "on_fallback", "paths")

    def __init__(self, schema: Schema, paths: tuple[str, ...] = DEFAULT_PATHS, *,
                 on_fallback: Fallback | None = None, _shared: _Shared | None = None) -> None:
        unknown = [p for p in paths if p not in PATHS]
        if unknown or list(paths) != sorted(paths, key=PATHS.index) or len(set(paths)) != len(paths):
            raise UsageError(f"codec paths must be a selection of {', '.join(PATHS)}, in that order; got {paths!r}")
        shared = _shared if _shared is not None else _Shared(schema)
        if shared.native is None:
            paths = tuple(p for p in paths if p != "native")
        if "reference" not in paths:
            paths = (*paths, "reference")
        self.paths: tuple[str, ...] = paths
        self.on_fallback = on_fallback
        self._schema = schema
        self._shared = shared
        self._native: Any = shared.native if "native" in paths else None
        self._uses_pure = "pure" in paths
        self._pure: Pure | None = None
        """The pure path, built when it first runs (:meth:`_pure_path`): a call the native path serves never
        needs it."""
        self._vm = paths == ("reference",)
        """Only the reference path: values are judged by the reference VM, not the validator specialised from
        it (the two agree exactly; this keeps the VM under every reference-path test)."""

    def _pure_path(self) -> Pure | None:
        """The pure path when this codec runs it (built on first use, shared with the schema's other codecs)."""
        if self._pure is None and self._uses_pure:
            self._pure = self._shared.pure(self._schema.ir)
        return self._pure

    def with_paths(self, *paths: str, on_fallback: Fallback | None = None) -> Codec:
        """This schema's codec that runs ``paths`` (built once per choice, sharing every cache)."""
        key = (paths, on_fallback)
        codec = self._shared.variants.get(key)
        if codec is None:
            codec = Codec(self._schema, paths, on_fallback=on_fallback, _shared=self._shared)
            # One codec per effective choice, however it was spelled.
            codec = self._shared.variants.setdefault((codec.paths, on_fallback), codec)
            self._shared.variants[key] = codec
        return codec

    @property
    def native(self) -> Any:
        """The native program this codec runs (:func:`fsf.fsv.native.codec`), or None."""
        return self._native

    @property
    def nodes(self) -> dict[str, int]:
        """The native program's node of each named type."""
        return self._shared.nodes

    @property
    def plan(self) -> Plan:
        """The reference path's Python form -> wire form converters."""
        return self._shared.plan(self._schema.ir)

    def _fell(self, path: str, operation: str) -> None:
        if self.on_fallback is not None:
            self.on_fallback(path, operation)

    # -- encode ----------------------------------------------------------------------------------------------

    def encode(self, name: str, value: Any) -> bytes:
        """Validate ``value`` as a ``name`` and return its FSV bytes (raises :class:`fsf.ValidationError`).

        The native encoder takes only the exact types of the canonical form and the pure one what the validator
        accepts (a lone surrogate is refused by the packer); both validate while they write.
        """
        entry = self._shared.by_name.get(name)
        if entry is None:
            self._schema._require(name)
            raise AssertionError(name)  # pragma: no cover (every named type has a header)
        node, header = entry
        if self._native is not None:
            try:
                data: bytes = self._native.encode(value, node, header)
                return data
            except Refused:
                self._fell("native", "encode")
        return self._encode_after_native(name, value, header)

    def encode_objects(self, name: str, value: Any, classes: Any, convert: Callable[[Any], Any]) -> bytes:
        """:meth:`encode` of objects of generated classes: ``classes`` is the binding of their classes to this
        codec's native program (``Program.bind`` of :attr:`native`; None when it cannot read them),
        ``convert(value)`` the Python form of ``value``. The native encoder reads the objects in its one pass,
        with every check of :meth:`encode`; any other case converts the value and encodes its Python form (after
        a native refusal, on the paths after the native one; the reference path still decides and words every
        error)."""
        entry = self._shared.by_name.get(name)
        if entry is None:
            self._schema._require(name)
            raise AssertionError(name)  # pragma: no cover (every named type has a header)
        program = self._native
        if program is not None:
            if classes is not None:
                node, header = entry
                try:
                    data: bytes = program.encode(value, node, header, classes)
                    return data
                except Refused:
                    self._fell("native", "encode")
                    return self._encode_after_native(name, convert(value), header)
            self._fell("native", "encode objects")
        return self.encode(name, convert(value))

    def _encode_after_native(self, name: str, value: Any, header: bytes) -> bytes:
        """:meth:`encode` on the paths after the native one: the pure encoder, then the validator and the
        canonical writer."""
        pure = self._pure_path()
        if pure is not None:
            try:
                return header + pure.encode(name, value)
            except Refused:
                self._fell("pure", "encode")
        from fsf.fsv.writer import write_wire

        self._validate(name, value)
        out = bytearray(header)
        write_wire(self._schema.ir, ir.Named(name), self.plan.to_wire(name)(value), out)
        return bytes(out)

    def accepts(self, name: str, value: Any) -> bool:
        """True when a fast path takes ``value`` as a ``name``, which proves it valid; False means "ask the
        validator" (which words the error; the value may even be valid: a lenient spelling, say, or a value near
        the nesting limit). The native encoder writes it to nothing; the pure checker also proves text UTF-8."""
        if self._native is not None:
            node = self._shared.nodes.get(name)
            if node is None:
                self._schema._require(name)
            try:
                self._native.encode(value, node, b"")
                return True
            except Refused:
                self._fell("native", "accepts")
        pure = self._pure_path()
        if pure is not None:
            if name not in self._shared.nodes:
                self._schema._require(name)
            try:
                pure.accepts(name, value)
                return True
            except Refused:
                self._fell("pure", "accepts")
        return False

    # -- decode and verify -----------------------------------------------------------------------------------

    def decode(self, data: bytes | bytearray | memoryview, name: str | None = None, *, canonical: bool = True,
               max_values: int | None = None) -> Any:
        """The canonical Python value of FSV bytes ``data``, validated; raises :class:`fsf.DecodeError`.

        Absent optionals come back as ``None``, ``time`` as integer nanoseconds, every float as ``float``.
        ``canonical=False`` skips the pure path's byte-for-byte comparison with the re-encoded value
        (everything else is still checked; a non-canonical spelling may then be accepted, or refused as
        ``non_canonical``). ``max_values`` is the decode budget: a payload of more msgpack values is refused with
        ``budget`` at the head of the first one beyond it (``docs/fsv.md``, "Decode budget").
        """
        budget = _NO_BUDGET if max_values is None else check_budget(max_values)
        program = self._native
        if program is not None and type(data) is bytes:  # the common call: a header of this schema, one lookup
            hit = self._shared.by_header.get(data[:HEADER_SIZE])
            if hit is not None and (name is None or name == hit[1]):
                try:
                    return program.decode(data, HEADER_SIZE, hit[0], budget)
                except Refused:
                    self._fell("native", "decode")
                    return self._decode_reference(data, hit[1], max_values)
        data = _as_bytes(data)
        name = root_name(self._schema, read_header(data), name)
        if program is not None:  # always strict: it checks every spelling as it reads
            try:
                return program.decode(data, HEADER_SIZE, self._shared.nodes[name], budget)
            except Refused:
                self._fell("native", "decode")
                return self._decode_reference(data, name, max_values)
        pure = self._pure_path()
        if pure is not None:
            # Every msgpack value takes at least one byte, so a payload no longer than the budget cannot exceed
            # it: the pure path (which does not count) serves only those, the reference reader counts the rest.
            try:
                if len(data) - HEADER_SIZE > budget:
                    raise Refused
                return pure.decode(name, data, canonical)
            except Refused:
                self._fell("pure", "decode")
        return self._decode_reference(data, name, max_values)

    def decode_objects(self, data: bytes, name: str | None, classes_of: Callable[[Any], Any],
                       convert: Callable[[str, Any], Any], *, canonical: bool = True,
                       max_values: int | None = None) -> Any:
        """:meth:`decode` into objects: ``classes_of(program)`` gives the native program's binding of the classes
        (``Program.bind``, or None when it cannot build them), ``convert(name, value)`` turns the Python form of a
        ``name`` into objects. The native decoder builds the objects in its one pass, with every check of
        :meth:`decode`; any other case decodes the Python form and converts it (the reference path still decides
        and words every error)."""
        budget = _NO_BUDGET if max_values is None else check_budget(max_values)
        program = self._native
        if program is not None and type(data) is bytes:
            hit = self._shared.by_header.get(data[:HEADER_SIZE])
            if hit is not None and (name is None or name == hit[1]):
                classes = classes_of(program)
                if classes is not None:
                    try:
                        return program.decode(data, HEADER_SIZE, hit[0], budget, classes)
                    except Refused:
                        self._fell("native", "decode")
                        return convert(hit[1], self._decode_reference(data, hit[1], max_values))
                self._fell("native", "decode into")
        data = _as_bytes(data)
        name = root_name(self._schema, read_header(data), name)
        return convert(name, self.decode(data, name, canonical=canonical, max_values=max_values))

    def verify(self, data: bytes | bytearray | memoryview, name: str | None = None, *,
               max_values: int | None = None) -> str:
        """The root type of FSV bytes ``data`` once they prove canonical and valid; raises
        :class:`fsf.DecodeError` exactly as :meth:`decode` would, the budget ``max_values`` included (counted the
        same way). The native path checks without building the value."""
        budget = _NO_BUDGET if max_values is None else check_budget(max_values)
        if self._native is not None and type(data) is bytes:  # the common call, as in decode
            hit = self._shared.by_header.get(data[:HEADER_SIZE])
            if hit is not None and (name is None or name == hit[1]):
                try:
                    self._native.check(data, HEADER_SIZE, hit[0], budget)
                    return hit[1]
                except Refused:
                    self._fell("native", "verify")
                    self._decode_reference(data, hit[1], max_values)
                    return hit[1]
        data = _as_bytes(data)
        name = root_name(self._schema, read_header(data), name)
        if self._native is not None:
            try:
                self._native.check(data, HEADER_SIZE, self._shared.nodes[name], budget)
                return name
            except Refused:
                self._fell("native", "verify")
                self._decode_reference(data, name, max_values)
                return name
        self.decode(data, name, max_values=max_values)
        return name

    def _decode_reference(self, data: bytes, name: str, max_values: int | None) -> Any:
        from fsf.fsv.reader import read_reference

        value = read_reference(self._schema.ir, name, data, HEADER_SIZE, max_values)
        try:
            self._validate(name, value)
        except ValidationError as err:
            raise DecodeError("invalid", f"{err.message} at `{err.path}`", HEADER_SIZE) from None
        return value

    def _validate(self, name: str, value: Any) -> None:
        self._schema._judge(name, value, vm=self._vm)


def codec_for(schema: Schema, path: str | None = None) -> Codec:
    """The codec of ``schema``; with ``path`` (one of :data:`PATHS`), the one that runs that path and then the
    reference path (for tests and benchmarks)."""
    if path is None:
        return schema.codec
    return schema.codec.with_paths(*dict.fromkeys((path, "reference")))


def encode(schema: Schema, name: str, value: Any, *, path: str | None = None) -> bytes:
    """:meth:`Codec.encode` of ``schema``'s codec (``path``: see :func:`codec_for`)."""
    return codec_for(schema, path).encode(name, value)


def decode(schema: Schema, data: bytes | bytearray | memoryview, name: str | None = None, *,
           canonical: bool = True, max_values: int | None = None, path: str | None = None) -> Any:
    """:meth:`Codec.decode` of ``schema``'s codec (``path``: see :func:`codec_for`)."""
    return codec_for(schema, path).decode(data, name, canonical=canonical, max_values=max_values)


def verify(schema: Schema, data: bytes | bytearray | memoryview, name: str | None = None, *,
           max_values: int | None = None, path: str | None = None) -> str:
    """:meth:`Codec.verify` of ``schema``'s codec (``path``: see :func:`codec_for`)."""
    return codec_for(schema, path).verify(data, name, max_values=max_values)


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes):
        return data
    if not isinstance(data, (bytearray, memoryview)):
        raise TypeError(f"FSV data must be bytes, not {type(data).__name__}")
    return bytes(data)
