"""Plan: a writer's type W and a reader's type R -> the steps that turn a valid W value into an R value.

Pure over the two IRs and their ids; ``docs/evolution.md`` states every rule. A plan is a tree of frozen steps
(shared per pair of declarations, so recursive types end); :mod:`fsf.evolve.run` turns it into one function.
Incompatibilities the schemas decide are ``Fail`` steps: :func:`certain_failure` finds one that every W value
reaches (reported when the plan is built); the others fail only the values that reach them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Union, cast

import attrs

from fsf import ir
from fsf.ir.ids import format_id
from fsf.ir.kinds import Kind, kind_of

F32_MAX = 3.4028234663852886e38
EXACT_FLOAT_INT = 1 << 53
EXACT_F32_INT = 1 << 24
"""Integers up to this magnitude are exact as binary64; an int range inside it reads as a float unchecked."""


@attrs.frozen
class Site:
    """Where a step is, on each side: the declaration and the item in it (a field, ``Variant.field``, or None for
    the declaration itself, an enum's members or a union's variants)."""

    r_decl: str
    r_item: str | None
    w_decl: str
    w_item: str | None

    @property
    def reader(self) -> str:
        """The reader's type path: ``ForgeTask.status``."""
        return self.r_decl if self.r_item is None else f"{self.r_decl}.{self.r_item}"

    @property
    def writer(self) -> str:
        return self.w_decl if self.w_item is None else f"{self.w_decl}.{self.w_item}"


NOWHERE = Site("", None, "", None)


@attrs.frozen
class Same:
    """The value reads as it is."""


SAME = Same()


@attrs.frozen
class Fail:
    """An incompatibility: every value that reaches this point fails with ``rule``."""

    rule: str
    message: str
    location: str | None = None
    site: Site = attrs.field(default=NOWHERE, eq=False)


@attrs.frozen
class Num:
    """A number checked against the reader's bounds (``None``: not narrowed), made a float, or checked exact as
    an ``f32`` (the reader's ``f32`` after a writer's ``f64``) or as a binary64 (an integer read as a float)."""

    lo: float | None
    hi: float | None
    to_float: bool = False
    f32: bool = False
    exact: bool = False
    site: Site = attrs.field(default=NOWHERE, eq=False)
    location: str | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Length:
    """A ``str`` (code points) or ``bytes`` length checked against the reader's narrower bounds."""

    lo: int
    hi: int | None
    what: str
    site: Site = attrs.field(default=NOWHERE, eq=False)
    location: str | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Arr:
    """An array: its count checked (``None``: not narrowed), each item read by ``item``."""

    lo: int | None
    hi: int | None
    item: Step
    w_lo: int
    site: Site = attrs.field(default=NOWHERE, eq=False)
    location: str | None = attrs.field(default=None, eq=False)


@attrs.frozen
class MapStep:
    """A map: its count checked (``None``: not narrowed), each key read by ``key`` and each value by ``value``;
    ``merge`` (when two writer keys can read as one reader key) fails a value where two of its keys do."""

    lo: int | None
    hi: int | None
    key: Step
    value: Step
    w_lo: int
    site: Site = attrs.field(default=NOWHERE, eq=False)
    location: str | None = attrs.field(default=None, eq=False)
    merge: Fail | None = None


@attrs.frozen
class Opt:
    """Optionals: ``wrap`` (W ``T`` -> R ``T?``), ``some`` (``T?`` -> ``T?``: None stays), ``unwrap`` (``T?`` ->
    ``T``: None reads as ``default``, else fails with FIELD_OPTIONAL_TO_REQUIRED)."""

    mode: str
    inner: Step
    default: ir.Default | None = None
    r_type: ir.Type | None = None
    where: str = ""
    site: Site = attrs.field(default=NOWHERE, eq=False)
    location: str | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Call:
    """The step of a pair of declarations (``key`` in :attr:`Plan.decls`)."""

    key: tuple[str, str]


@attrs.frozen
class FieldStep:
    """One reader field: from writer field ``source`` by ``step``, else ``default`` (or None when optional)."""

    name: str
    source: str | None
    step: Step
    default: ir.Default | None = None
    r_type: ir.Type | None = None


