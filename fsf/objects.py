"""Objects: instances of generated Python classes <-> the Python form of values (what the codec reads and writes).

``fsf codegen --target python`` turns each shape and union variant into a frozen attrs class and each enum into
an ``enum.Enum``; :func:`to_python_form` and :func:`from_python_form` convert between those objects and the
dicts, lists and strings of the Python form, walking the IR (never the classes' own annotations), so
``schema.encode(name, obj)`` gives the same bytes as ``schema.encode(name, the_dict)``. Attribute and class
names come from :func:`fsf.codegen.python_names`, the same rule the generator used; a class is accepted only if
its ``FSF_ID`` is the id of the type it stands for in this schema.
"""

from __future__ import annotations

import enum
import sys
import types
import typing
from typing import TYPE_CHECKING, Any

import attrs

from fsf import ir
from fsf.codegen import PythonNames, python_names
from fsf.errors import UsageError

if TYPE_CHECKING:
    from fsf.schema import Schema

# Values nested deeper than the codec allows are passed on unconverted: the validator then refuses them with
# its own message and path, and this walk never recurses without bound.
_MAX_WALK = 70


@attrs.frozen
class ObjectPlan:
    """What the conversions need from one schema: its IR, the id of each type and the generated names."""

    ir: ir.Schema
    ids: dict[str, str]
    names: PythonNames


def plan_of(schema: Schema) -> ObjectPlan:
    """The object plan of ``schema``, built once and cached on it."""
    plan: ObjectPlan | None = schema._objects
    if plan is None:
        plan = ObjectPlan(schema.ir, {n: schema.id(n) for n in schema.shapes}, python_names(schema.ir))
        schema._objects = plan
    return plan


def is_object(value: object) -> bool:
    """True for an instance of a generated class (shape, union variant or enum)."""
    return isinstance(value, enum.Enum) or hasattr(type(value), "FSF_ID")


def to_python_form(schema: Schema, name: str, value: Any) -> Any:
    """The Python form of ``value`` as a ``name``: generated objects anywhere inside become dicts and strings.

    A value that is not itself a generated object is returned as is (a dict tree is already the Python form),
    so encoding dicts costs nothing extra. Anything that does not fit is left in place for the validator to
    report with its path.
    """
    if not is_object(value) or name not in schema.ir:
        return value
    return _to(plan_of(schema), ir.Named(name), value, 0)


def _to(plan: ObjectPlan, t: ir.Type, v: Any, depth: int) -> Any:
    if depth > _MAX_WALK:
        return v
    if isinstance(t, ir.Optional):
        return None if v is None else _to(plan, t.inner, v, depth)
    if isinstance(t, ir.Array):
        if type(v) is list:
            return [_to(plan, t.item, x, depth + 1) for x in v]
        if type(v) is tuple:
            return tuple(_to(plan, t.item, x, depth + 1) for x in v)
        return v
    if isinstance(t, ir.Map):
        if isinstance(v, dict):
            out = {_to(plan, t.key, k, depth + 1): _to(plan, t.value, x, depth + 1) for k, x in v.items()}
            # Two keys that name one member (`Color.red` and "red") stay apart, for the validator to refuse.
            return out if len(out) == len(v) else v
        return v
    if not isinstance(t, ir.Named):
        return v
    decl = plan.ir[t.name]
    if isinstance(decl, ir.Enum):
        return v.value if isinstance(v, enum.Enum) and isinstance(v.value, str) else v
    if isinstance(decl, ir.Shape):
        if getattr(type(v), "FSF_ID", None) == plan.ids[decl.name] and not hasattr(type(v), "FSF_VARIANT"):
            attrs_ = plan.names.fields[decl.name, None]
            return {f.name: _to(plan, f.type, getattr(v, a), depth + 1)
                    for f, a in zip(decl.fields, attrs_, strict=True)}
        if isinstance(v, dict):
            return _fields_of_dict(plan, decl.fields, v, depth)
        return v
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


