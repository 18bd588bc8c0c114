"""Objects: instances of generated Python classes <-> the Python form of values (what the codec reads and writes).

``fsf codegen --target python`` turns each shape and union variant into a frozen attrs class and each enum into
an ``enum.Enum``; :func:`to_python_form` and :func:`from_python_form` convert between those objects and the
dicts, lists and strings of the Python form, walking the IR (never the classes' own annotations), so
``schema.encode(name, obj)`` gives the same bytes as ``schema.encode(name, the_dict)``. Attribute and class
names come from :func:`fsf.codegen.python_names`, the same rule the generator used; a class is accepted only if
its ``FSF_ID`` is the id of the type it stands for in this schema.

Both directions run through straight-line Python generated once per schema (and per generated module for
objects) from the IR, in the manner of :mod:`fsf.fsv.pure`: one function per named type that reads attributes
with one C call and builds dicts with literal keys (or calls the class with its keyword arguments). It handles
the exact case only (the right generated class, enum, list or dict at every level) and raises on anything
else; the caller then runs the generic walk (:func:`_to`, :class:`_From`), which stays the reference.

Before either, the native codec is asked to do the whole job in its one pass (:func:`decode_into` and
:func:`encode_objects`, through the classes of a module bound to its program by :func:`bind_classes`); these
conversions serve what it refuses, and judge it in the tests.
"""

from __future__ import annotations

import enum
import operator
import sys
import types
import typing
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from fsf import ir
from fsf.codegen import PythonNames, python_names
from fsf.errors import UsageError
from fsf.ir.kinds import LEAVES, Kind, decl_kind, kind_of
from fsf.limits import MAX_DEPTH
from fsf.pysource import Names, Writer, load

if TYPE_CHECKING:
    from fsf.fsv.codec import Codec

# Values nested deeper than the codec allows are passed on unconverted: the validator then refuses them with
# its own message and path, and this walk never recurses without bound. The walk's depth of a value is the
# number of containers around it (a union and its variant one, as fsf.limits.MAX_DEPTH counts), so every value
# of a valid tree sits at MAX_DEPTH or less; the slack beyond it lets the generated converters, which test their
# depth once on entry against their deepest inline container, take every valid value too.
_MAX_WALK = MAX_DEPTH + 6


@attrs.frozen
class ObjectPlan:
    """What the conversions need from one schema: its IR, the id of each type and the generated names."""

    ir: ir.Schema
    ids: dict[str, str]
    names: PythonNames
    to_fast: dict[str, Callable[[Any, int], Any]] = attrs.field(factory=dict, eq=False, repr=False)
    """Explicit cache: the generated object -> Python form converters (built on first use)."""
    from_fast: weakref.WeakKeyDictionary[types.ModuleType, dict[str, Callable[[Any], Any]]] = attrs.field(
        factory=weakref.WeakKeyDictionary, eq=False, repr=False)
    """Explicit cache: the generated Python form -> object converters of each generated module."""
    bound: weakref.WeakKeyDictionary[types.ModuleType, tuple[Any, Any]] = attrs.field(
        factory=weakref.WeakKeyDictionary, eq=False, repr=False)
    """Explicit cache: each generated module's classes bound to the native program (the program, the binding or
    None when the module's classes cannot be built directly)."""

    def encode(self, name: str, value: Any, codec: Codec) -> bytes:
        """:func:`encode_objects` with this plan (what :meth:`fsf.Schema.encode` calls for anything but a dict)."""
        return encode_objects(self, name, value, codec)


def make_plan(schema_ir: ir.Schema, ids: dict[str, str]) -> ObjectPlan:
    """The object plan of ``schema_ir`` whose type ids (``blake3:...``) are ``ids``; the caller keeps it."""
    return ObjectPlan(schema_ir, ids, python_names(schema_ir))


def is_object(value: object) -> bool:
    """True for an instance of a generated class (shape, union variant or enum)."""
    return isinstance(value, enum.Enum) or hasattr(type(value), "FSF_ID")


def to_python_form(plan: ObjectPlan, name: str, value: Any) -> Any:
    """The Python form of ``value`` as a ``name``: generated objects anywhere inside become dicts and strings.

    A value that is not itself a generated object is returned as is (a dict tree is already the Python form),
    so encoding dicts costs nothing extra. Anything that does not fit is left in place for the validator to
    report with its path.
    """
    if type(value) is dict or not is_object(value) or name not in plan.ir:
        return value
    if not plan.to_fast:
        plan.to_fast.update(_build_to(plan))
    try:
        return plan.to_fast[name](value, 0)
    except _TO_MISSES:  # not the exact case (or something the walk will raise about): the reference decides
        return _to(plan, ir.Named(name), value, 0)