@attrs.frozen
class ShapeStep:
    fields: tuple[FieldStep, ...]


@attrs.frozen
class EnumStep:
    """Writer member -> reader member (None: the reader lacks it; ``fallback`` or a failure)."""

    members: tuple[tuple[str, str | None], ...]
    fallback: str | None
    fail: Fail
    site: Site = attrs.field(default=NOWHERE, eq=False)


@attrs.frozen
class UnionStep:
    """Writer variant -> (reader variant, its fields) (None: the reader lacks it; ``fallback`` or a failure)."""

    variants: tuple[tuple[str, str | None, ShapeStep | None], ...]
    fallback: str | None
    fail: Fail
    site: Site = attrs.field(default=NOWHERE, eq=False)


Step = Union[Same, Fail, Num, Length, Arr, MapStep, Opt, Call, ShapeStep, EnumStep, UnionStep]  # noqa: UP007


@attrs.frozen
class Side:
    """One side of a plan: a schema's IR, its ids, and where its declarations were written (if known)."""

    schema: ir.Schema
    ids: dict[str, bytes] = attrs.field(eq=False)
    locate: Callable[[str, str | None], str | None] = attrs.field(default=lambda d, item: None, eq=False)

    def label(self, name: str) -> str:
        return f"`{name}` {format_id(self.ids[name])}"


@attrs.frozen
class Plan:
    """How to read a W ``writer`` root value as an R ``reader`` value: ``root`` and the steps of every pair of
    declarations it reaches."""

    writer: str
    reader: str
    root: Step
    decls: dict[tuple[str, str], Step] = attrs.field(eq=False)

    @property
    def identity(self) -> bool:
        return isinstance(self.root, Same)


def match_root(w: Side, wname: str, r: Side) -> str | None:
    """The reader type that reads a W root ``wname``: the same name, else one whose ``@was`` names it, else one
    that the writer's ``@was`` names."""
    if wname in r.schema:
        return wname
    for d in r.schema.decls:
        if wname in d.was:
            return d.name
    for old in w.schema[wname].was:
        if old in r.schema:
            return old
    return None


def build(w: Side, wname: str, r: Side, rname: str) -> Plan:
    """The plan that reads W ``wname`` values as R ``rname`` values."""
    builder = _Builder(w, r)
    root = builder.named(wname, rname, Site(rname, None, wname, None))
    return Plan(wname, rname, root, builder.decls)


def _same_name(a: str, a_was: tuple[str, ...], b: str, b_was: tuple[str, ...]) -> bool:
    return a == b or a in b_was or b in a_was


