"""VM: bytecode program + Python value -> None or :class:`fsf.ValidationError` (the reference executor).

The VM is iterative: the value being walked lives on an explicit stack, so nesting costs memory and never a
``RecursionError``; a container deeper than ``max_depth`` is refused. Depth follows the one rule of
:data:`fsf.limits.MAX_DEPTH`: the containers around a value, a union and its variant's dict counting as one. The ``check_*`` functions below are the
meaning of each check instruction and the one home of every validation message; the specialised fast path
(:mod:`fsf.bytecode.specialize`) calls them whenever its inline test does not accept a value outright.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import struct
from collections.abc import Sequence
from typing import Any

from fsf.bytecode.opcodes import Op, Program
from fsf.errors import UsageError, ValidationError
from fsf.fsv.format import time_ns
from fsf.ir.ids import ID_PREFIX as _ID_PREFIX
from fsf.limits import MAX_DEPTH
from fsf.limits import MAX_DEPTH_LIMIT as MAX_DEPTH_LIMIT  # re-exported: the largest max_depth an executor accepts

time_nanoseconds = time_ns
"""The one date -> nanoseconds of the format (:func:`fsf.fsv.format.time_ns`), by its old name here."""

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
HASH_SIZE = 32
_HEX = frozenset("0123456789abcdef")
_SHOWN_CHARS = 40
_VARIANT = object()
"""The cursor of a variant's dict on the stack: it shares its union's level (:data:`fsf.limits.MAX_DEPTH`)."""
_SHOWN_BITS = 128

# -- how values and paths are shown in messages --------------------------------------------------------------


def type_of(value: Any) -> str:
    """The Python type name of ``value`` as messages show it (``None`` for None)."""
    return "None" if value is None else type(value).__name__


def show(value: Any) -> str:
    """A short, safe rendering of ``value`` (JSON-quoted text, numbers, else its type in backticks)."""
    if type(value) is str:
        text = value if len(value) <= _SHOWN_CHARS else value[:_SHOWN_CHARS] + "…"
        return _printable(json.dumps(text, ensure_ascii=False))
    if type(value) is bool:
        return str(value)
    if type(value) is int:
        return str(value) if value.bit_length() <= _SHOWN_BITS else f"an integer of {value.bit_length()} bits"
    if type(value) is float:
        return repr(value)
    return f"`{type_of(value)}`"


def _printable(text: str) -> str:
    """Lone surrogates escaped, so that a message can always be printed and encoded."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _bounds(lo: Any, hi: Any) -> str:
    if lo == hi:
        return _num(lo)
    return f"{_num(lo) if lo is not None else ''}..{_num(hi) if hi is not None else ''}"


def _num(x: float | int) -> str:
    if type(x) is float and x == int(x) and abs(x) < 1e16:
        return str(int(x))
    return repr(x) if type(x) is float else str(x)


def format_path(segments: Sequence[Any]) -> str:
    """``$`` followed by each segment: a field or variant name (``str``) as ``.name``, an array index (``int``)
    as ``[3]``, a map key (a 1-tuple) as ``["key"]`` (JSON-quoted) or ``[3]``."""
    out = ["$"]
    for seg in segments:
        if type(seg) is str:
            out.append("." + seg)
        elif type(seg) is int:
            out.append(f"[{seg}]")
        else:
            key = seg[0]
            out.append(f"[{show(key)}]" if type(key) in (str, int) else f"[<{type_of(key)}>]")
    return "".join(out)


# -- the meaning of each check instruction: None if the value passes, else the message -----------------------


def expected(name: str, value: Any) -> str:
    return f"Expected `{name}`, got `{type_of(value)}`"


def check_depth(depth: int, max_depth: int) -> str | None:
    return f"Value nested deeper than {max_depth} levels" if depth > max_depth else None


def _length(name: str, n: int, lo: int, hi: int | None) -> str | None:
    if n < lo or (hi is not None and n > hi):
        return f"Expected `{name}` of length {_bounds(lo, hi)}, got length {n}"
    return None


def check_bool(value: Any) -> str | None:
    return None if type(value) is bool else expected("bool", value)


def check_int(value: Any, kind: str, lo: int, hi: int) -> str | None:
    if type(value) is not int:
        return expected(kind, value)
    if not lo <= value <= hi:
        return f"Expected `{kind}` in {_bounds(lo, hi)}, got {show(value)}"
    return None