def _to(plan: ObjectPlan, t: ir.Type, v: Any, depth: int) -> Any:
    if depth > _MAX_WALK:
        return v
    return _TO[decl_kind(plan.ir, t)](plan, t, v, depth)


# Each handler below is reached only for its kind (the table is the type test), so it takes the type as Any.


def _to_optional(plan: ObjectPlan, t: Any, v: Any, depth: int) -> Any:
    return None if v is None else _to(plan, t.inner, v, depth)


def _to_array(plan: ObjectPlan, t: Any, v: Any, depth: int) -> Any:
    if type(v) is list:
        return [_to(plan, t.item, x, depth + 1) for x in v]
    if type(v) is tuple:
        return tuple(_to(plan, t.item, x, depth + 1) for x in v)
    return v


def _to_map(plan: ObjectPlan, t: Any, v: Any, depth: int) -> Any:
    if isinstance(v, dict):
        out = {_to(plan, t.key, k, depth + 1): _to(plan, t.value, x, depth + 1) for k, x in v.items()}
        # Two keys that name one member (`Color.red` and "red") stay apart, for the validator to refuse.
        return out if len(out) == len(v) else v
    return v


def _to_shape(plan: ObjectPlan, t: Any, v: Any, depth: int) -> Any:
    decl = plan.ir[t.name]
    assert isinstance(decl, ir.Shape)
    if getattr(type(v), "FSF_ID", None) == plan.ids[decl.name] and not hasattr(type(v), "FSF_VARIANT"):
        attrs_ = plan.names.fields[decl.name, None]
        return {f.name: _to(plan, f.type, getattr(v, a), depth + 1)
                for f, a in zip(decl.fields, attrs_, strict=True)}
    if isinstance(v, dict):
        return _fields_of_dict(plan, decl.fields, v, depth)
    return v


def _to_union(plan: ObjectPlan, t: Any, v: Any, depth: int) -> Any:
    decl = plan.ir[t.name]
    assert isinstance(decl, ir.Union_)
    cls = type(v)
    if getattr(cls, "FSF_ID", None) == plan.ids[decl.name] and hasattr(cls, "FSF_VARIANT"):
        variant = _variant(decl, cls.FSF_VARIANT)
        if variant is not None:
            attrs_ = plan.names.fields[decl.name, variant.name]
            return {variant.name: {f.name: _to(plan, f.type, getattr(v, a), depth + 1)
                                   for f, a in zip(variant.fields, attrs_, strict=True)}}
        return v
    if isinstance(v, dict) and len(v) == 1:
        (key, body), = v.items()
        variant = _variant(decl, key)
        if variant is not None and isinstance(body, dict):
            return {key: _fields_of_dict(plan, variant.fields, body, depth)}
    return v


def _to_same(plan: ObjectPlan, t: Any, v: Any, depth: int) -> Any:
    return v


_TO: dict[Kind, Callable[[ObjectPlan, Any, Any, int], Any]] = {
    **{k: _to_same for k in LEAVES},
    Kind.OPTIONAL: _to_optional,
    Kind.ARRAY: _to_array,
    Kind.MAP: _to_map,
    Kind.ENUM: lambda plan, t, v, depth: _enum_value(v),
    Kind.SHAPE: _to_shape,
    Kind.UNION: _to_union,
}


def _fields_of_dict(plan: ObjectPlan, fields: tuple[ir.Field, ...], v: dict[Any, Any], depth: int) -> dict[Any, Any]:
    types_ = {f.name: f.type for f in fields}
    return {k: _to(plan, types_[k], x, depth + 1) if k in types_ else x for k, x in v.items()}


def _variant(decl: ir.Union_, name: object) -> ir.Variant | None:
    for v in decl.variants:
        if v.name == name:
            return v
    return None


def root_of(plan: ObjectPlan, into: Any) -> tuple[types.ModuleType, str | None]:
    """The generated module ``into`` belongs to, and the type it names (None for a module).

    ``into`` is a generated module, one of its classes, or one of its union aliases.
    """
    if isinstance(into, types.ModuleType):
        return into, None
    args = typing.get_args(into)
    if isinstance(into, types.UnionType) and args:
        module = root_of(plan, args[0])[0]
        member = _type_name_of(plan, args[0].__name__)
        return module, None if member is None else _root(member)
    module_name = getattr(into, "__module__", None)
    found_module = sys.modules.get(module_name) if isinstance(module_name, str) else None
    if not isinstance(into, type) or found_module is None:
        raise UsageError(f"`into` must be a generated module or class, not {type(into).__name__}")
    found = _type_name_of(plan, into.__name__)
    if found is None:
        raise UsageError(f"class `{into.__qualname__}` is not a type of this schema")
    return found_module, _root(found)


