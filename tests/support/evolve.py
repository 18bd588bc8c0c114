"""Test support for evolution (``docs/evolution.md``): evolution annotations added to a compiled schema at the IR
level, and a store whose writer schemas run one codec path.

The annotations are set on the IR (``attrs.evolve``), never written as FSF source, so the tests of resolution do
not depend on the annotation syntax. Annotations never change a type id: :func:`annotate` asserts it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

import fsf
from fsf import ir
from fsf.schema import Schema
from fsf.store import Store
from tests.support.codec_paths import CodecPath

Notes = Mapping[str, Mapping[str, Any]]
"""Item path -> annotations: ``{"Task.owner": {"default": '"x"'}, "Level.low": {"fallback": True}, "Task":
{"was": ("OldTask",)}}``."""

_KEYS = frozenset({"was", "default", "fallback", "reserved", "deprecated"})


def annotate(schema: Schema, notes: Notes) -> Schema:
    """``schema`` with evolution annotations added to its IR, by item path: ``"Task"`` (a declaration),
    ``"Task.owner"`` (a field, an enum member or a union variant), ``"Event.Moved.to"`` (a field of a variant).

    Per item: ``was`` and ``reserved`` (a name or a tuple of names), ``default`` (the literal as ``@default``
    holds it: ``'"text"'``, ``"0"``, ``"medium"``, ``"[]"``; or an :class:`fsf.ir.Default`), ``fallback``
    (bool), ``deprecated`` (text). Every path must name an item; every type id stays the same (asserted).

    >>> annotate(fsf.compile_source("shape Task { id: str }"), {"Task.id": {"was": "key"}})  # doctest: +SKIP
    """
    unused = dict(notes)
    for path, given in notes.items():
        wrong = set(given) - _KEYS
        assert not wrong, f"unknown annotation(s) {sorted(wrong)} for `{path}`"
    decls = tuple(_decl(d, unused) for d in schema.ir.decls)
    assert not unused, f"no item at {sorted(unused)}"
    out = Schema(ir.Schema(decls), origin=schema.origin)
    for name in schema.shapes:
        assert out.id(name) == schema.id(name), f"annotations changed the id of `{name}`"
    return out


def _decl(d: ir.Decl, notes: dict[str, Mapping[str, Any]]) -> ir.Decl:
    if isinstance(d, ir.Shape):
        d = attrs.evolve(d, fields=_items(d.fields, d.name, notes))
    elif isinstance(d, ir.Enum):
        d = attrs.evolve(d, members=_items(d.members, d.name, notes))
    else:
        variants = tuple(attrs.evolve(v, fields=_items(v.fields, f"{d.name}.{v.name}", notes))
                         for v in d.variants)
        d = attrs.evolve(d, variants=_items(variants, d.name, notes))
    out: ir.Decl = _with(d, notes.pop(d.name, {}))
    return out


def _items(items: Iterable[Any], prefix: str, notes: dict[str, Mapping[str, Any]]) -> tuple[Any, ...]:
    return tuple(_with(item, notes.pop(f"{prefix}.{item.name}", {})) for item in items)


def _with(item: Any, given: Mapping[str, Any]) -> Any:
    changes: dict[str, Any] = {}
    for key, value in given.items():
        if key in ("was", "reserved"):
            value = (value,) if isinstance(value, str) else tuple(value)
        elif key == "default" and not isinstance(value, ir.Default):
            value = ir.Default(value if isinstance(value, str) else str(value))
        changes[key] = value
    return attrs.evolve(item, **changes)


def strip(schema: ir.Schema) -> ir.Schema:
    """``schema`` without any evolution annotation (what a store that drops them would give back)."""
    def bare(item: Any) -> Any:
        names = {a.name for a in attrs.fields(type(item))}
        blank = {"was": (), "default": None, "fallback": False, "reserved": (), "deprecated": None}
        return attrs.evolve(item, **{k: v for k, v in blank.items() if k in names})

    decls: list[ir.Decl] = []
    for d in schema.decls:
        if isinstance(d, ir.Shape):
            decls.append(bare(attrs.evolve(d, fields=tuple(map(bare, d.fields)))))
        elif isinstance(d, ir.Enum):
            decls.append(bare(attrs.evolve(d, members=tuple(map(bare, d.members)))))
        else:
            variants = tuple(bare(attrs.evolve(v, fields=tuple(map(bare, v.fields)))) for v in d.variants)
            decls.append(bare(attrs.evolve(d, variants=variants)))
    return ir.Schema(tuple(decls))


def same(a: Any, b: Any) -> bool:
    """Equal as Python forms, exactly: the same types (``1`` is not ``1.0``), the same key order, ``-0.0`` apart."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float:
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return bool(a == b)


def container_keeps_annotations() -> bool:
    """Whether a ``.fsb`` container (so a store) gives a schema's annotations back: a writer's ``@was`` can only
    steer resolution once its closure in the store holds it."""
    from fsf.bytecode.compile import compile_schema
    from fsf.bytecode.container import dump_container, load_container

    probe = annotate(fsf.compile_source("enum E { a, b }\nshape S { e: E }"),
                     {"S.e": {"was": "old", "default": "a"}, "E.b": {"fallback": True}, "E": {"was": "F"}}).ir
    return load_container(dump_container(probe, compile_schema(probe)), "probe")[0] == probe


@attrs.define
class OnPath:
    """A store whose writer schemas (each rebuilt from the store, once) run one codec path: what decoding and
    verifying need of a store (:class:`fsf.schema.StoreLike`), so that the writer's strict decode runs the path
    under test as the reader does."""

    store: Store
    path: CodecPath
    _schemas: dict[str, Schema] = attrs.field(factory=dict)

    def schema(self, type_id: str) -> Schema:
        found = self._schemas.get(type_id)
        if found is None:
            found = self._schemas[type_id] = self.path.use(self.store.schema(type_id))
        return found

    def check_refs(self, data: bytes, schema: Schema | None = None, *, deep: bool = True) -> int:
        return self.store.check_refs(data, schema, deep=deep)