def check_float(value: Any, width: int, lo: float | None, hi: float | None) -> str | None:
    kind = f"f{width}"
    if type(value) is float:
        if not math.isfinite(value):
            return f"Expected finite `{kind}`, got {show(value)}"
        x = value
    elif type(value) is int:
        try:
            x = float(value)
        except OverflowError:
            return f"Expected `{kind}` exactly representable, got {show(value)}"
        if int(x) != value:
            return f"Expected `{kind}` exactly representable, got {show(value)}"
    else:
        return expected(kind, value)
    if width == 32:
        try:
            exact = struct.unpack("<f", struct.pack("<f", x))[0] == x
        except OverflowError:
            exact = False
        if not exact:
            return f"Expected `{kind}` exactly representable, got {show(value)}"
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        return f"Expected `{kind}` in {_bounds(lo, hi)}, got {show(value)}"
    return None


def check_str(value: Any, lo: int, hi: int | None) -> str | None:
    if type(value) is not str:
        return expected("str", value)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            return f"Expected `str` encodable as UTF-8, got a lone surrogate at index {err.start}"
    return _length("str", len(value), lo, hi)


def check_bytes(value: Any, lo: int, hi: int | None) -> str | None:
    if type(value) is not bytes:
        return expected("bytes", value)
    return _length("bytes", len(value), lo, hi)


def check_hash(value: Any) -> str | None:
    if type(value) is not bytes:
        return expected("hash", value)
    return _length("hash", len(value), HASH_SIZE, HASH_SIZE)