def _type_name_of(plan: ObjectPlan, class_name: str) -> str | None:
    """The FSF type (or ``Union.Variant``) whose generated class is called ``class_name``."""
    names = plan.names
    for fsf_name, py in names.types.items():
        if py == class_name:
            return fsf_name
    for (union, variant), py in names.variants.items():
        if py == class_name:
            return f"{union}.{variant}"
    return None


def _root(name: str) -> str:
    """The type a class stands for as a root value: a variant's class stands for its union."""
    return name.split(".", 1)[0]


def decode_into(plan: ObjectPlan, data: bytes | bytearray | memoryview, name: str | None, into: Any, codec: Codec,
                *, canonical: bool = True, max_values: int | None = None) -> Any:
    """Decode FSV ``data`` into objects of the generated classes of ``into``, through ``codec`` (the schema's).

    The native decoder builds the objects itself in its one pass when the module's classes allow it (see
    :func:`bind_classes`); otherwise the codec decodes to the Python form and :func:`from_python_form` converts.
    A class for ``into`` also insists on its type as the root type, as ``name`` does.
    """
    module, root = root_of(plan, into)
    if name is None:
        name = root
    elif root is not None and root != name:
        raise UsageError(f"`into` stands for `{root}`, but `{name}` was asked for")
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    return codec.decode_objects(data, name, lambda program: bind_classes(plan, module, program),
                                lambda n, value: from_python_form(plan, into, n, value),
                                canonical=canonical, max_values=max_values)


def encode_objects(plan: ObjectPlan, name: str, value: Any, codec: Codec) -> bytes:
    """``value`` (an object of a generated class, or anything else) encoded as a ``name`` through ``codec`` (the
    schema's): what ``codec.encode(name, to_python_form(plan, name, value))`` gives, or raises.

    For an object, the native encoder reads the objects itself in its one pass when the classes of the module
    that defined the value's class allow it (see :func:`bind_classes`): exactly those classes (never a
    subclass), their enums' members, and the Python form anywhere inside; anything else makes it refuse, and
    the value is converted (:func:`to_python_form`) and encoded on the codec's other paths, which word every
    error.
    """
    if not is_object(value) or name not in plan.ir:
        return codec.encode(name, value)
    program = codec.native
    module = sys.modules.get(type(value).__module__)
    classes = bind_classes(plan, module, program) if program is not None and module is not None else None
    return codec.encode_objects(name, value, classes, lambda v: to_python_form(plan, name, v))


def bind_classes(plan: ObjectPlan, module: types.ModuleType, program: Any) -> Any:
    """The classes of ``module`` bound to the native ``program`` (``Program.bind``), kept in ``plan``; None when
    the native codec cannot build or read them directly: a class is missing or foreign (the conversion then
    raises as the walk does), or is not a plain generated class (attrs, slotted, its ``__init__`` attrs' own and
    storing the fields unchanged: no validator, converter or init hook; attributes read by the generic lookup;
    ``FSF_VARIANT`` naming its variant, or absent for a shape), so calling it could do more than store the
    fields, or reading an attribute more than read its slot, or :func:`to_python_form` would take it for
    another type."""
    hit = plan.bound.get(module)
    if hit is not None and hit[0] is program:
        return hit[1]
    bound = None
    table = _bind_table(plan, module)
    if table is not None:
        bound = program.bind(table)
    plan.bound[module] = (program, bound)
    return bound


def _bind_table(plan: ObjectPlan, module: types.ModuleType) -> tuple[Any, ...] | None:
    """``Program.bind``'s table for ``module``: by native node, (class, attribute names) or an enum's members."""
    from fsf.fsv.native import UNION, program

    nodes = program(plan.ir)
    table: list[Any] = [None] * len(nodes)
    finder = _From(plan, module)
    names = plan.names
    try:
        for i, decl in enumerate(plan.ir.decls):
            if isinstance(decl, ir.Enum):
                found = finder.cls(decl.name, names.types[decl.name])
                by_value = {m.value: m for m in found}
                table[i] = tuple(by_value[m.name] for m in decl.members)
            elif isinstance(decl, ir.Shape):
                cls = finder.cls(decl.name, names.types[decl.name])
                table[i] = _plain(cls, names.fields[decl.name, None], None)
            else:
                assert isinstance(decl, ir.Union_) and nodes[i][0] == UNION
                for v, node in zip(decl.variants, nodes[i][2], strict=True):
                    cls = finder.cls(decl.name, names.variants[decl.name, v.name], v.name)
                    table[node] = _plain(cls, names.fields[decl.name, v.name], v.name)
    except (UsageError, _Miss):
        return None
    return tuple(table)


