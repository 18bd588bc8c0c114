"""Corpus: stored values -> how many of them each finding breaks (``fsf breaking --corpus``).

Every distinct writer type among the values is a baseline of its own (a value written three versions ago is
checked against today's schema through its own writer schema from the store), and each value is resolved for
real, walked to the end: a finding's count is the number of values that fail by its rule at its place, each
finding counted on its own (a value that breaks two findings counts for both).

Most values break nothing, and for them the walk is a slow way to say so. So each writer type's plan is first
turned into a *screen*: the writer's own types with every per-value check of the plan folded into them (a reader's
narrower range, length or count intersected with the writer's bounds; an optional the reader requires without a
`@default` made required). A value the screen accepts (the C codec's check, which builds nothing) is a valid writer
value that no step of the plan fails, exactly; only the values it refuses are decoded strictly and walked, so an
invalid value still raises the strict decode's error, and a breaking one is counted by the walk as before. A plan
with a step that no bound can state (a `Fail`, a lost precision, an enum member or union variant the reader lacks
without `@fallback`, bounds that leave no value) walks every value of its writer type, and so does a plan with
checks when the C codec is not built; a plan with no per-value check at all needs only the strict check of each
value (``Schema.verify``). ``Corpus.walked`` says how many values were walked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, cast

import attrs

from fsf import ir
from fsf.breaking import Finding, findings_of_plan
from fsf.errors import Refused, StoreError
from fsf.evolve.plan import (
    SAME,
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
    build,
    match_root,
)
from fsf.evolve.run import compile_failures
from fsf.fsv import native
from fsf.fsv.header import HEAD, HEADER_SIZE, content_id, read_header
from fsf.ir.ids import format_id
from fsf.schema import Schema
from fsf.store import Store

EXAMPLES = 3
"""How many content ids a finding names."""


@attrs.frozen
class Counted:
    """A finding with the values it breaks: ``broken`` of ``total`` values of the writer types it applies to,
    and the first few of their content ids."""

    finding: Finding
    broken: int
    total: int
    examples: tuple[str, ...]


@attrs.frozen
class Corpus:
    """What the corpus check found: counted findings, how many values and writer types it read, and how many
    values it walked (decoded and resolved to the end: those the screen refused, or every value of a writer type
    without a screen)."""

    findings: tuple[Counted, ...]
    values: int
    writers: int
    walked: int = attrs.field(default=0, eq=False)


def check_corpus(new: Schema, values: Iterable[bytes], store: Store, *, screen: bool = True) -> Corpus:
    """Check every value (FSV bytes) against ``new``: the READ_OLD findings of each writer type, counted on the
    values themselves; a value whose writer schema is not in ``store`` is a SCHEMA_MISSING finding.

    ``screen=False`` walks every value (the reference the screened check is tested against: the same result)."""
    by_writer: dict[bytes, list[bytes]] = {}
    for data in values:  # a header seen before is valid: one slice and one lookup per value
        group = by_writer.get(data[:HEADER_SIZE])
        if group is None:
            read_header(data)
            group = by_writer[data[:HEADER_SIZE]] = []
        group.append(data)
    counts: dict[tuple[str, str], _Tally] = {}
    walked = 0
    for head, group in by_writer.items():
        root_id = head[len(HEAD):]
        type_id = format_id(root_id)
        try:
            writer = store.schema(type_id)
        except StoreError as err:
            if err.code != "schema_unknown":
                raise
            _count(counts, Finding("SCHEMA_MISSING", "READ_OLD", type_id, f"the writer schema of {type_id} is "
                                   "not in the store"), group, group)
            continue
        wname = writer.name_of(root_id)
        assert wname is not None
        rname = match_root(writer._side(), wname, new._side())
        if rname is None:
            _count(counts, Finding("ROOT_TYPE_MISSING", "READ_OLD", wname, f"`{wname}` is gone: its values cannot "
                                   "be read", None, (wname, None)), group, group)
            continue
        if writer.id_bytes(wname) == new.id_bytes(rname):
            continue
        plan = build(writer._side(), wname, new._side(), rname)
        found = {f.key: f for f in findings_of_plan(plan, "READ_OLD")}
        broken: dict[tuple[str, str], list[bytes]] = {}
        passes = _screen(writer, wname, plan) if screen else None
        failures: Callable[[Any], list[Fail]] | None = None
        for data in group:
            if passes is not None and passes(data):
                continue
            if failures is None:
                failures = compile_failures(plan)
            walked += 1
            value = writer.codec.decode(data, wname)  # strictly as the writer's type, as resolution reads it
            for key in {(fail.rule, fail.site.reader) for fail in failures(value)}:
                broken.setdefault(key, []).append(data)
        for key, finding in found.items():
            _count(counts, finding, broken.get(key, []), group)
    out = (Counted(t.finding, t.broken, t.total, tuple(t.examples)) for t in counts.values())
    return Corpus(tuple(sorted(out, key=lambda c: (c.finding.path, c.finding.rule))),
                  sum(len(g) for g in by_writer.values()), len(by_writer), walked)


@attrs.define
class _Tally:
    finding: Finding
    broken: int = 0
    total: int = 0
    examples: list[str] = attrs.Factory(list)


def _count(counts: dict[tuple[str, str], _Tally], finding: Finding, broken: list[bytes], group: list[bytes]) -> None:
    tally = counts.setdefault(finding.key, _Tally(finding))
    tally.broken += len(broken)
    tally.total += len(group)
    tally.examples.extend(content_id(data) for data in broken[: EXAMPLES - len(tally.examples)])


# -- the screen -----------------------------------------------------------------------------------------------


def _screen(writer: Schema, wname: str, plan: Plan) -> Callable[[bytes], bool] | None:
    """The screen of ``plan`` (see the module docstring): True for a valid writer value that no step fails, False
    for one to walk (it may be invalid: the walk's strict decode says so). None when a step of the plan has no
    bound that states it, or when the C codec is not built and the plan checks something."""
    narrow = _Narrow(writer.ir, plan)
    try:
        root = narrow.type(ir.Named(wname), plan.root)
    except _Unstated:
        return None
    if not narrow.changed:  # nothing to fail: the strict check the walk's decode would make, nothing built
        verify = writer.codec.verify

        def strict(data: bytes) -> bool:
            verify(data, wname)
            return True

        return strict
    decls = (*writer.ir.decls, *narrow.decls.values())
    program = native.codec(ir.Schema(decls))
    if program is None:
        return None
    check = program.check
    node = next(i for i, d in enumerate(decls) if d.name == cast(ir.Named, root).name)

    def passes(data: bytes) -> bool:
        if type(data) is not bytes:
            return False
        try:
            check(data, HEADER_SIZE, node)
        except Refused:
            return False
        return True

    return passes


class _Unstated(Exception):
    """A step that no bound of a type states (internal: that plan has no screen)."""


class _Narrow:
    """The writer's types with the checks of a plan folded in: each pair of declarations the plan reaches is a
    copy of the writer's declaration (named ``W as R``, which no declaration can be) whose field types carry the
    reader's narrower bounds. ``changed`` is True once a check was folded in."""

    def __init__(self, writer: ir.Schema, plan: Plan) -> None:
        self.writer = writer
        self.plan = plan
        self.decls: dict[tuple[str, str], ir.Decl] = {}
        self.changed = False

    def type(self, t: ir.Type, step: Step) -> ir.Type:
        """``t``, a writer type, accepting exactly its values that ``step`` reads without a failure."""
        if isinstance(step, Same):
            return t
        if isinstance(step, Call):
            return ir.Named(self.decl(step.key))
        if isinstance(step, Num):
            return self.number(t, step)
        if isinstance(step, Length):
            assert isinstance(t, (ir.Str, ir.Bytes)), t
            hi = step.hi if t.hi is None else t.hi if step.hi is None else min(t.hi, step.hi)
            return self.bounded(attrs.evolve(t, lo=max(t.lo, step.lo), hi=hi))
        if isinstance(step, Arr):
            assert isinstance(t, ir.Array), t
            lo, hi = _within(t.lo, t.hi, step.lo, step.hi)
            return self.bounded(ir.Array(lo, hi, self.type(t.item, step.item)), t.lo != lo or t.hi != hi)
        if isinstance(step, MapStep):
            if step.merge is not None:
                raise _Unstated  # two keys that read as one: no bound of one key or one value says so
            assert isinstance(t, ir.Map), t
            lo, hi = _within(t.lo, t.hi, step.lo, step.hi)
            return self.bounded(ir.Map(lo, hi, self.type(t.key, step.key), self.type(t.value, step.value)),
                                t.lo != lo or t.hi != hi)
        if isinstance(step, Opt):
            if step.mode == "wrap":
                return self.type(t, step.inner)
            assert isinstance(t, ir.Optional), t
            inner = self.type(t.inner, step.inner)
            if step.mode == "unwrap" and (step.default is None or step.r_type is None):
                self.changed = True  # the reader requires it: an absent value fails
                return inner
            return ir.Optional(inner)
        raise _Unstated  # a Fail: every value that reaches it fails, and no bound says "none"

    def number(self, t: ir.Type, step: Num) -> ir.Type:
        if step.f32 or step.exact:
            raise _Unstated
        if step.lo is None and step.hi is None:
            return t
        if isinstance(t, ir.Int):  # an integer below a bound of 0.5 is below 1
            lo = t.lo if step.lo is None else max(t.lo, math.ceil(step.lo))
            hi = t.hi if step.hi is None else min(t.hi, math.floor(step.hi))
            return self.bounded(attrs.evolve(t, lo=lo, hi=hi))
        assert isinstance(t, ir.Float), t
        f_lo = step.lo if t.lo is None else t.lo if step.lo is None else max(t.lo, step.lo)
        f_hi = step.hi if t.hi is None else t.hi if step.hi is None else min(t.hi, step.hi)
        return self.bounded(attrs.evolve(t, lo=f_lo, hi=f_hi))

    def bounded(self, t: ir.Type, changed: bool = True) -> ir.Type:
        """``t`` with its new bounds; a range with no value (reader and writer bounds apart) has no screen."""
        lo, hi = getattr(t, "lo", None), getattr(t, "hi", None)
        if lo is not None and hi is not None and lo > hi:
            raise _Unstated
        self.changed = self.changed or changed
        return t

    def decl(self, key: tuple[str, str]) -> str:
        """The name of the narrowed copy of the writer's declaration of the pair ``key`` (made on first use)."""
        name = f"{key[0]} as {key[1]}"
        if key in self.decls:
            return name
        wd, step = self.writer[key[0]], self.plan.decls[key]
        if isinstance(step, EnumStep):  # no value is narrowed: a member is read, else it has no screen
            if step.fallback is None and any(r is None for _, r in step.members):
                raise _Unstated
            return key[0]
        self.decls[key] = wd  # a use inside its own definition names it: a placeholder, replaced below
        if isinstance(step, ShapeStep):
            assert isinstance(wd, ir.Shape), wd
            self.decls[key] = attrs.evolve(wd, name=name, fields=self.fields(wd.fields, step))
        elif isinstance(step, UnionStep) and isinstance(wd, ir.Union_):
            if step.fallback is None and any(r is None for _, r, _ in step.variants):
                raise _Unstated
            steps = {w: fields for w, _, fields in step.variants}
            self.decls[key] = attrs.evolve(wd, name=name, variants=tuple(self.variant(v, steps[v.name])
                                                                         for v in wd.variants))
        else:  # a step the walk knows and this fold does not: walk every value
            raise _Unstated
        return name

    def variant(self, v: ir.Variant, step: ShapeStep | None) -> ir.Variant:
        """A writer variant narrowed by its fields' steps (None: read as the reader's `@fallback`, which fails no
        value)."""
        return v if step is None else attrs.evolve(v, fields=self.fields(v.fields, step))

    def fields(self, fields: tuple[ir.Field, ...], step: ShapeStep) -> tuple[ir.Field, ...]:
        """A shape's or variant's writer fields, each narrowed by the step of the reader field it is read into
        (a reader field read from no writer field fails no value, unless it is a Fail)."""
        by_source = {f.source: f.step for f in step.fields if f.source is not None}
        if any(f.source is None and not isinstance(f.step, Same) for f in step.fields):
            raise _Unstated
        return tuple(attrs.evolve(f, type=self.type(f.type, by_source.get(f.name, SAME))) for f in fields)


def _within(w_lo: int, w_hi: int, lo: int | None, hi: int | None) -> tuple[int, int]:
    """A count's bounds: the writer's, narrowed by the reader's (``None``: not narrower)."""
    return (w_lo if lo is None else max(w_lo, lo)), (w_hi if hi is None else min(w_hi, hi))