def _fields_of_dict(plan: ObjectPlan, fields: tuple[ir.Field, ...], v: dict[Any, Any], depth: int) -> dict[Any, Any]:
    types_ = {f.name: f.type for f in fields}
    return {k: _to(plan, types_[k], x, depth + 1) if k in types_ else x for k, x in v.items()}


def _variant(decl: ir.Union_, name: object) -> ir.Variant | None:
    for v in decl.variants:
        if v.name == name:
            return v
    return None


def root_of(schema: Schema, into: Any) -> tuple[types.ModuleType, str | None]:
    """The generated module ``into`` belongs to, and the type it names (None for a module).

    ``into`` is a generated module, one of its classes, or one of its union aliases.
    """
    if isinstance(into, types.ModuleType):
        return into, None
    args = typing.get_args(into)
    if isinstance(into, types.UnionType) and args:
        module = root_of(schema, args[0])[0]
        member = _type_name_of(schema, args[0].__name__)
        return module, None if member is None else _root(member)
    module_name = getattr(into, "__module__", None)
    found_module = sys.modules.get(module_name) if isinstance(module_name, str) else None
    if not isinstance(into, type) or found_module is None:
        raise UsageError(f"`into` must be a generated module or class, not {type(into).__name__}")
    found = _type_name_of(schema, into.__name__)
    if found is None:
        raise UsageError(f"class `{into.__qualname__}` is not a type of this schema")
    return found_module, _root(found)


def _type_name_of(schema: Schema, class_name: str) -> str | None:
    """The FSF type (or ``Union.Variant``) whose generated class is called ``class_name``."""
    names = plan_of(schema).names
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


def decode_into(schema: Schema, data: bytes | bytearray | memoryview, name: str | None, into: Any) -> Any:
    """Decode FSV ``data`` (see :meth:`fsf.Schema.decode`) into objects of the generated classes of ``into``.

    A class for ``into`` also insists on its type as the root type, as ``name`` does.
    """
    from fsf.codec import read_header, root_name

    _, root = root_of(schema, into)
    if name is None:
        name = root
    elif root is not None and root != name:
        raise UsageError(f"`into` stands for `{root}`, but `{name}` was asked for")
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    value = schema.decode(data, name)
    if name is None:
        name = root_name(schema, read_header(data), None)
    return from_python_form(schema, into, name, value)


def from_python_form(schema: Schema, into: Any, name: str, value: Any) -> Any:
    """Objects of the generated classes found through ``into`` (see :func:`root_of`) for a valid ``name`` value.

    Raises :class:`fsf.UsageError` if the module lacks a class or a class was generated from another schema.
    """
    module, _ = root_of(schema, into)
    return _From(plan_of(schema), module).convert(ir.Named(name), value)


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
        if isinstance(decl, ir.Enum):
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
        if isinstance(t, ir.Optional):
            return None if v is None else self.convert(t.inner, v)
        if isinstance(t, ir.Array):
            return [self.convert(t.item, x) for x in v]
        if isinstance(t, ir.Map):
            return {self.convert(t.key, k): self.convert(t.value, x) for k, x in v.items()}
        if not isinstance(t, ir.Named):
            return v
        names = self.plan.names
        decl = self.plan.ir[t.name]
        if isinstance(decl, ir.Enum):
            return self.cls(decl.name, names.types[decl.name])(v)
        if isinstance(decl, ir.Shape):
            cls = self.cls(decl.name, names.types[decl.name])
            return cls(**self.fields(decl.fields, names.fields[decl.name, None], v))
        (key, body), = v.items()
        variant = _variant(decl, key)
        assert variant is not None  # the codec validated the value
        cls = self.cls(decl.name, names.variants[decl.name, variant.name], variant.name)
        return cls(**self.fields(variant.fields, names.fields[decl.name, variant.name], body))

    def fields(self, fields: tuple[ir.Field, ...], attrs_: tuple[str, ...], v: dict[str, Any]) -> dict[str, Any]:
        return {a: self.convert(f.type, v.get(f.name)) for f, a in zip(fields, attrs_, strict=True)}