def _plain(cls: Any, attrs_: tuple[str, ...], variant: str | None) -> tuple[Any, tuple[str, ...]]:
    """``(cls, attrs_)`` if building ``cls`` is storing its fields ``attrs_`` in its slots, reading them is
    reading its slots, and it stands for the shape (``variant`` None) or the variant ``variant`` as
    :func:`to_python_form` sees it; else :class:`_Miss`."""
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if (not attrs.has(cls) or "__slots__" not in cls.__dict__ or cls.__dictoffset__ or cls.__new__ is not object.__new__
            or code is None or not code.co_filename.startswith("<attrs generated")
            or hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__")
            or cls.__getattribute__ is not object.__getattribute__ or hasattr(cls, "__getattr__")
            or getattr(cls, "FSF_VARIANT", None) != variant):
        raise _Miss
    fields = attrs.fields(cls)
    if {f.name for f in fields} != set(attrs_) or len(fields) != len(attrs_) or any(
            f.validator is not None or f.converter is not None or not f.init for f in fields):
        raise _Miss
    slots = {slot for c in cls.__mro__[:-1] for slot in c.__dict__.get("__slots__", ())}
    if not slots <= {*attrs_, "__weakref__"}:
        raise _Miss
    return cls, attrs_


def from_python_form(plan: ObjectPlan, into: Any, name: str, value: Any) -> Any:
    """Objects of the generated classes found through ``into`` (see :func:`root_of`) for a valid ``name`` value.

    ``value`` is in the canonical Python form :meth:`fsf.Schema.decode` returns (lists and dicts); lists and
    dicts of plain items are kept, not copied.

    Raises :class:`fsf.UsageError` if the module lacks a class or a class was generated from another schema.
    """
    module, _ = root_of(plan, into)
    fast = plan.from_fast.get(module)
    if fast is None:
        fast, complete = _build_from(plan, module)
        if complete:  # a module that lacks a class is looked at afresh each time, as the walk does
            plan.from_fast[module] = fast
    try:
        return fast[name](value)
    except _FROM_MISSES:  # a missing or foreign class, or a value the fast code does not expect: the reference
        return _From(plan, module).convert(ir.Named(name), value)


class _From:
    """One conversion: the plan, the module and the classes found in it so far (checked once each)."""

    def __init__(self, plan: ObjectPlan, module: types.ModuleType) -> None:
        self.plan = plan
        self.module = module
        self.classes: dict[str, Any] = {}

    def cls(self, fsf_name: str, py_name: str, variant: str | None = None) -> Any:
        key = fsf_name if variant is None else f"{fsf_name}.{variant}"
        found = self.classes.get(key)
        if found is not None:
            return found
        found = getattr(self.module, py_name, None)
        where = f"`{self.module.__name__}.{py_name}`"
        if not isinstance(found, type):
            raise UsageError(f"module `{self.module.__name__}` has no class `{py_name}` for `{key}`; "
                             "regenerate it with `fsf codegen --target python`")
        decl = self.plan.ir[fsf_name]
        if kind_of(decl) is Kind.ENUM:
            assert isinstance(decl, ir.Enum)
            values = [m.value for m in found] if issubclass(found, enum.Enum) else []
            if values != [m.name for m in decl.members]:
                raise UsageError(f"{where} does not have the members of enum `{fsf_name}`; "
                                 "regenerate it with `fsf codegen --target python`")
        elif getattr(found, "FSF_ID", None) != self.plan.ids[fsf_name]:
            raise UsageError(f"{where} was generated from another schema: its id is "
                             f"{getattr(found, 'FSF_ID', 'missing')}, `{fsf_name}` here is {self.plan.ids[fsf_name]}")
        self.classes[key] = found
        return found

    def convert(self, t: ir.Type, v: Any) -> Any:
        kind = decl_kind(self.plan.ir, t)
        tt: Any = t  # narrowed by ``kind``, which mypy cannot see
        if kind is Kind.OPTIONAL:
            return None if v is None else self.convert(tt.inner, v)
        if kind is Kind.ARRAY:
            return [self.convert(tt.item, x) for x in v]
        if kind is Kind.MAP:
            return {self.convert(tt.key, k): self.convert(tt.value, x) for k, x in v.items()}
        if kind in LEAVES:
            return v
        names = self.plan.names
        decl = self.plan.ir[tt.name]
        if kind is Kind.ENUM:
            return self.cls(decl.name, names.types[decl.name])(v)
        if kind is Kind.SHAPE:
            assert isinstance(decl, ir.Shape)
            cls = self.cls(decl.name, names.types[decl.name])
            return cls(**self.fields(decl.fields, names.fields[decl.name, None], v))
        assert isinstance(decl, ir.Union_)
        (key, body), = v.items()
        variant = _variant(decl, key)
        assert variant is not None  # the codec validated the value
        cls = self.cls(decl.name, names.variants[decl.name, variant.name], variant.name)
        return cls(**self.fields(variant.fields, names.fields[decl.name, variant.name], body))

    def fields(self, fields: tuple[ir.Field, ...], attrs_: tuple[str, ...], v: dict[str, Any]) -> dict[str, Any]:
        return {a: self.convert(f.type, v.get(f.name)) for f, a in zip(fields, attrs_, strict=True)}


