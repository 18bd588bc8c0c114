"""Ids: IR schema -> the identity of each named type, ``blake3:`` + hex of BLAKE3 over a canonical encoding.

A type's id covers the type and everything it reaches (uses by value and ``ref<T>`` targets). Types are
grouped into strongly connected components; a component is encoded with its members sorted by name, uses
inside it by name and uses outside it by the other type's id (a Merkle tree over the component graph). So
declaration order, comments, doc comments and file layout never change an id; any change in the closure does;
a type outside the closure never does. Linear in the schema's size and free of recursion over declarations.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import blake3
import msgpack

from fsf import ir
from fsf.ir.kinds import Kind, kind_of

ID_PREFIX = "blake3:"
_COMPONENT_TAG = "fsf-component-1"
_TYPE_TAG = "fsf-type-1"


def type_ids(schema: ir.Schema) -> dict[str, bytes]:
    """The 32-byte id digest of every named type of ``schema``."""
    edges = {d.name: sorted(set(_edges(d))) for d in schema.decls}
    ids: dict[str, bytes] = {}
    for component in _components(edges):
        local = set(component)
        body = [[name, _decl(schema[name], local, ids)] for name in sorted(component)]
        digest = blake3.blake3(_pack([_COMPONENT_TAG, body])).digest()
        for name in component:
            ids[name] = blake3.blake3(_pack([_TYPE_TAG, name, digest])).digest()
    return ids


def format_id(digest: bytes) -> str:
    """``blake3:`` + 64 lowercase hex digits."""
    return ID_PREFIX + digest.hex()


def parse_id(text: str) -> bytes | None:
    """The digest of a ``blake3:<64 hex>`` string, or None if it is not one."""
    if not isinstance(text, str) or not text.startswith(ID_PREFIX) or len(text) != len(ID_PREFIX) + 64:
        return None
    hexpart = text[len(ID_PREFIX):]
    if hexpart != hexpart.lower():
        return None
    try:
        return bytes.fromhex(hexpart)
    except ValueError:
        return None


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)  # type: ignore[no-any-return]


# The declared type a use reaches: by value (a Named) or by content id (a Ref); both are in a type's closure.
_EDGE: dict[Kind, Callable[[Any], str]] = {Kind.NAMED: operator.attrgetter("name"),
                                           Kind.REF: operator.attrgetter("target")}


def _edges(decl: ir.Decl) -> list[str]:
    out = []
    stack = list(ir.decl_types(decl))
    while stack:
        t = stack.pop()
        edge = _EDGE.get(kind_of(t))
        if edge is not None:
            out.append(edge(t))
        stack.extend(ir.children(t))
    return out


def _components(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively; each comes after every component it reaches."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            succ = edges[node]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def _ref(name: str, local: set[str], ids: dict[str, bytes]) -> list[Any]:
    return ["local", name] if name in local else ["id", ids[name]]


def _type(t: ir.Type, local: set[str], ids: dict[str, bytes]) -> list[Any]:
    return ir.type_list(t, lambda name: _ref(name, local, ids))


def _fields(fields: tuple[ir.Field, ...], local: set[str], ids: dict[str, bytes]) -> list[Any]:
    return [[f.name, _type(f.type, local, ids)] for f in fields]


def _decl(decl: ir.Decl, local: set[str], ids: dict[str, bytes]) -> list[Any]:
    return _DECLS[kind_of(decl)](decl, local, ids)


# The canonical list of each kind of declaration; a handler is reached only for its kind (hence Any).
_DECLS: dict[Kind, Callable[[Any, set[str], dict[str, bytes]], list[Any]]] = {
    Kind.SHAPE: lambda d, local, ids: ["shape", _fields(d.fields, local, ids)],
    Kind.ENUM: lambda d, local, ids: ["enum", [m.name for m in d.members]],
    Kind.UNION: lambda d, local, ids: ["union", [[v.name, _fields(v.fields, local, ids)] for v in d.variants]],
}