def pair_names(writer: list[tuple[str, tuple[str, ...]]], reader: list[tuple[str, tuple[str, ...]]]
          ) -> dict[str, str]:
    """Reader name -> writer name: by the same name first, then by ``@was`` on either side."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    w_names = {n for n, _ in writer}
    for rn, _ in reader:
        if rn in w_names:
            out[rn] = rn
            taken.add(rn)
    for rn, r_was in reader:
        if rn in out:
            continue
        for wn, w_was in writer:
            if wn not in taken and _same_name(wn, w_was, rn, r_was):
                out[rn] = wn
                taken.add(wn)
                break
    return out


class _Builder:
    def __init__(self, w: Side, r: Side) -> None:
        self.w = w
        self.r = r
        self.decls: dict[tuple[str, str], Step] = {}

    def named(self, wn: str, rn: str, at: Site) -> Step:
        """The step of a use of declaration ``wn`` read as ``rn`` (at ``at``)."""
        wd, rd = self.w.schema[wn], self.r.schema[rn]
        if not _same_name(wn, wd.was, rn, rd.was):
            return self.fail("TYPE_CHANGED", f"`{wn}` is not `{rn}` (a renamed type names its old name with "
                                             f"`@was`)", at)
        if kind_of(wd) is not kind_of(rd):
            return self.fail("TYPE_CHANGED", f"`{wn}` is a {_kind(wd)} in the writer and `{rn}` a {_kind(rd)} "
                                             f"in the reader", at)
        if self.w.ids[wn] == self.r.ids[rn]:
            return SAME
        key = (wn, rn)
        if key not in self.decls:
            self.decls[key] = SAME  # a use inside its own definition: a placeholder, replaced below
            self.decls[key] = self._decl(wd, rd)
        return Call(key)

    def _decl(self, wd: ir.Decl, rd: ir.Decl) -> Step:
        k = kind_of(rd)
        if k is Kind.SHAPE:
            return self.shape(cast(ir.Shape, wd).fields, cast(ir.Shape, rd).fields, wd.name, rd.name, "")
        if k is Kind.ENUM:
            return self.enum(cast(ir.Enum, wd), cast(ir.Enum, rd))
        return self.union(cast(ir.Union_, wd), cast(ir.Union_, rd))

    def shape(self, w_fields: tuple[ir.Field, ...], r_fields: tuple[ir.Field, ...], w_decl: str, r_decl: str,
              prefix: str) -> ShapeStep:
        """Fields of a shape (``prefix`` "" ) or of a union variant (``prefix`` ``"Variant."``)."""
        pairs = pair_names([(f.name, f.was) for f in w_fields], [(f.name, f.was) for f in r_fields])
        by_name = {f.name: f for f in w_fields}
        out = []
        for rf in r_fields:
            source = pairs.get(rf.name)
            if source is not None:
                at = Site(r_decl, prefix + rf.name, w_decl, prefix + source)
                out.append(FieldStep(rf.name, source, self.field(by_name[source], rf, at), r_type=rf.type))
            elif rf.default is not None or rf.optional:
                out.append(FieldStep(rf.name, None, SAME, rf.default, rf.type))
            else:
                at = Site(r_decl, prefix + rf.name, w_decl, None)
                out.append(FieldStep(rf.name, None, self.fail(
                    "FIELD_ADDED_REQUIRED", f"the reader's required field `{prefix}{rf.name}` of `{r_decl}` is not "
                                            f"in the writer's type and has no `@default`", at)))
        return ShapeStep(tuple(out))

    def field(self, wf: ir.Field, rf: ir.Field, at: Site) -> Step:
        step = self.type(wf.type, rf.type, at)
        if isinstance(step, Opt) and step.mode == "unwrap":
            return attrs.evolve(step, default=rf.default, r_type=rf.type, where=f"`{at.r_item}` of `{at.r_decl}`")
        return step

    def enum(self, wd: ir.Enum, rd: ir.Enum) -> EnumStep:
        pairs = pair_names([(m.name, m.was) for m in wd.members], [(m.name, m.was) for m in rd.members])
        back = {w: r for r, w in pairs.items()}
        fallback = next((m.name for m in rd.members if m.fallback), None)
        at = Site(rd.name, None, wd.name, None)
        fail = self.fail("ENUM_MEMBER_REMOVED_NO_FALLBACK", f"the reader's enum `{rd.name}` has no such member "
                                                            f"and no `@fallback`", at)
        return EnumStep(tuple((m.name, back.get(m.name)) for m in wd.members), fallback, fail, at)

    def union(self, wd: ir.Union_, rd: ir.Union_) -> UnionStep:
        pairs = pair_names([(v.name, v.was) for v in wd.variants], [(v.name, v.was) for v in rd.variants])
        back = {w: r for r, w in pairs.items()}
        r_by_name = {v.name: v for v in rd.variants}
        variants = []
        for wv in wd.variants:
            rv = back.get(wv.name)
            fields = None if rv is None else self.shape(wv.fields, r_by_name[rv].fields, wd.name, rd.name,
                                                        f"{rv}.")
            variants.append((wv.name, rv, fields))
        fallback = next((v.name for v in rd.variants if v.fallback), None)
        at = Site(rd.name, None, wd.name, None)
        fail = self.fail("VARIANT_REMOVED_NO_FALLBACK", f"the reader's union `{rd.name}` has no such variant and "
                                                        f"no `@fallback`", at)
        return UnionStep(tuple(variants), fallback, fail, at)

    def type(self, wt: ir.Type, rt: ir.Type, at: Site) -> Step:
        wk, rk = kind_of(wt), kind_of(rt)
        if wk is Kind.OPTIONAL or rk is Kind.OPTIONAL:
            w_inner = cast(ir.Optional, wt).inner if wk is Kind.OPTIONAL else wt
            r_inner = cast(ir.Optional, rt).inner if rk is Kind.OPTIONAL else rt
            inner = self.type(w_inner, r_inner, at)
            mode = "some" if wk is rk else "wrap" if rk is Kind.OPTIONAL else "unwrap"
            if isinstance(inner, Same) and mode != "unwrap":
                return SAME
            return Opt(mode, inner, site=at, location=self.where(at))
        if wk is Kind.NAMED and rk is Kind.NAMED:
            return self.named(cast(ir.Named, wt).name, cast(ir.Named, rt).name, at)
        if wk is Kind.REF and rk is Kind.REF:
            wn, rn = cast(ir.Ref, wt).target, cast(ir.Ref, rt).target
            if _same_name(wn, self.w.schema[wn].was, rn, self.r.schema[rn].was):
                return SAME  # the content id stays; its target is resolved when it is followed
            return self.fail("TYPE_CHANGED", f"`ref<{wn}>` is not `ref<{rn}>`", at)
        if wk is Kind.INT and rk in (Kind.INT, Kind.FLOAT):
            return self.number(cast(ir.Int, wt), rt, at)
        if wk is Kind.FLOAT and rk is Kind.FLOAT:
            return self.number(cast(ir.Float, wt), rt, at)
        if wk is rk and wk in (Kind.STR, Kind.BYTES):
            w_len, r_len = cast(ir.Str, wt), cast(ir.Str, rt)
            if r_len.lo <= w_len.lo and (r_len.hi is None or (w_len.hi is not None and w_len.hi <= r_len.hi)):
                return SAME
            return Length(r_len.lo, r_len.hi, "string" if wk is Kind.STR else "byte string", at, self.where(at))
        if wk is rk and wk in (Kind.BOOL, Kind.HASH, Kind.TIME):
            return SAME
        if wk is Kind.ARRAY and rk is Kind.ARRAY:
            wa, ra = cast(ir.Array, wt), cast(ir.Array, rt)
            item = self.type(wa.item, ra.item, at)
            lo, hi = _narrowed(wa.lo, wa.hi, ra.lo, ra.hi)
            if isinstance(item, Same) and lo is None and hi is None:
                return SAME
            return Arr(lo, hi, item, wa.lo, at, self.where(at))
        if wk is Kind.MAP and rk is Kind.MAP:
            wm, rm = cast(ir.Map, wt), cast(ir.Map, rt)
            key, value = self.type(wm.key, rm.key, at), self.type(wm.value, rm.value, at)
            lo, hi = _narrowed(wm.lo, wm.hi, rm.lo, rm.hi)
            if isinstance(key, Same) and isinstance(value, Same) and lo is None and hi is None:
                return SAME
            merge = self.merging(key, at) if wm.hi >= 2 else None
            return MapStep(lo, hi, key, value, wm.lo, at, self.where(at), merge)
        return self.fail("TYPE_CHANGED", f"a `{ir.type_name(wt)}` does not read as a `{ir.type_name(rt)}`", at)

    def merging(self, key: Step, at: Site) -> Fail | None:
        """MAP_KEYS_MERGE at the map at ``at`` when two writer keys can read as one reader key, else None. Keys are
        strings, integers (which read as themselves or fail) or enum members, and two writer members read as one
        reader member only through the reader's ``@fallback`` (``@was`` pairs one with one)."""
        enum = self.decls.get(key.key) if isinstance(key, Call) else None  # an enum's step is built: no cycles
        if not isinstance(enum, EnumStep) or enum.fallback is None:
            return None
        if sum(r is None or r == enum.fallback for _, r in enum.members) < 2:
            return None
        return self.fail("MAP_KEYS_MERGE", f"two keys of the map read as the same key `{enum.fallback}` (the "
                                           f"`@fallback` of the reader's enum `{enum.site.r_decl}`)", at)

    def number(self, wt: ir.Int | ir.Float, rt: ir.Type, at: Site) -> Step:
        w_lo, w_hi = _bounds(wt)
        r_lo, r_hi = _bounds(rt)
        lo = None if r_lo is None or (w_lo is not None and w_lo >= r_lo) else r_lo
        hi = None if r_hi is None or (w_hi is not None and w_hi <= r_hi) else r_hi
        to_float = isinstance(wt, ir.Int) and isinstance(rt, ir.Float)
        # An integer is exact as an f32 up to 2^24, as a binary64 up to 2^53: a range inside needs no check.
        exact_limit = EXACT_F32_INT if isinstance(rt, ir.Float) and rt.width == 32 else EXACT_FLOAT_INT
        inside = isinstance(wt, ir.Int) and ((-exact_limit <= wt.lo and wt.hi <= exact_limit)
                                             or (wt.lo == wt.hi and _exact(wt.lo, exact_limit == EXACT_F32_INT)))
        f32 = (isinstance(rt, ir.Float) and rt.width == 32
               and ((isinstance(wt, ir.Float) and wt.width == 64) or (isinstance(wt, ir.Int) and not inside)))
        exact = to_float and not inside and not f32
        if lo is None and hi is None and not to_float and not f32:
            return SAME
        return Num(lo, hi, to_float, f32, exact, at, self.where(at))

    def fail(self, rule: str, message: str, at: Site) -> Fail:
        return Fail(rule, message, self.where(at), at)

    def where(self, at: Site) -> str | None:
        """Where the reader's item at ``at`` was written (``Variant.field`` names a variant's field)."""
        return self.r.locate(at.r_decl, at.r_item)