# -- generated converters ------------------------------------------------------------------------------------

_MAX_INLINE = 4
"""Anonymous containers nested deeper than this inside one function get a function of their own."""


class _Miss(Exception):
    """Raised by generated code for anything but the exact case; the caller runs the reference walk."""


def _miss() -> Any:
    raise _Miss


_TO_MISSES: tuple[type[BaseException], ...] = (_Miss, AttributeError, TypeError, RecursionError)
"""What the generated ``to`` converters raise for a value they do not take, and only that: :class:`_Miss` (a
test failed: not an admitted class, list or dict, too deep, two keys made one); ``AttributeError`` (an admitted
class whose object lacks an attribute the one ``attrgetter`` call reads); ``TypeError`` (a converted map key
that is not hashable, such as a shape object made a dict); ``RecursionError`` (a recursive type nested deeper
than the interpreter's stack before the depth test refuses it)."""

_FROM_MISSES: tuple[type[BaseException], ...] = (_Miss, KeyError, TypeError, AttributeError, ValueError,
                                                 RecursionError, UsageError)
"""What the generated ``from`` converters raise for a value they do not take, and only that: :class:`_Miss`
(``_miss()``: a dict with the wrong number of keys); ``KeyError`` (no such enum member, union variant or
field: ``members[x]``, ``table[t]``, ``x[name]`` and the one ``itemgetter`` call); ``TypeError`` (an
unhashable enum value or map key, a value that is not a dict or list where one is indexed, iterated, sized or
spread as ``**x``, keywords the class does not take); ``AttributeError`` (``x.items()`` on a value that is not
a dict); ``ValueError`` (``(t, b), = x.items()`` on a union dict without exactly one item); ``RecursionError``
(a value nested deeper than the interpreter's stack); ``UsageError`` (a :class:`_Broken` stand-in for a missing
or foreign class: the reference walk raises it again, in its own order)."""


def _enum_value(v: Any) -> Any:
    """What :func:`_to` makes of a value at an enum's place."""
    return v.value if isinstance(v, enum.Enum) and isinstance(v.value, str) else v


def _same_len(out: dict[Any, Any], v: dict[Any, Any]) -> dict[Any, Any]:
    """``out`` unless two keys of ``v`` became one (the walk then leaves ``v`` for the validator)."""
    if len(out) != len(v):
        raise _Miss
    return out


def _admit_shape(ok: set[type], cls: type, fsf_id: str) -> bool:
    """Whether :func:`_to` takes ``cls`` for the shape whose id is ``fsf_id`` (remembered in ``ok`` if so)."""
    if getattr(cls, "FSF_ID", None) == fsf_id and not hasattr(cls, "FSF_VARIANT"):
        ok.add(cls)
        return True
    return False


def _admit_variant(ok: dict[type, Any], cls: type, fsf_id: str, by_variant: dict[str, Any]) -> Any:
    """The converter of the variant class ``cls`` of the union whose id is ``fsf_id`` (remembered in ``ok``)."""
    if getattr(cls, "FSF_ID", None) != fsf_id or not hasattr(cls, "FSF_VARIANT"):
        raise _Miss
    variant = cls.FSF_VARIANT
    if type(variant) is not str or variant not in by_variant:
        raise _Miss
    ok[cls] = fn = by_variant[variant]
    return fn


