"""Compile: IR schema -> bytecode :class:`~fsf.bytecode.opcodes.Program` (one validator routine per named type).

Routines are laid out in name order. Every type expression lowers to a properly nested block (a check, or a
push ... POP pair around an inner block, or a loop whose back edge is the only backward jump), so a program can
be turned back into structured code (see :mod:`fsf.bytecode.specialize`) and verified by recompiling its IR.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsf import ir
from fsf.bytecode.opcodes import Instr, Op, Operand, Program
from fsf.ir.kinds import Kind, kind_of

# One check instruction per leaf kind. A handler is reached only for its kind, so it takes the type as Any.
_LEAF: dict[Kind, Callable[[Any], tuple[Op, tuple[Operand, ...]]]] = {
    Kind.BOOL: lambda t: (Op.BOOL, ()),
    Kind.INT: lambda t: (Op.INT, (t.kind, t.lo, t.hi)),
    Kind.FLOAT: lambda t: (Op.FLOAT, (t.width, t.lo, t.hi)),
    Kind.STR: lambda t: (Op.STR, (t.lo, t.hi)),
    Kind.BYTES: lambda t: (Op.BYTES, (t.lo, t.hi)),
    Kind.HASH: lambda t: (Op.HASH, ()),
    Kind.TIME: lambda t: (Op.TIME, ()),
    Kind.REF: lambda t: (Op.REF, (t.target,)),
    Kind.NAMED: lambda t: (Op.CALL, (t.name,)),
}


class _Label:
    """A jump target, resolved to an instruction index once the routine is laid out."""

    __slots__ = ("pc",)

    def __init__(self) -> None:
        self.pc = -1


class _Emitter:
    def __init__(self) -> None:
        self.ops: list[tuple[Op, tuple[Operand | _Label, ...]]] = []

    def emit(self, op: Op, *args: Operand | _Label) -> None:
        self.ops.append((op, args))

    def place(self, label: _Label) -> None:
        label.pc = len(self.ops)

    def type(self, t: ir.Type) -> None:
        """Check the current value against ``t`` (type nesting is bounded by the parser, so recursion is too)."""
        kind = kind_of(t)
        leaf = _LEAF.get(kind)
        if leaf is not None:
            op, args = leaf(t)
            self.emit(op, *args)
        elif kind is Kind.OPTIONAL:
            assert isinstance(t, ir.Optional)
            end = _Label()
            self.emit(Op.SKIP_NONE, end)
            self.type(t.inner)
            self.place(end)
        elif kind is Kind.ARRAY:
            assert isinstance(t, ir.Array)
            self.emit(Op.ARRAY, t.lo, t.hi)
            self.loop(Op.NEXT, t.item)
        else:
            assert isinstance(t, ir.Map)
            self.emit(Op.MAP, t.lo, t.hi)
            self.loop(Op.NEXT_KEY, t.key, t.value)

    def loop(self, advance: Op, first: ir.Type, value: ir.Type | None = None) -> None:
        top, end = _Label(), _Label()
        self.place(top)
        self.emit(advance, end)
        self.type(first)
        self.emit(Op.POP)
        if value is not None:
            self.emit(Op.VALUE)
            self.type(value)
            self.emit(Op.POP)
        self.emit(Op.JUMP, top)
        self.place(end)

    def fields(self, owner: str, fields: tuple[ir.Field, ...]) -> None:
        names = tuple(f.name for f in fields)
        required = tuple(f.name for f in fields if not f.optional)
        self.emit(Op.SHAPE, owner, names, required)
        for f in fields:
            if isinstance(f.type, ir.Optional):  # narrows f.type for mypy; f.optional says the same
                absent = _Label()
                self.emit(Op.OPT_FIELD, f.name, absent)
                self.type(f.type.inner)
                self.emit(Op.POP)
                self.place(absent)
            else:
                self.emit(Op.FIELD, f.name)
                self.type(f.type)
                self.emit(Op.POP)

    def decl(self, decl: ir.Decl) -> None:
        kind = kind_of(decl)
        if kind is Kind.SHAPE:
            assert isinstance(decl, ir.Shape)
            self.fields(decl.name, decl.fields)
        elif kind is Kind.ENUM:
            assert isinstance(decl, ir.Enum)
            self.emit(Op.ENUM, decl.name, tuple(m.name for m in decl.members))
        else:
            assert isinstance(decl, ir.Union_)
            self.emit(Op.UNION, decl.name, tuple(v.name for v in decl.variants))
            end = _Label()
            for v in decl.variants:
                other = _Label()
                self.emit(Op.VARIANT, v.name, other)
                self.fields(f"{decl.name}.{v.name}", v.fields)
                self.emit(Op.POP)
                self.emit(Op.JUMP, end)
                self.place(other)
            self.place(end)
        self.emit(Op.RET)


def compile_schema(schema: ir.Schema) -> Program:
    """Lower every named type of ``schema`` to a validator routine.

    >>> from fsf import compile_source
    >>> compile_source("enum E { a, b }").program.code[0]
    Instr(op=<Op.ENUM: 9>, args=('E', ('a', 'b')))
    """
    out = _Emitter()
    entries = []
    for decl in schema.decls:
        entries.append((decl.name, len(out.ops)))
        out.decl(decl)
    code = tuple(
        Instr(op, tuple(a.pc if isinstance(a, _Label) else a for a in args)) for op, args in out.ops
    )
    return Program(code, tuple(entries))