def _exact(x: int, f32: bool) -> bool:
    """True if the integer ``x`` is exactly a binary32 (``f32``) or a binary64."""
    if f32:
        return abs(x) <= F32_MAX and struct.unpack(">f", struct.pack(">f", float(x)))[0] == x
    return float(x) == x


def _kind(d: ir.Decl) -> str:
    return {Kind.SHAPE: "shape", Kind.ENUM: "enum", Kind.UNION: "union"}[kind_of(d)]


def _bounds(t: ir.Type) -> tuple[float | None, float | None]:
    if isinstance(t, ir.Int):
        return t.lo, t.hi
    if isinstance(t, ir.Float):
        if t.width == 32:
            lo = -F32_MAX if t.lo is None else t.lo
            hi = F32_MAX if t.hi is None else t.hi
            return lo, hi
        return t.lo, t.hi
    return None, None


def _narrowed(w_lo: int, w_hi: int, r_lo: int, r_hi: int) -> tuple[int | None, int | None]:
    return (r_lo if w_lo < r_lo else None), (r_hi if w_hi > r_hi else None)


def certain_failure(plan: Plan) -> Fail | None:
    """A failure that every writer value reaches (so no value can be read), or None; of several, the first in the
    order a value is read (the reader's fields in order, a map's keys before its values).

    A failure is one ``Fail`` step: one place of the plan (the steps of a pair of declarations are shared by all
    its uses). A union's values all reach a failure only when each of its variants does: its own failure when
    no variant has a counterpart (and there is no ``@fallback``), else one that every variant's fields reach."""
    done: dict[tuple[str, str], list[Fail]] = {}

    def must(step: Step) -> list[Fail]:
        """The failures every value read by ``step`` reaches, in reading order."""
        if isinstance(step, Fail):
            return [step]
        if isinstance(step, Call):
            if step.key not in done:
                done[step.key] = []  # a use inside its own definition: not on every value's way (values end)
                done[step.key] = must(plan.decls[step.key])
            return done[step.key]
        if isinstance(step, ShapeStep):
            return [fail for f in step.fields for fail in must(f.step)]
        if isinstance(step, Opt):
            return must(step.inner) if step.mode == "wrap" else []
        if isinstance(step, Arr):
            return must(step.item) if step.w_lo > 0 else []
        if isinstance(step, MapStep):
            return must(step.key) + must(step.value) if step.w_lo > 0 else []
        if isinstance(step, UnionStep):
            common: list[Fail] | None = None
            for _, rv, fields in step.variants:
                if rv is None:
                    here = [] if step.fallback is not None else [step.fail]  # the union's own failure, once
                else:
                    here = must(fields or SAME)
                kept = {id(f) for f in here}
                common = here if common is None else [f for f in common if id(f) in kept]
            return common or []
        if isinstance(step, EnumStep) and all(r is None for _, r in step.members) and step.fallback is None:
            return [step.fail]  # at the enum itself: which member a value holds is not known before reading
        return []

    found = must(plan.root)
    return found[0] if found else None