class _Broken:
    """Stands in for a class the module lacks or got from another schema: raises the walk's error when used."""

    def __init__(self, error: UsageError) -> None:
        self.error = error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error

    def __getitem__(self, key: Any) -> Any:
        raise self.error


_RUNTIME: dict[str, Any] = {
    "_M": _Miss,
    "_miss": _miss,
    "_ev": _enum_value,
    "_same_len": _same_len,
    "_admit": _admit_shape,
    "_admit_variant": _admit_variant,
}


class _Generator(Names):
    """Emits one direction's functions for one schema: ``to`` (objects -> Python form, ``f(v, d)`` with ``d``
    the walk's depth of ``v``) or ``from`` (Python form -> objects of ``classes``, ``f(x)``)."""

    def __init__(self, plan: ObjectPlan, classes: dict[str, Any] | None) -> None:
        super().__init__()
        self.plan = plan
        self.ir = plan.ir
        self.classes = classes
        self.writers: list[Writer] = []
        self.fnames = {decl.name: f"_n{i}" for i, decl in enumerate(plan.ir.decls)}
        self.deepest = 0
        """``to`` only: the deepest level below its argument at which the current function converts inline."""
        self.tables: list[dict[str, str]] = []
        self.member_maps: dict[str, str] = {}

    def open(self, signature: str) -> Writer:
        w = Writer()
        self.writers.append(w)
        w.line(f"def {signature}:")
        w.depth += 1
        return w

    def source(self) -> str:
        return "\n".join(line for w in self.writers for line in w.lines) + "\n"

    @staticmethod
    def at(level: int) -> str:
        return f"d + {level}" if level else "d"

    def depth_test(self) -> str:
        return f"d > {_MAX_WALK - self.deepest}"

    # -- objects -> Python form ----------------------------------------------------------------------------

    def to_decl(self, decl: ir.Decl) -> None:
        fname = self.fnames[decl.name]
        kind = kind_of(decl)
        if kind is Kind.ENUM:
            w = self.open(f"{fname}(v, d)")
            w.line(f"if d > {_MAX_WALK}:")
            w.line("    raise _M")
            w.line("return v if type(v) is str else _ev(v)")
        elif kind is Kind.SHAPE:
            assert isinstance(decl, ir.Shape)
            ok = self.const(set())
            fsf_id = self.const(self.plan.ids[decl.name])
            self.to_record(f"{fname}(v, d)", f"type(v) not in {ok} and not _admit({ok}, type(v), {fsf_id})",
                           decl.fields, self.plan.names.fields[decl.name, None], None)
        else:
            assert isinstance(decl, ir.Union_)
            table: dict[str, str] = {}
            for i, variant in enumerate(decl.variants):
                table[variant.name] = f"{fname}_{i}"
                self.to_record(f"{fname}_{i}(v, d)", None, variant.fields,
                               self.plan.names.fields[decl.name, variant.name], variant.name)
            self.tables.append(table)  # function names now, the functions once the code has run
            ok, fsf_id, by_variant = self.const({}), self.const(self.plan.ids[decl.name]), self.const(table)
            w = self.open(f"{fname}(v, d)")
            w.line(f"f = {ok}.get(type(v))")
            w.line("if f is None:")
            w.line(f"    f = _admit_variant({ok}, type(v), {fsf_id}, {by_variant})")
            w.line("return f(v, d)")

    def to_record(self, signature: str, refuse: str | None, fields: tuple[ir.Field, ...], attrs_: tuple[str, ...],
                  variant: str | None) -> None:
        """A function that converts a shape object (``refuse``: the test that it is not one) or a variant's."""
        w = self.open(signature)
        self.deepest = 0
        args = [f"a{i}" for i in range(len(fields))]
        exprs = [self.to_expr(f.type, a, 1) or a for f, a in zip(fields, args, strict=True)]
        w.line(f"if {self.depth_test()}{'' if refuse is None else f' or {refuse}'}:")
        w.line("    raise _M")
        if len(fields) > 1:  # one C call reads every attribute (names through the globals, never in the text)
            w.line(f"{', '.join(args)} = {self.const(operator.attrgetter(*attrs_))}(v)")
        elif fields:
            w.line(f"a0 = {self.const(operator.attrgetter(attrs_[0]))}(v)")
        body = "{" + ", ".join(f"{self.const(f.name)}: {e}" for f, e in zip(fields, exprs, strict=True)) + "}"
        w.line(f"return {body}" if variant is None else f"return {{{self.const(variant)}: {body}}}")

    def to_expr(self, t: ir.Type, v: str, level: int, inline: int = 0) -> str | None:
        """The expression of what :func:`_to` makes of local ``v`` (of type ``t``, ``level`` below the function's
        argument) in the exact case, raising otherwise; None when that is ``v`` itself (or equal to it)."""
        kind = decl_kind(self.ir, t)
        tt: Any = t  # narrowed by ``kind``, which mypy cannot see
        if kind is Kind.OPTIONAL:
            inner = self.to_expr(tt.inner, v, level, inline)
            return None if inner is None else f"(None if {v} is None else {inner})"
        if kind is Kind.ENUM:
            self.deepest = max(self.deepest, level)
            return f"({v} if type({v}) is str else _ev({v}))"
        if kind is Kind.SHAPE or kind is Kind.UNION:
            return f"{self.fnames[tt.name]}({v}, {self.at(level)})"
        if (kind is Kind.ARRAY or kind is Kind.MAP) and inline >= _MAX_INLINE:
            return self.to_sub(tt, v, level)
        if kind is Kind.ARRAY:
            e = self.temp("e")
            item = self.to_expr(tt.item, e, level + 1, inline + 1)
            if item is None:  # the walk copies a list or tuple of such items, or leaves anything else
                return None
            self.deepest = max(self.deepest, level)
            return f"([{item} for {e} in {v}] if type({v}) is list else _miss())"
        if kind is Kind.MAP:
            k, e = self.temp("k"), self.temp("e")
            key = self.to_expr(tt.key, k, level + 1, inline + 1)
            value = self.to_expr(tt.value, e, level + 1, inline + 1)
            self.deepest = max(self.deepest, level)
            if key is None and value is None:
                return f"({v} if type({v}) is dict else _miss())"
            out = f"{{{key or k}: {value or e} for {k}, {e} in {v}.items()}}"
            if key is not None:
                out = f"_same_len({out}, {v})"
            return f"({out} if type({v}) is dict else _miss())"
        return None

    def to_sub(self, t: ir.Array | ir.Map, v: str, level: int) -> str | None:
        """A deeply nested anonymous container, converted by a function of its own."""
        fname = self.temp("_c")
        outer = self.deepest
        self.deepest = 0
        expr = self.to_expr(t, "v", 0)
        if expr is not None:
            w = self.open(f"{fname}(v, d)")
            w.line(f"if {self.depth_test()}:")
            w.line("    raise _M")
            w.line(f"return {expr}")
        self.deepest = outer
        return None if expr is None else f"{fname}({v}, {self.at(level)})"

    # -- Python form -> objects ----------------------------------------------------------------------------

    def from_decl(self, decl: ir.Decl) -> None:
        assert self.classes is not None
        fname = self.fnames[decl.name]
        w = self.open(f"{fname}(x)")
        kind = kind_of(decl)
        if kind is Kind.ENUM:
            w.line(f"return {self.members(decl.name)}[x]")
        elif kind is Kind.SHAPE:
            assert isinstance(decl, ir.Shape)
            self.from_record(w, decl.fields, self.plan.names.fields[decl.name, None], self.classes[decl.name])
        else:
            assert isinstance(decl, ir.Union_)
            table: dict[str, str] = {}
            for i, variant in enumerate(decl.variants):
                table[variant.name] = f"{fname}_{i}"
                sub = self.open(f"{fname}_{i}(x)")
                self.from_record(sub, variant.fields, self.plan.names.fields[decl.name, variant.name],
                                 self.classes[f"{decl.name}.{variant.name}"])
            self.tables.append(table)
            w.line("(t, b), = x.items()")
            w.line(f"return {self.const(table)}[t](b)")

    def members(self, enum_name: str) -> str:
        """The constant that maps the values of enum ``enum_name`` to the members of its class."""
        assert self.classes is not None
        if enum_name not in self.member_maps:
            self.member_maps[enum_name] = self.const(self.classes[enum_name])
        return self.member_maps[enum_name]

    def from_record(self, w: Writer, fields: tuple[ir.Field, ...], attrs_: tuple[str, ...], cls: Any) -> None:
        exprs = [self.from_expr(f.type, f"a{i}") for i, f in enumerate(fields)]
        if all(e is None for e in exprs) and attrs_ == tuple(f.name for f in fields):
            # The dict as it is gives the keyword arguments (a missing or extra key: the class refuses it).
            w.line(f"return {self.const(cls)}(**x) if len(x) == {len(fields)} else _miss()")
            return
        args = [f"a{i}" for i in range(len(fields))]
        if len(fields) > 1:  # one C call fetches every field
            w.line(f"{', '.join(args)} = {self.const(operator.itemgetter(*(f.name for f in fields)))}(x)")
        elif fields:
            w.line(f"a0 = x[{self.const(fields[0].name)}]")
        kwargs = ", ".join(f"{self.const(a)}: {e or v}" for a, e, v in zip(attrs_, exprs, args, strict=True))
        w.line(f"return {self.const(cls)}(**{{{kwargs}}})")

    def from_expr(self, t: ir.Type, v: str, inline: int = 0) -> str | None:
        """The expression of what :class:`_From` makes of local ``v``; None when that equals ``v``."""
        kind = decl_kind(self.ir, t)
        tt: Any = t  # narrowed by ``kind``, which mypy cannot see
        if kind is Kind.OPTIONAL:
            inner = self.from_expr(tt.inner, v, inline)
            return None if inner is None else f"(None if {v} is None else {inner})"
        if kind is Kind.ENUM:
            return f"{self.members(tt.name)}[{v}]"
        if kind is Kind.SHAPE or kind is Kind.UNION:
            return f"{self.fnames[tt.name]}({v})"
        if (kind is Kind.ARRAY or kind is Kind.MAP) and inline >= _MAX_INLINE:
            fname = self.temp("_c")
            expr = self.from_expr(t, "x")
            w = self.open(f"{fname}(x)")
            w.line(f"return {expr or 'x'}")
            return f"{fname}({v})"
        if kind is Kind.ARRAY:
            e = self.temp("e")
            item = self.from_expr(tt.item, e, inline + 1)
            if item is None:  # the walk would copy the codec's list
                return None
            return f"[{item} for {e} in {v}]"
        if kind is Kind.MAP:
            k, e = self.temp("k"), self.temp("e")
            key = self.from_expr(tt.key, k, inline + 1)
            value = self.from_expr(tt.value, e, inline + 1)
            if key is None and value is None:  # the walk would copy the codec's dict
                return None
            return f"{{{key or k}: {value or e} for {k}, {e} in {v}.items()}}"
        return None

    def load(self, label: str) -> dict[str, Any]:
        namespace: dict[str, Any] = {**_RUNTIME, **self.consts}
        load(self.source(), label, namespace)
        for table in self.tables:
            table.update({key: namespace[fname] for key, fname in table.items()})
        return namespace


