"""Disassemble: bytecode program -> a readable listing with symbolic jump labels (``L1:``).

Each routine starts with its type's name; each instruction shows its index, its opcode and its operands as
the opcode table types them (text JSON-quoted, absent bounds as ``-``, jump targets as labels).
"""

from __future__ import annotations

import json

from fsf.bytecode.opcodes import FORMAT_VERSION, Kind, Operand, Program


def disassemble(program: Program) -> str:
    """The listing of ``program``.

    >>> from fsf import compile_source
    >>> print(disassemble(compile_source("enum E { a, b }").program))
    ; fsf bytecode, format 1
    <BLANKLINE>
    E:
        0  ENUM       "E" ["a", "b"]
        1  RET
    """
    targets = sorted({a for ins in program.code for k, a in zip(ins.op.operands, ins.args, strict=True)
                      if k is Kind.LABEL and type(a) is int})
    labels = {pc: f"L{i}" for i, pc in enumerate(targets, 1)}
    starts = {pc: name for name, pc in program.entries}
    width = len(str(max(len(program.code) - 1, 0)))
    out = [f"; fsf bytecode, format {FORMAT_VERSION}"]
    for pc, ins in enumerate(program.code):
        if pc in starts:
            out += ["", f"{starts[pc]}:"]
        if pc in labels:
            out.append(f"{labels[pc]}:")
        text = " ".join(_operand(k, a, labels) for k, a in zip(ins.op.operands, ins.args, strict=True))
        out.append(f"    {pc:>{width}}  {ins.op.name:<10} {text}".rstrip())
    for pc in labels:
        if pc >= len(program.code):  # pragma: no cover - the compiler never jumps past the end
            out.append(f"{labels[pc]}:")
    return "\n".join(out) + "\n"


def _operand(kind: Kind, value: Operand, labels: dict[int, str]) -> str:
    if kind is Kind.LABEL:
        return labels[int(value)]  # type: ignore[arg-type]
    if value is None:
        return "-"
    if kind is Kind.TEXT:
        return json.dumps(value, ensure_ascii=False)
    if kind is Kind.NAMES:
        return "[" + ", ".join(json.dumps(n, ensure_ascii=False) for n in value) + "]"  # type: ignore[union-attr]
    return str(value) if kind is not Kind.FLOAT else repr(value)

