"""VM: bytecode program + Python value -> None or :class:`fsf.ValidationError` (the reference executor).

The VM is iterative: the value being walked lives on an explicit stack, so nesting costs memory and never a
``RecursionError``; a container deeper than ``max_depth`` is refused. Depth follows the one rule of
:data:`fsf.limits.MAX_DEPTH`: the containers around a value, a union and its variant's dict counting as one. The ``check_*`` functions below are the
meaning of each check instruction and the one home of every validation message; the specialised fast path
(:mod:`fsf.bytecode.specialize`) calls them whenever its inline test does not accept a value outright. The same
machine collects every error of a value (:func:`errors`) by walking on past each one.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from collections.abc import Sequence
from typing import Any

from fsf.bytecode.opcodes import Instr, Op, Program
from fsf.errors import Loc, Unreadable, UsageError, ValidationError
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
        import json  # only when a message is worded

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
            if type(key) is Unreadable and key.key is not None:
                key = key.key
            out.append(f"[{show(key)}]" if type(key) in (str, int) else f"[<{type_of(key)}>]")
    return "".join(out)


def loc_of(segments: Sequence[Any]) -> Loc:
    """The segments of :func:`format_path` as :attr:`fsf.ValidationError.loc`: a map key as the key itself."""
    return tuple(seg if type(seg) in (str, int) else _key_of(seg[0]) for seg in segments)


def _key_of(key: Any) -> Any:
    return key.key if type(key) is Unreadable and key.key is not None else key


def failure(message: str, segments: Sequence[Any]) -> ValidationError:
    """The error of ``message`` at the value reached by ``segments`` (both executors raise what this builds)."""
    return ValidationError(message, format_path(segments), loc_of(segments))


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
        if type(value) is dict and len(value) == 1 and next(iter(value)) in members:
            return f"{expected(name, value)}; write a member as {show(next(iter(value)))}"
        return expected(name, value)
    if value not in members:
        return f"Expected a member of `{name}`, got {show(value)}{_did_you_mean(value, members)}"
    return None


def _did_you_mean(given: str, names: tuple[str, ...]) -> str:
    """``; did you mean `name`?`` for the one of ``names`` closest to ``given`` (case aside), if one is close."""
    if len(given) > _SHOWN_CHARS:
        return ""
    import difflib  # only when a message is worded: never on the way to accepting a value

    folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(given.casefold(), list(folded), n=1)
    return f"; did you mean `{_printable(folded[close[0]])}`?" if close else ""


def _unknown_field(key: Any, name: str) -> str:
    return f"Unknown field {show(key)} in `{name}`"


def _missing_field(field: str, name: str) -> str:
    return f"Missing required field `{field}` in `{name}`"


def check_shape(value: Any, name: str, fields: tuple[str, ...], required: tuple[str, ...], depth: int,
                max_depth: int) -> str | None:
    if type(value) is not dict:
        return expected(name, value)
    too_deep = check_depth(depth, max_depth)
    if too_deep:
        return too_deep
    for key in value:
        if key not in fields:
            return _unknown_field(key, name)
    for field in required:
        if field not in value:
            return _missing_field(field, name)
    return None


def shape_problems(value: dict[Any, Any], name: str, fields: tuple[str, ...], required: tuple[str, ...]) -> list[str]:
    """Every problem of a shape ``dict`` at an allowed depth (:func:`check_shape` gives the first): each unknown
    field in the dict's order, then each missing one in the schema's."""
    return [*(_unknown_field(k, name) for k in value if k not in fields),
            *(_missing_field(f, name) for f in required if f not in value)]


def check_union(value: Any, name: str, variants: tuple[str, ...], depth: int, max_depth: int,
                units: tuple[str, ...] = ()) -> str | None:
    """``units`` are the variants without fields (:func:`unit_variants`): a ``str`` naming one is told how a unit
    variant is written."""
    if type(value) is not dict:
        if type(value) is str and value in units:
            return f"{expected(name, value)}; write a unit variant as {{{show(value)}: {{}}}}"
        return expected(name, value)
    too_deep = check_depth(depth, max_depth)
    if too_deep:
        return too_deep
    if len(value) != 1:
        return f"Expected `{name}` as a one-key dict, got {len(value)} keys"
    tag = next(iter(value))
    if tag not in variants:
        hint = _did_you_mean(tag, variants) if type(tag) is str else ""
        return f"Expected a variant of `{name}`, got {show(tag)}{hint}"
    return None


def unit_variants(code: Sequence[Instr], pc: int) -> tuple[str, ...]:
    """The variants without fields of the union whose ``UNION`` instruction is at ``pc`` (each ``VARIANT`` is
    followed by its payload's ``SHAPE``, and jumps to the next ``VARIANT``)."""
    units = []
    at = pc + 1
    while at < len(code) and code[at].op is Op.VARIANT:
        payload = code[at + 1]
        if payload.op is Op.SHAPE and not payload.args[1]:
            units.append(str(code[at].args[0]))
        at = int(code[at].args[1])  # type: ignore[arg-type]
    return tuple(units)


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
    _walk(program, name, value, max_depth, None)


def errors(program: Program, name: str, value: Any, max_depth: int = MAX_DEPTH) -> list[ValidationError]:
    """Every error of ``value`` as named type ``name``, in the order of the value (empty if it is valid).

    The walk goes on past each error: a container's own problems come before those inside it; a shape's fields
    and a map's entries are still walked when only their keys or the length are wrong, a container of the wrong
    type, nested too deep or a union without a known variant is not looked into. An :class:`fsf.errors.Unreadable`
    placeholder is reported with its own message.

    >>> from fsf import compile_source
    >>> [str(e) for e in errors(compile_source("shape T { n: u8, s: str }").program, "T", {"n": 300, "s": 1})]
    ['Expected `u8` in 0..255, got 300 - at `$.n`', 'Expected `str`, got `int` - at `$.s`']
    """
    found: list[ValidationError] = []
    _walk(program, name, value, max_depth, found)
    return found


def _walk(program: Program, name: str, value: Any, max_depth: int, found: list[ValidationError] | None) -> None:
    """The machine: raise the first error, or with a list ``found``, collect each error into it and go on."""
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
            try:
                values.append(v[a[0]])
            except KeyError:  # only when collecting: SHAPE reported the missing field, its checks are skipped
                if found is None:
                    raise
                pc = _end_of_value(code, pc) + 1
                continue
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
            problem = check_union(v, a[0], a[1], len(values) - shared, max_depth,  # type: ignore[arg-type]
                                  unit_variants(code, pc - 1) if type(v) is str else ())
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
            if found is None:
                raise failure(problem, segments[1:])
            pc = _collect(found, code, pc, v, problem, segments[1:], len(values) - shared, max_depth, cursors)


_CONTAINERS: dict[Op, type | None] = {Op.SHAPE: dict, Op.UNION: None, Op.ARRAY: list, Op.MAP: dict}
"""The container checks and the type a value needs for the walk to look inside it after a problem (a union
never: without one known variant there is no payload to walk)."""

_PUSHES = frozenset({Op.FIELD, Op.OPT_FIELD, Op.NEXT, Op.NEXT_KEY, Op.VALUE, Op.VARIANT})


def _collect(found: list[ValidationError], code: Sequence[Instr], pc: int, v: Any, problem: str,
             segments: list[Any], depth: int, max_depth: int, cursors: list[Any]) -> int:
    """Record the problem of the check just before ``pc`` on ``v``; return where the walk goes on."""
    op, a = code[pc - 1].op, code[pc - 1].args
    walk_in = op in _CONTAINERS and type(v) is _CONTAINERS[op] and check_depth(depth, max_depth) is None
    if type(v) is Unreadable:
        problem = v.message
    elif op is Op.SHAPE and walk_in:
        found.extend(failure(p, segments) for p in shape_problems(v, a[0], a[1], a[2]))  # type: ignore[arg-type]
        return pc
    found.append(failure(problem, segments))
    if op is Op.MAP and walk_in:
        cursors[-1] = (list(v.items()), -1)
    elif op in _CONTAINERS and not walk_in:
        return _end_of_value(code, pc)
    return pc


def _end_of_value(code: Sequence[Instr], pc: int) -> int:
    """The ``POP`` (or the routine's ``RET``) that ends the checks of the current value, from ``pc`` inside them:
    every push up to it is matched by a pop (the program is properly nested, :mod:`fsf.bytecode.compile`)."""
    open_ = 0
    while True:
        op = code[pc].op
        if op in _PUSHES:
            open_ += 1
        elif op is Op.POP or op is Op.RET:
            if open_ == 0:
                return pc
            open_ -= 1
        pc += 1