def _build_to(plan: ObjectPlan) -> dict[str, Callable[[Any, int], Any]]:
    """The objects -> Python form converter of each named type of ``plan`` (``f(value, 0)``)."""
    gen = _Generator(plan, None)
    for decl in plan.ir.decls:
        gen.to_decl(decl)
    namespace = gen.load("fsf-objects-to")
    return {decl.name: namespace[gen.fnames[decl.name]] for decl in plan.ir.decls}


def _build_from(plan: ObjectPlan, module: types.ModuleType) -> tuple[dict[str, Callable[[Any], Any]], bool]:
    """The Python form -> objects converter of each named type into the classes of ``module``, and whether the
    module has every class (a missing one raises the walk's error only when a value reaches it)."""
    finder = _From(plan, module)
    names = plan.names
    classes: dict[str, Any] = {}
    complete = True

    def find(fsf_name: str, py_name: str, variant: str | None = None) -> Any:
        nonlocal complete
        try:
            return finder.cls(fsf_name, py_name, variant)
        except UsageError as err:
            complete = False
            return _Broken(err)

    for decl in plan.ir.decls:
        kind = kind_of(decl)
        if kind is Kind.ENUM:
            found = find(decl.name, names.types[decl.name])
            # Members by value (the check above proved the values are the member names), as ``cls(value)`` finds.
            classes[decl.name] = found if isinstance(found, _Broken) else {m.value: m for m in found}
        elif kind is Kind.SHAPE:
            classes[decl.name] = find(decl.name, names.types[decl.name])
        else:
            assert isinstance(decl, ir.Union_)
            for v in decl.variants:
                classes[f"{decl.name}.{v.name}"] = find(decl.name, names.variants[decl.name, v.name], v.name)
    gen = _Generator(plan, classes)
    for decl in plan.ir.decls:
        gen.from_decl(decl)
    namespace = gen.load("fsf-objects-from")
    return {decl.name: namespace[gen.fnames[decl.name]] for decl in plan.ir.decls}, complete
