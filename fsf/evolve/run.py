"""Run: a :class:`~fsf.evolve.plan.Plan` -> one function from a valid writer value (the codec's Python form) to
the reader's Python form, or an :class:`fsf.errors.IncompatibleError` naming the rule and the value path.

Steps that change nothing are left out (a subtree of the same type id is not walked at all). A shape is one
generated function that reads each changed field once and builds the reader's dict in one expression; the rest
are small closures. A failure raises ``_Miss`` at once, and each level on the way out adds its path segment (a
shape's field from the ``try`` around it, an array's index from the items read so far), so the fast path does no
path bookkeeping and nothing is read twice.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import attrs

from fsf import ir
from fsf.bytecode.vm import format_path
from fsf.errors import IncompatibleError
from fsf.evolve.plan import (
    F32_MAX,
    Arr,
    Call,
    EnumStep,
    Fail,
    Length,
    MapStep,
    Num,
    Opt,
    Plan,
    Same,
    ShapeStep,
    Step,
    UnionStep,
)
from fsf.fsv.format import HEADER_SIZE
from fsf.pysource import Names, Writer, load

Convert = Callable[[Any], Any]
_F32 = struct.Struct(">f")


class _Miss(Exception):
    """A value that does not read as the reader's type (internal; turned into an IncompatibleError)."""

    def __init__(self, fail: Fail, detail: str) -> None:
        self.fail = fail
        self.detail = detail
        self.segments: list[Any] = []


def compile_plan(plan: Plan, writer: str, reader: str) -> Convert:
    """The function that reads a writer value as a reader value (the identity when nothing changes).

    ``writer`` and ``reader`` label the two root types in messages (``Name blake3:…``)."""
    table: dict[tuple[str, str], Convert] = {}
    made = _Maker(table)
    for key, step in reversed(plan.decls.items()):  # the pairs a pair uses come after it: build them first
        table[key] = made.convert(step) or _identity
    root = made.convert(plan.root)
    if root is None:
        return _identity

    def run(value: Any) -> Any:
        try:
            return root(value)
        except _Miss as miss:
            fail = miss.fail
            message = f"{fail.message}{': ' + miss.detail if miss.detail else ''}"
            raise IncompatibleError(fail.rule, message, path=format_path(miss.segments[::-1]), writer=writer,
                                    reader=reader, location=fail.location, site=fail.site.reader,
                                    offset=HEADER_SIZE) from None

    return run


def compile_failures(plan: Plan) -> Callable[[Any], list[Fail]]:
    """The function that lists every failure of a writer value under ``plan`` (each point that fails, once per
    place it fails; the value is walked to the end), for counting which values each finding breaks."""
    found: list[Fail] = []
    table: dict[tuple[str, str], Convert] = {}
    made = _Maker(table, found.append)
    for key, step in reversed(plan.decls.items()):
        table[key] = made.convert(step) or _identity
    root = made.convert(plan.root) or _identity

    def failures(value: Any) -> list[Fail]:
        found.clear()
        root(value)
        return list(found)

    return failures


def _identity(value: Any) -> Any:
    return value


