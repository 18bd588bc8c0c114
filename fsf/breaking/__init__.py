"""Breaking: an old and a new schema -> the findings ``fsf breaking`` reports (``docs/breaking.md``).

``READ_OLD`` and ``READ_NEW`` findings are the resolution plans of :mod:`fsf.evolve` walked in each direction,
so a finding says exactly what reading would do; ``JSON`` and ``SOURCE`` findings come from how names pair up
(``@was`` keeps FSV readers reading, but a JSON key or a generated name still changes). Pure over the IR.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from fsf import ir
from fsf.evolve.plan import (
    Arr,
    Call,
    EnumStep,
    Fail,
    Length,
    MapStep,
    Num,
    Opt,
    Plan,
    ShapeStep,
    Side,
    Site,
    Step,
    UnionStep,
    build,
    match_root,
    pair_names,
)
from fsf.evolve.rules import BY_ID, READ_NEW_OF

__all__ = ["Finding", "compare", "findings_of_plan"]


@attrs.frozen
class Finding:
    """One way the change breaks a kind of reader: the rule, its category, the type path (the new schema's
    names, or the old one's for what the new schema lacks), a message, the hint, and where it is in each schema
    (``new_at``/``old_at``: (declaration, item) to locate)."""

    rule: str
    category: str
    path: str
    message: str
    new_at: tuple[str, str | None] | None = None
    old_at: tuple[str, str | None] | None = None

    @property
    def hint(self) -> str:
        return BY_ID[self.rule].hint

    @property
    def per_value(self) -> bool:
        return BY_ID[self.rule].per_value

    @property
    def key(self) -> tuple[str, str]:
        return self.rule, self.path


def compare(old: Side, new: Side) -> list[Finding]:
    """Every finding of the change from ``old`` to ``new``, types paired by name (then ``@was``), in a stable
    order (by category, then type path, then rule)."""
    found: dict[tuple[str, str, str], Finding] = {}

    def add(f: Finding) -> None:
        found.setdefault((f.category, f.path, f.rule), f)

    for od in old.schema.decls:
        target = match_root(old, od.name, new)
        if target is None:
            add(Finding("ROOT_TYPE_MISSING", "READ_OLD", od.name, f"`{od.name}` is gone: its values cannot be read",
                        None, (od.name, None)))
            add(Finding("SOURCE_TYPE_REMOVED", "SOURCE", od.name, f"`{od.name}` is gone from generated code", None,
                        (od.name, None)))
            continue
        if target != od.name:
            add(Finding("SOURCE_TYPE_RENAMED", "SOURCE", target, f"`{od.name}` is now `{target}`",
                        (target, None), (od.name, None)))
        for f in _names(od, new.schema[target]):
            add(f)
        if old.ids[od.name] == new.ids[target]:
            continue
        for f in findings_of_plan(build(old, od.name, new, target), "READ_OLD"):
            add(f)
        for f in findings_of_plan(build(new, target, old, od.name), "READ_NEW"):
            add(f)
    order = {c: i for i, c in enumerate(("READ_OLD", "READ_NEW", "JSON", "SOURCE"))}
    return sorted(found.values(), key=lambda f: (order[f.category], f.path, f.rule))


def findings_of_plan(plan: Plan, category: str) -> Iterator[Finding]:
    """Every way ``plan`` can fail, as findings of ``category`` (``READ_OLD``: the plan reads old values with the
    new schema; ``READ_NEW``: it reads new values with the old one)."""
    seen: set[tuple[str, str]] = set()
    work: list[Step] = [plan.root]
    while work:
        step = work.pop()
        for rule, site, message in _failures(step, old_readers=category == "READ_NEW"):
            yield _finding(rule, site, message, category)
        if isinstance(step, Call):
            if step.key not in seen:
                seen.add(step.key)
                work.append(plan.decls[step.key])
        elif isinstance(step, ShapeStep):
            work.extend(f.step for f in step.fields)
        elif isinstance(step, Opt):
            work.append(step.inner)
        elif isinstance(step, Arr):
            work.append(step.item)
        elif isinstance(step, MapStep):
            work.extend((step.key, step.value) if step.merge is None else (step.key, step.value, step.merge))
        elif isinstance(step, UnionStep):
            work.extend(fields for _, _, fields in step.variants if fields is not None)


def _failures(step: Step, *, old_readers: bool) -> Iterator[tuple[str, Site, str]]:
    """The ways one step fails some value: (resolution rule, site, message). The plan's reader is the new schema,
    or with ``old_readers`` the old one (the messages say whose bounds they are)."""
    who, refuses, has, whose = (("old readers", "refuse", "have", "old readers'") if old_readers
                                else ("the new schema", "refuses", "has", "the new schema's"))
    if isinstance(step, Fail):
        if old_readers and step.rule == "FIELD_ADDED_REQUIRED":
            yield step.rule, step.site, (f"old readers require `{step.site.r_item}` (no `@default` there), and new "
                                         "values do not have it")
        else:
            yield step.rule, step.site, f"old readers: {step.message}" if old_readers else step.message
    elif isinstance(step, Num):
        if step.lo is not None or step.hi is not None:
            yield "RANGE_NARROWED", step.site, f"{who} {refuses} numbers {_outside(step.lo, step.hi, 'below', 'above')}"
        if step.f32 or step.exact:
            yield "PRECISION_LOST", step.site, f"some numbers have no exact spelling in {whose} type"
    elif isinstance(step, Length):
        yield "LENGTH_NARROWED", step.site, (f"{who} {refuses} {step.what}s "
                                             f"{_outside(step.lo or None, step.hi, 'shorter than', 'longer than')}")
    elif isinstance(step, (Arr, MapStep)) and (step.lo is not None or step.hi is not None):
        what = "arrays" if isinstance(step, Arr) else "maps"
        yield "COUNT_NARROWED", step.site, (f"{who} {refuses} {what} with "
                                            f"{_outside(step.lo, step.hi, 'fewer than', 'more than')} items")
    elif isinstance(step, Opt) and step.mode == "unwrap" and step.default is None:
        yield "FIELD_OPTIONAL_TO_REQUIRED", step.site, (
            "old readers require it (no `@default` there), and new values may lack it" if old_readers
            else "the new schema requires it (no `@default`), and old values may lack it")
    elif isinstance(step, (EnumStep, UnionStep)) and step.fallback is None:
        what = "member" if isinstance(step, EnumStep) else "variant"
        lacking = ([w for w, r in step.members if r is None] if isinstance(step, EnumStep)
                   else [w for w, r, _ in step.variants if r is None])
        for name in lacking:
            site = attrs.evolve(step.site, r_item=name, w_item=name)
            yield step.fail.rule, site, f"{who} {has} no {what} `{name}` and no `@fallback`"


_LACKING = frozenset({"ENUM_MEMBER_REMOVED_NO_FALLBACK", "VARIANT_REMOVED_NO_FALLBACK"})
"""Rules of a writer member or variant that the reader lacks: the site names it on both sides (for the path),
but only the writer has it; the reader has its declaration."""


def _finding(rule: str, site: Site, message: str, category: str) -> Finding:
    """A resolution failure at ``site`` as a finding: in ``READ_NEW`` the plan's reader is the old schema."""
    reader_at = _at(site.r_decl, None if rule in _LACKING else site.r_item)
    writer_at = _at(site.w_decl, site.w_item)
    if category == "READ_OLD":  # the plan's reader is the new schema; its path is what resolution errors name
        return Finding(rule, category, site.reader, message, reader_at, writer_at)
    path = site.writer if site.w_item is not None or site.r_item is None else site.reader  # gone: the old name
    return Finding(READ_NEW_OF[rule], category, path, message, writer_at, reader_at)


def _at(decl: str, item: str | None) -> tuple[str, str | None] | None:
    return (decl, item) if decl else None


def _names(od: ir.Decl, nd: ir.Decl) -> Iterator[Finding]:
    """The JSON and SOURCE findings of one pair of declarations (and FIELD_RENAMED_WITHOUT_WAS)."""
    if isinstance(od, ir.Shape) and isinstance(nd, ir.Shape):
        yield from _fields(od.fields, nd.fields, od.name, nd.name, "", "")
    elif isinstance(od, ir.Enum) and isinstance(nd, ir.Enum):
        yield from _items([(m.name, m.was) for m in od.members], [(m.name, m.was) for m in nd.members], od.name,
                          nd.name, "MEMBER", "member")
    elif isinstance(od, ir.Union_) and isinstance(nd, ir.Union_):
        yield from _items([(v.name, v.was) for v in od.variants], [(v.name, v.was) for v in nd.variants], od.name,
                          nd.name, "VARIANT", "variant")
        pairs = pair_names([(v.name, v.was) for v in od.variants], [(v.name, v.was) for v in nd.variants])
        old_variants = {v.name: v for v in od.variants}
        for v in nd.variants:
            if v.name in pairs:
                yield from _fields(old_variants[pairs[v.name]].fields, v.fields, od.name, nd.name,
                                   f"{pairs[v.name]}.", f"{v.name}.")


def _fields(old: tuple[ir.Field, ...], new: tuple[ir.Field, ...], od: str, nd: str, old_prefix: str, prefix: str
            ) -> Iterator[Finding]:
    """The findings of a shape's fields, or of a union variant's (``old_prefix``/``prefix``: ``"Variant."`` as
    each side names the variant)."""
    pairs = pair_names([(f.name, f.was) for f in old], [(f.name, f.was) for f in new])
    used = set(pairs.values())
    for f in new:
        source = pairs.get(f.name)
        path = f"{nd}.{prefix}{f.name}"
        at: tuple[str, str | None] = (nd, prefix + f.name)
        if source is not None and source != f.name:
            yield Finding("JSON_FIELD_RENAMED", "JSON", path, f"`{source}` is now `{f.name}` in JSON", at,
                          (od, old_prefix + source))
            yield Finding("SOURCE_FIELD_RENAMED", "SOURCE", path, f"`{source}` is now `{f.name}`", at,
                          (od, old_prefix + source))
        if source is None and not f.optional:
            yield Finding("JSON_FIELD_ADDED_REQUIRED", "JSON", path, f"JSON values must now give `{f.name}`", at,
                          (od, old_prefix.rstrip(".") or None))
    gone = [f for f in old if f.name not in used]
    added = [f for f in new if f.name not in pairs]
    for f in gone:
        path = f"{od}.{old_prefix}{f.name}"
        new_at, old_at = (nd, prefix.rstrip(".") or None), (od, old_prefix + f.name)
        yield Finding("JSON_FIELD_REMOVED", "JSON", path, f"`{f.name}` is gone from the JSON form", new_at, old_at)
        yield Finding("SOURCE_FIELD_REMOVED", "SOURCE", path, f"`{f.name}` is gone from the generated class", new_at,
                      old_at)
        alike = [a for a in added if ir.type_name(a.type) == ir.type_name(f.type)]
        if len(alike) == 1:
            a = alike[0]
            yield Finding("FIELD_RENAMED_WITHOUT_WAS", "READ_OLD", f"{nd}.{prefix}{a.name}",
                          f"`{f.name}` looks renamed to `{a.name}` (same type `{ir.type_name(a.type)}`), but without "
                          f"`@was(\"{f.name}\")` old values' `{f.name}` is dropped", (nd, prefix + a.name),
                          (od, old_prefix + f.name))


def _items(old: list[tuple[str, tuple[str, ...]]], new: list[tuple[str, tuple[str, ...]]], od: str, nd: str,
           rule: str, what: str) -> Iterator[Finding]:
    pairs = pair_names(old, new)
    used = set(pairs.values())
    for name, _ in new:
        source = pairs.get(name)
        if source is not None and source != name:
            yield Finding(f"JSON_{rule}_RENAMED", "JSON", f"{nd}.{name}", f"the {what} `{source}` is now `{name}`",
                          (nd, name), (od, source))
            yield Finding(f"SOURCE_{rule}_RENAMED", "SOURCE", f"{nd}.{name}", f"the {what} `{source}` is now "
                          f"`{name}`", (nd, name), (od, source))
    for name, _ in old:
        if name not in used:
            yield Finding(f"JSON_{rule}_REMOVED", "JSON", f"{od}.{name}", f"the {what} `{name}` is gone",
                          (nd, None), (od, name))
            yield Finding(f"SOURCE_{rule}_REMOVED", "SOURCE", f"{od}.{name}", f"the {what} `{name}` is gone",
                          (nd, None), (od, name))


def _outside(lo: float | None, hi: float | None, below: str, above: str) -> str:
    """``below 1 or above 5``: what a reader's bounds refuse (None: that side is not narrower than before)."""
    return " or ".join(f"{word} {_number(x)}" for word, x in ((below, lo), (above, hi)) if x is not None)


def _number(x: float) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() and abs(x) < 2**53 else str(x)
