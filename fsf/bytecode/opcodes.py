"""Opcodes: the bytecode instruction set (one table) and the compiled :class:`Program` that every executor reads.

The table below is the single source of truth: each row gives an opcode's name, its number in the compiled
container, its operand kinds and its meaning. The reference VM (:mod:`fsf.bytecode.vm`), the specialiser
(:mod:`fsf.bytecode.specialize`), the disassembler (:mod:`fsf.bytecode.dis`), the container codec (:mod:`fsf.bytecode.container`) and
``docs/bytecode.md`` all follow it. The machine model: a stack of values (the top is the *current value*, the
root is the value being validated), a return stack for ``CALL``/``RET``, and one loop cursor per value slot.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from itertools import pairwise

import attrs

FORMAT_VERSION = 1
"""The bytecode and container format version; bumped on any incompatible change."""


class Kind(enum.Enum):
    """The kind of one operand: what values it may hold (checked when a container is loaded)."""

    INT = "int"
    """An integer (any size that msgpack holds: -2^63..2^64-1)."""
    LEN = "len"
    """A length: 0..2^32-1."""
    MAXLEN = "maxlen"
    """A length, or none for "no bound"."""
    FLOAT = "float"
    """A finite float, or none for "no bound"."""
    TEXT = "text"
    """A string (a field, variant or type name, an integer kind)."""
    NAMES = "names"
    """A tuple of distinct strings (fields, members, variants), in declaration order."""
    LABEL = "label"
    """An instruction index inside the program."""
    TYPE = "type"
    """The name of a named type of the program (a routine)."""


class Op(enum.IntEnum):
    """Every instruction: ``NAME = (number, operand kinds, doc)``."""

    operands: tuple[Kind, ...]
    operand_names: tuple[str, ...]
    doc: str

    def __new__(cls, number: int, operands: tuple[tuple[str, Kind], ...], doc: str) -> Op:
        member = int.__new__(cls, number)
        member._value_ = number
        member.operand_names = tuple(name for name, _ in operands)
        member.operands = tuple(kind for _, kind in operands)
        member.doc = doc
        return member

    # -- checks on the current value ----------------------------------------------------------------------
    BOOL = (0x01, (), "The current value is a `bool`.")
    INT = (0x02, (("kind", Kind.TEXT), ("lo", Kind.INT), ("hi", Kind.INT)),
           "The current value is an `int` (never a `bool`) of integer kind `kind`, within lo..hi inclusive.")
    FLOAT = (0x03, (("width", Kind.INT), ("lo", Kind.FLOAT), ("hi", Kind.FLOAT)),
             "The current value is a finite float of `width` bits (32 or 64), or an `int` exactly representable "
             "in it, within lo..hi when they are present.")
    STR = (0x04, (("lo", Kind.LEN), ("hi", Kind.MAXLEN)),
           "The current value is a `str` encodable as UTF-8 whose length in code points is within lo..hi.")
    BYTES = (0x05, (("lo", Kind.LEN), ("hi", Kind.MAXLEN)),
             "The current value is `bytes` whose length is within lo..hi.")
    HASH = (0x06, (), "The current value is `bytes` of length 32.")
    TIME = (0x07, (),
            "The current value is a timezone-aware `datetime` or an `int`, as nanoseconds since the Unix epoch "
            "within signed 64-bit.")
    REF = (0x08, (("target", Kind.TYPE),),
           "The current value is a content id of a `target` value: `blake3:` + 64 lowercase hex.")
    ENUM = (0x09, (("name", Kind.TEXT), ("members", Kind.NAMES)),
            "The current value is a `str` naming one member of enum `name`.")
    # -- containers: check the current value and prepare its loop cursor ------------------------------------
    SHAPE = (0x10, (("name", Kind.TEXT), ("fields", Kind.NAMES), ("required", Kind.NAMES)),
             "The current value is a `dict` (one nesting level) whose keys are all among `fields` and include "
             "every name in `required`.")
    UNION = (0x11, (("name", Kind.TEXT), ("variants", Kind.NAMES)),
             "The current value is a one-key `dict` (one nesting level) whose key is one of `variants`.")
    ARRAY = (0x12, (("lo", Kind.LEN), ("hi", Kind.LEN)),
             "The current value is a `list` (one nesting level) of length lo..hi; its cursor is set to the start.")
    MAP = (0x13, (("lo", Kind.LEN), ("hi", Kind.LEN)),
           "The current value is a `dict` (one nesting level) of length lo..hi; its cursor is set to the start.")
    # -- moving through a value -----------------------------------------------------------------------------
    FIELD = (0x20, (("name", Kind.TEXT),), "Push field `name` of the current shape (present, as SHAPE checked).")
    OPT_FIELD = (0x21, (("name", Kind.TEXT), ("label", Kind.LABEL)),
                 "Push field `name` of the current shape; if it is absent or None, jump to `label` instead.")
    VARIANT = (0x22, (("name", Kind.TEXT), ("label", Kind.LABEL)),
               "If the current union value's key is `name`, push its payload; else jump to `label`.")
    NEXT = (0x23, (("label", Kind.LABEL),),
            "Advance the current array's cursor and push that item; if it is past the end, jump to `label`.")
    NEXT_KEY = (0x24, (("label", Kind.LABEL),),
                "Advance the current map's cursor and push that entry's key; past the end, jump to `label`.")
    VALUE = (0x25, (), "Push the value of the current map's entry under its cursor.")
    SKIP_NONE = (0x26, (("label", Kind.LABEL),), "If the current value is None, jump to `label`.")
    POP = (0x27, (), "Pop the current value.")
    # -- control ------------------------------------------------------------------------------------------
    JUMP = (0x30, (("label", Kind.LABEL),), "Continue at `label`.")
    CALL = (0x31, (("type", Kind.TYPE),),
            "Run the routine of named type `type` on the current value, then continue here.")
    RET = (0x32, (), "Return from the routine; returning from the entry routine accepts the value.")


Operand = int | float | str | tuple[str, ...] | None


@attrs.frozen
class Instr:
    """One instruction: an opcode and its operands (as many, and of the kinds, as the table says)."""

    op: Op
    args: tuple[Operand, ...] = ()


@attrs.frozen
class Program:
    """A compiled schema: one flat instruction list and the entry point of each named type's routine.

    ``entries`` is sorted by name; each routine is contiguous and ends with the program's next routine.
    """

    code: tuple[Instr, ...]
    entries: tuple[tuple[str, int], ...]
    _index: dict[str, int] = attrs.field(init=False, eq=False, repr=False)
    _ends: dict[int, int] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_index", dict(self.entries))
        starts = sorted(set(self._index.values()))
        object.__setattr__(self, "_ends", dict(pairwise([*starts, len(self.code)])))

    @property
    def entry(self) -> Mapping[str, int]:
        """Named type -> the index of its routine's first instruction."""
        return self._index

    def routine(self, name: str) -> range:
        """The instruction indices of ``name``'s routine."""
        start = self._index[name]
        return range(start, self._ends[start])


BY_NUMBER: Mapping[int, Op] = {int(op): op for op in Op}