class _Maker:
    """Makes the function of each step. Strict (the default): a failure raises at once. With ``note``: each
    failure is handed to it and the walk goes on (the value stays as it is there), to find every failure."""

    def __init__(self, table: dict[tuple[str, str], Convert], note: Callable[[Fail], None] | None = None) -> None:
        self.table = table
        self.note = note

    def miss(self, fail: Fail, detail: str) -> None:
        if self.note is None:
            raise _Miss(fail, detail)
        self.note(fail)

    def convert(self, step: Step) -> Convert | None:
        """The function of ``step``, or None when it changes nothing."""
        if isinstance(step, Same):
            return None
        make = getattr(self, f"_{type(step).__name__.lower()}")
        result: Convert = make(step)
        return result

    def _fail(self, step: Fail) -> Convert:
        flag = self.miss

        def fail(value: Any) -> Any:
            flag(step, "")

        return fail

    def _call(self, step: Call) -> Convert:
        table, key = self.table, step.key
        built = table.get(key)
        if built is not None:  # not a use of a pair inside its own definition: call it directly
            return built

        def call(value: Any) -> Any:
            return table[key](value)

        return call

    def _num(self, step: Num) -> Convert:
        lo, hi, to_float, f32, exact = step.lo, step.hi, step.to_float, step.f32, step.exact
        range_fail = Fail("RANGE_NARROWED", "a number is outside the reader's range", step.location, step.site)
        precision_fail = Fail("PRECISION_LOST", "a number has no exact spelling in the reader's type", step.location,
                              step.site)

        flag = self.miss

        def num(value: Any) -> Any:
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                flag(range_fail, f"{value!r} is not in {_bound(lo)}..{_bound(hi)}")
            if to_float:
                as_float = float(value)
                if exact and as_float != value:
                    flag(precision_fail, f"{value} is not exact as a binary64")
                value = as_float
            if f32 and math.isfinite(value) and abs(value) <= F32_MAX and _F32.unpack(_F32.pack(value))[0] != value:
                flag(precision_fail, f"{value!r} is not exact as an `f32`")
            return value

        return num

    def _length(self, step: Length) -> Convert:
        lo, hi = step.lo, step.hi
        fail = Fail("LENGTH_NARROWED", f"a {step.what}'s length is outside the reader's bounds", step.location,
                    step.site)

        flag = self.miss

        def length(value: Any) -> Any:
            n = len(value)
            if n < lo or (hi is not None and n > hi):
                flag(fail, f"length {n} is not in {lo}..{'' if hi is None else hi}")
            return value

        return length

    def _arr(self, step: Arr) -> Convert:
        lo, hi = step.lo, step.hi
        item = self.convert(step.item)
        fail = Fail("COUNT_NARROWED", "an array's count is outside the reader's bounds", step.location, step.site)

        flag = self.miss

        def arr(value: Any) -> Any:
            n = len(value)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                flag(fail, f"{n} item(s), not {_bound(lo)}..{_bound(hi)}")
            if item is None:
                return value
            out: list[Any] = []
            add = out.append
            try:
                for x in value:
                    add(item(x))
            except _Miss as miss:  # the failing item is the next one: no item is read twice
                miss.segments.append(len(out))
                raise
            return out

        return arr

    def _mapstep(self, step: MapStep) -> Convert:
        lo, hi = step.lo, step.hi
        key, val = self.convert(step.key) or _identity, self.convert(step.value) or _identity
        fail = Fail("COUNT_NARROWED", "a map's count is outside the reader's bounds", step.location, step.site)
        merge = step.merge

        flag = self.miss

        def mapping(value: Any) -> Any:
            n = len(value)
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                flag(fail, f"{n} entries, not {_bound(lo)}..{_bound(hi)}")
            out = {}
            for k, v in value.items():  # a key before its value, as they are read; a path by reader names
                try:
                    rk = key(k)
                except _Miss as miss:
                    miss.segments.append((k,))
                    raise
                if merge is not None and rk in out:  # at the map: neither key alone is wrong
                    first = next(w for w in value if key(w) == rk)  # keys that can merge never fail
                    flag(merge, f"`{first}` and `{k}`")
                try:
                    out[rk] = val(v)
                except _Miss as miss:
                    miss.segments.append((rk,))
                    raise
            return out

        return mapping

    def _opt(self, step: Opt) -> Convert:
        inner = self.convert(step.inner) or _identity
        if step.mode == "wrap":
            return inner
        if step.mode == "some":
            return lambda value: None if value is None else inner(value)
        default, r_type = step.default, step.r_type
        fail = Fail("FIELD_OPTIONAL_TO_REQUIRED", f"{step.where or 'a value'} is required in the reader, and this "
                                                  f"value lacks it (no `@default`)", step.location, step.site)

        flag = self.miss

        def unwrap(value: Any) -> Any:
            if value is None:
                if default is None or r_type is None:
                    return flag(fail, "")
                return ir.default_value(r_type, default)
            return inner(value)

        return unwrap

    def _enumstep(self, step: EnumStep) -> Convert:
        names = dict(step.members)
        fallback = step.fallback
        fails = {w: _at_item(step.fail, w) for w, r in step.members if r is None}

        flag = self.miss

        def enum(value: Any) -> Any:
            found = names.get(value)
            if found is None:
                if fallback is None:
                    flag(fails[value], f"member `{value}`")
                    return value
                return fallback
            return found

        return enum

    def _unionstep(self, step: UnionStep) -> Convert:
        table = {w: (r, None if fields is None else self.convert(fields)) for w, r, fields in step.variants}
        fallback = step.fallback
        fails = {w: _at_item(step.fail, w) for w, r, _ in step.variants if r is None}

        flag = self.miss

        def union(value: Any) -> Any:
            ((variant, fields),) = value.items()
            target, convert = table[variant]
            if target is None:
                if fallback is None:
                    flag(fails[variant], f"variant `{variant}`")
                    return value
                return {fallback: {}}
            if convert is None:
                return {target: fields}
            try:
                return {target: convert(fields)}
            except _Miss as miss:
                miss.segments.append(target)  # the reader's name, as a shape's fields are named in paths
                raise

        return union

    def _shapestep(self, step: ShapeStep) -> Convert:
        # Each converted field is read once, into a local, in a `try` of its own that adds the field's segment to
        # a failure: a failure is located without reading anything again (re-reading the failing field at each
        # level on the way out would cost 2^depth). A `try` costs nothing until something is raised.
        names = Names()
        out = Writer()
        parts = []
        miss = names.const(_Miss)
        out.line("def shape(v):")
        with out.indent():
            for f in step.fields:
                key = names.const(f.name)
                if f.source is None and f.default is not None and f.r_type is not None:
                    value = ir.default_value(f.r_type, f.default)
                    parts.append(f"{key}: {'[]' if value == [] else '{}' if value == {} else names.const(value)}")
                    continue
                convert = self.convert(f.step)
                source = "None" if f.source is None else f"v[{names.const(f.source)}]"
                if convert is None:
                    parts.append(f"{key}: {source}")
                    continue
                local = names.temp("x")
                out.line("try:")
                with out.indent():
                    out.line(f"{local} = {names.const(convert)}({source})")
                out.line(f"except {miss} as miss:")
                with out.indent():
                    out.line(f"miss.segments.append({key})")
                    out.line("raise")
                parts.append(f"{key}: {local}")
            out.line("return {" + ", ".join(parts) + "}")
        made: Convert = load("\n".join(out.lines) + "\n", "fsf evolve shape", dict(names.consts))["shape"]
        return made


def _at_item(fail: Fail, item: str) -> Fail:
    """``fail`` at one writer member or variant that the reader lacks (its site names it on both sides)."""
    return attrs.evolve(fail, site=attrs.evolve(fail.site, r_item=item, w_item=item))


def _bound(x: float | None) -> str:
    return "" if x is None else repr(x) if isinstance(x, float) else str(x)
