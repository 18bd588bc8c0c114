"""Graph: what a type needs (its closure) and where a value's references are (the ``ref<T>`` fields).

Pure functions over the IR and the codec's Python form of a value; the store (:mod:`fsf.store`) uses them to
record schemas and to follow references.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from fsf import ir
from fsf.ir.kinds import Kind, kind_of


def closure(schema: ir.Schema, name: str) -> ir.Schema:
    """The declarations ``name`` reaches through its fields, by value (``T``) or by reference (``ref<T>``),
    itself included, as a schema of their own (sorted by name, as every IR schema)."""
    seen = {name}
    work = [name]
    while work:
        for t in _flat(ir.decl_types(schema[work.pop()])):
            target = t.name if isinstance(t, ir.Named) else t.target if isinstance(t, ir.Ref) else None
            if target is not None and target not in seen:
                seen.add(target)
                work.append(target)
    return ir.Schema(tuple(d for d in schema.decls if d.name in seen))


def _flat(types: Iterator[ir.Type]) -> Iterator[ir.Type]:
    stack = list(types)
    while stack:
        t = stack.pop()
        yield t
        stack.extend(ir.children(t))


def holds_refs(schema: ir.Schema) -> frozenset[str]:
    """The named types whose values can hold a ``ref<T>`` somewhere inside (a value of any other type has none,
    so its references need no walk)."""
    direct: dict[str, set[str]] = {}
    found: set[str] = set()
    for d in schema.decls:
        uses = direct[d.name] = set()
        for t in _flat(ir.decl_types(d)):
            if isinstance(t, ir.Ref):
                found.add(d.name)
            elif isinstance(t, ir.Named):
                uses.add(t.name)
    changed = True
    while changed:
        changed = False
        for name, uses in direct.items():
            if name not in found and uses & found:
                found.add(name)
                changed = True
    return frozenset(found)


def refs_of(schema: ir.Schema, name: str, value: Any) -> Iterator[tuple[str, str, str]]:
    """Every reference in ``value`` (the Python form of a valid ``name``), in value order: its value path
    (``$.prev``), the target type's name and the content id (``blake3:…``)."""
    if name not in holds_refs(schema):
        return
    yield from _walk(schema, holds_refs(schema), ir.Named(name), value, [])


def _walk(schema: ir.Schema, rich: frozenset[str], t: ir.Type, value: Any,
          at: list[Any]) -> Iterator[tuple[str, str, str]]:
    k = kind_of(t)
    if k is Kind.REF:
        from fsf.bytecode.vm import format_path  # here: a store opened for values without refs never needs it

        yield format_path(at), cast(ir.Ref, t).target, value
    elif k is Kind.OPTIONAL:
        if value is not None:
            yield from _walk(schema, rich, cast(ir.Optional, t).inner, value, at)
    elif k is Kind.ARRAY:
        item = cast(ir.Array, t).item
        for i, x in enumerate(value):
            yield from _walk(schema, rich, item, x, [*at, i])
    elif k is Kind.MAP:
        m = cast(ir.Map, t)
        for key, x in value.items():
            yield from _walk(schema, rich, m.key, key, [*at, (key,)])
            yield from _walk(schema, rich, m.value, x, [*at, (key,)])
    elif k is Kind.NAMED:
        decl_name = cast(ir.Named, t).name
        if decl_name not in rich:
            return
        decl = schema[decl_name]
        if isinstance(decl, ir.Shape):
            for f in decl.fields:
                yield from _walk(schema, rich, f.type, value[f.name], [*at, f.name])
        elif isinstance(decl, ir.Union_):
            ((variant, fields),) = value.items()
            for f in next(v for v in decl.variants if v.name == variant).fields:
                yield from _walk(schema, rich, f.type, fields[f.name], [*at, variant, f.name])
