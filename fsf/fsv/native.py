"""Native: IR schema -> the node table of the C codec (``fsf/fsv/_native.c``), and that codec when it is built.

The extension is optional: the package builds it when a C compiler is at hand (``hatch_build.py``), and
:data:`AVAILABLE` is false when it was not built or ``FSF_NO_NATIVE=1`` was set when this module was first
imported. ``decode`` reads FSV payload bytes in one pass, checks every rule of the format, and returns the same
Python form as the reference reader; ``encode`` validates a value in the exact types of that form while it
writes the canonical bytes. On any refusal both raise :class:`fsf.errors.Refused` without words, and the codec
(:class:`fsf.fsv.codec.Codec`) asks its next path and last the reference reader or validator, which report the
exact problem (``docs/fsv.md``, "Execution paths").

A node table is a tuple of nodes, each a tuple ``(kind, ...)``; named types come first, in the order of
``schema.decls``, so a declaration's node is its index there, and a use of it is that index:

=======  ================================  ==========================================================
kind     node                              reads
=======  ================================  ==========================================================
BOOL     ``(0,)``                          ``c2`` / ``c3``
INT      ``(1, lo, hi)``                   an integer within ``lo..hi``
FLOAT    ``(2, width, lo, hi)``            float 32 or 64, finite, not ``-0.0``, within the bounds
STR      ``(3, lo, hi)``                   str; ``lo..hi`` code points (``hi`` None: unbounded)
BYTES    ``(4, lo, hi)``                   bin of ``lo..hi`` bytes (``hash`` is ``32..32``)
REF      ``(5,)``                          bin of 32 bytes, returned as ``blake3:<hex>``
OPT      ``(6, inner)``                    ``nil`` (``None``) or the inner node
ARR      ``(7, lo, hi, item)``             array of ``lo..hi`` items
MAP      ``(8, lo, hi, key, value)``       map of ``lo..hi`` entries, keys strictly increasing
SHAPE    ``(9, names, kids)``              array of exactly ``len(names)`` fields -> dict
ENUM     ``(10, members)``                 a member index -> the member's name
UNION    ``(11, names, variants)``         ``[index, fields...]`` -> ``{name: dict}``; variants are SHAPEs
TIME     ``(12, lo, hi)``                  as INT (the int64 range); encodes an aware ``datetime`` too
=======  ================================  ==========================================================
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, cast

from fsf import ir
from fsf.fsv.format import NodeKind
from fsf.ir.kinds import Kind, kind_of
from fsf.limits import MAX_DEPTH

try:
    if os.environ.get("FSF_NO_NATIVE") == "1":
        raise ImportError("FSF_NO_NATIVE=1")
    _native: Any = importlib.import_module("fsf.fsv._native")
except ImportError:
    _native = None

AVAILABLE: bool = _native is not None
"""The C decoder is built and not switched off."""

BOOL, INT, FLOAT, STR, BYTES, REF, OPT, ARR, MAP, SHAPE, ENUM, UNION, TIME = NodeKind  # the one table's kinds

Node = tuple[Any, ...]


def program(schema: ir.Schema) -> tuple[Node, ...]:
    """The node table of ``schema`` (see the module docstring); the node of declaration ``i`` is ``i``."""
    index = {decl.name: i for i, decl in enumerate(schema.decls)}
    nodes: list[Node] = [()] * len(schema.decls)
    seen: dict[ir.Type, int] = {}

    def add(node: Node) -> int:
        nodes.append(node)
        return len(nodes) - 1

    def fields(fs: tuple[ir.Field, ...]) -> Node:
        return (SHAPE, tuple(sys.intern(f.name) for f in fs), tuple(of(f.type) for f in fs))

    def of(t: ir.Type) -> int:  # type nesting is at most 64, so the recursion is bounded
        k = kind_of(t)
        if k is Kind.NAMED:
            return index[cast(ir.Named, t).name]
        if t not in seen:
            if k is Kind.OPTIONAL:
                node: Node = (OPT, of(cast(ir.Optional, t).inner))
            elif k is Kind.ARRAY:
                a = cast(ir.Array, t)
                node = (ARR, a.lo, a.hi, of(a.item))
            elif k is Kind.MAP:
                m = cast(ir.Map, t)
                node = (MAP, m.lo, m.hi, of(m.key), of(m.value))
            else:
                node = _leaf(t)
            seen[t] = add(node)
        return seen[t]

    for i, decl in enumerate(schema.decls):
        dk = kind_of(decl)
        if dk is Kind.SHAPE:
            nodes[i] = fields(cast(ir.Shape, decl).fields)
        elif dk is Kind.ENUM:
            nodes[i] = (ENUM, tuple(sys.intern(m.name) for m in cast(ir.Enum, decl).members))
        else:
            u = cast(ir.Union_, decl)
            variants = tuple(add(fields(v.fields)) for v in u.variants)
            nodes[i] = (UNION, tuple(sys.intern(v.name) for v in u.variants), variants)
    return tuple(nodes)


def _leaf(t: ir.Type) -> Node:
    k = kind_of(t)
    if k is Kind.BOOL:
        return (BOOL,)
    if k is Kind.INT:
        ti = cast(ir.Int, t)
        return (INT, ti.lo, ti.hi)
    if k is Kind.TIME:
        from fsf.bytecode import vm  # only for a schema with a `time`: the reference VM's range

        return (TIME, vm.I64_MIN, vm.I64_MAX)
    if k is Kind.FLOAT:
        tf = cast(ir.Float, t)
        return (FLOAT, tf.width, tf.lo, tf.hi)
    if k is Kind.STR or k is Kind.BYTES:
        tb = cast("ir.Str | ir.Bytes", t)
        return (STR if k is Kind.STR else BYTES, tb.lo, tb.hi)
    if k is Kind.HASH:
        return (BYTES, ir.HASH_SIZE, ir.HASH_SIZE)
    assert k is Kind.REF, t
    return (REF,)


def codec(schema: ir.Schema) -> Any | None:
    """The C codec of ``schema``, or None when it is not available: ``.decode(data, start, root, budget)``,
    ``.check(data, start, root, budget)`` and ``.encode(value, root, prefix)``, ``root`` a declaration's index and
    ``budget`` the most msgpack values to read (optional: no limit); ``.bind(table)`` gives what a fifth argument of
    ``decode`` takes to build objects of generated classes instead of dicts, and a fourth argument of ``encode``
    to read such objects as well as the Python form (one entry per node: ``(class, attribute names)`` for a SHAPE
    node, the tuple of members for an ENUM node, else None; built by :func:`fsf.codegen.objects.bind_classes`).
    The nesting limit is given to it here, as the ``max_depth`` argument of ``Program``:
    :data:`fsf.limits.MAX_DEPTH`, counted by the rule stated there."""
    return _native.Program(program(schema), MAX_DEPTH) if _native is not None else None