def check_time(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            return "Expected timezone-aware `time`, got naive `datetime`"
        ns = time_nanoseconds(value)
        shown = value.isoformat()
    elif type(value) is int:
        ns = value
        shown = show(value)
    else:
        return expected("time", value)
    if not I64_MIN <= ns <= I64_MAX:
        return f"Expected `time` within signed 64-bit nanoseconds, got {shown}"
    return None


def check_ref(value: Any, target: str) -> str | None:
    name = f"ref<{target}>"
    if type(value) is not str:
        return expected(name, value)
    hexpart = value[len(_ID_PREFIX):]
    if len(value) != len(_ID_PREFIX) + 64 or not value.startswith(_ID_PREFIX) or not _HEX.issuperset(hexpart):
        return f'Expected `{name}` as "{_ID_PREFIX}" + 64 lowercase hex, got {show(value)}'
    return None


def check_enum(value: Any, name: str, members: tuple[str, ...]) -> str | None:
    if type(value) is not str:
        return expected(name, value)
    if value not in members:
        return f"Expected a member of `{name}`, got {show(value)}"
    return None


def check_shape(value: Any, name: str, fields: tuple[str, ...], required: tuple[str, ...], depth: int,
                max_depth: int) -> str | None:
    if type(value) is not dict:
        return expected(name, value)
    too_deep = check_depth(depth, max_depth)
    if too_deep:
        return too_deep
    for key in value:
        if key not in fields:
            return f"Unknown field {show(key)} in `{name}`"
    for field in required:
        if field not in value:
            return f"Missing required field `{field}` in `{name}`"
    return None


def check_union(value: Any, name: str, variants: tuple[str, ...], depth: int, max_depth: int) -> str | None:
    if type(value) is not dict:
        return expected(name, value)
    too_deep = check_depth(depth, max_depth)
    if too_deep:
        return too_deep
    if len(value) != 1:
        return f"Expected `{name}` as a one-key dict, got {len(value)} keys"
    tag = next(iter(value))
    if tag not in variants:
        return f"Expected a variant of `{name}`, got {show(tag)}"
    return None


def check_array(value: Any, lo: int, hi: int, depth: int, max_depth: int) -> str | None:
    if type(value) is not list:
        return expected("arr", value)
    return check_depth(depth, max_depth) or _length("arr", len(value), lo, hi)


def check_map(value: Any, lo: int, hi: int, depth: int, max_depth: int) -> str | None:
    if type(value) is not dict:
        return expected("map", value)
    return check_depth(depth, max_depth) or _length("map", len(value), lo, hi)


def check_max_depth(max_depth: int) -> None:
    """Refuse a ``max_depth`` outside 1..MAX_DEPTH_LIMIT."""
    if type(max_depth) is not int or not 1 <= max_depth <= MAX_DEPTH_LIMIT:
        raise UsageError(f"max_depth must be an integer in 1..{MAX_DEPTH_LIMIT}, got {max_depth!r}")


# -- the machine -------------------------------------------------------------------------------------------


def run(program: Program, name: str, value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Validate ``value`` as named type ``name``: return None, or raise ValidationError with its path.

    >>> from fsf import compile_source
    >>> run(compile_source("shape T { n: u8 }").program, "T", {"n": 300})
    Traceback (most recent call last):
    fsf.errors.ValidationError: Expected `u8` in 0..255, got 300 - at `$.n`
    """
    check_max_depth(max_depth)
    code = program.code
    if name not in program.entry:
        raise UsageError(f"program has no type `{name}`")
    pc = program.entry[name]
    values: list[Any] = [value]
    segments: list[Any] = [None]  # how each value was reached from the one below it
    cursors: list[Any] = [None]  # a loop cursor for each array or map on the stack
    returns: list[int] = []
    shared = 0  # variant dicts on the stack: each shares its union's level, so depth is len(values) - shared
    while True:
        ins = code[pc]
        op, a = ins.op, ins.args
        pc += 1
        v = values[-1]
        problem: str | None = None
        if op is Op.FIELD:
            values.append(v[a[0]])
            segments.append(a[0])
            cursors.append(None)
        elif op is Op.POP:
            values.pop()
            segments.pop()
            if cursors.pop() is _VARIANT:
                shared -= 1
        elif op is Op.OPT_FIELD:
            item = v.get(a[0])
            if item is None:
                pc = a[1]  # type: ignore[assignment]
            else:
                values.append(item)
                segments.append(a[0])
                cursors.append(None)
        elif op is Op.NEXT:
            i = cursors[-1]
            if i >= len(v):
                pc = a[0]  # type: ignore[assignment]
            else:
                cursors[-1] = i + 1
                values.append(v[i])
                segments.append(i)
                cursors.append(None)
        elif op is Op.NEXT_KEY:
            items, i = cursors[-1]
            i += 1
            if i >= len(items):
                pc = a[0]  # type: ignore[assignment]
            else:
                cursors[-1] = (items, i)
                values.append(items[i][0])
                segments.append((items[i][0],))
                cursors.append(None)
        elif op is Op.VALUE:
            items, i = cursors[-1]
            values.append(items[i][1])
            segments.append((items[i][0],))
            cursors.append(None)
        elif op is Op.VARIANT:
            tag = next(iter(v))
            if tag == a[0]:
                values.append(v[tag])
                segments.append(a[0])
                cursors.append(_VARIANT)
                shared += 1
            else:
                pc = a[1]  # type: ignore[assignment]
        elif op is Op.SKIP_NONE:
            if v is None:
                pc = a[0]  # type: ignore[assignment]
        elif op is Op.JUMP:
            pc = a[0]  # type: ignore[assignment]
        elif op is Op.CALL:
            returns.append(pc)
            pc = program.entry[a[0]]  # type: ignore[index]
        elif op is Op.RET:
            if not returns:
                return
            pc = returns.pop()
        elif op is Op.SHAPE:
            problem = check_shape(v, a[0], a[1], a[2], len(values) - shared, max_depth)  # type: ignore[arg-type]
        elif op is Op.UNION:
            problem = check_union(v, a[0], a[1], len(values) - shared, max_depth)  # type: ignore[arg-type]
        elif op is Op.ARRAY:
            problem = check_array(v, a[0], a[1], len(values) - shared, max_depth)  # type: ignore[arg-type]
            cursors[-1] = 0
        elif op is Op.MAP:
            problem = check_map(v, a[0], a[1], len(values) - shared, max_depth)  # type: ignore[arg-type]
            if problem is None:
                cursors[-1] = (list(v.items()), -1)
        elif op is Op.BOOL:
            problem = check_bool(v)
        elif op is Op.INT:
            problem = check_int(v, a[0], a[1], a[2])  # type: ignore[arg-type]
        elif op is Op.FLOAT:
            problem = check_float(v, a[0], a[1], a[2])  # type: ignore[arg-type]
        elif op is Op.STR:
            problem = check_str(v, a[0], a[1])  # type: ignore[arg-type]
        elif op is Op.BYTES:
            problem = check_bytes(v, a[0], a[1])  # type: ignore[arg-type]
        elif op is Op.HASH:
            problem = check_hash(v)
        elif op is Op.TIME:
            problem = check_time(v)
        elif op is Op.REF:
            problem = check_ref(v, a[0])  # type: ignore[arg-type]
        elif op is Op.ENUM:
            problem = check_enum(v, a[0], a[1])  # type: ignore[arg-type]
        else:  # pragma: no cover - the table and this loop are tested to agree
            raise AssertionError(f"unknown opcode {op!r}")
        if problem is not None:
            raise ValidationError(problem, format_path(segments[1:]))
