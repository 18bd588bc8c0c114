"""Read-time resolution against a slow, obviously correct reference (hypothesis): random schemas, random edits of
them (allowed and breaking ones), random values of the writer's type, in both directions.

:class:`Reference` is a plain recursive function over (writer IR type, reader IR type, value) that follows the
tables of ``docs/evolution.md`` one row at a time; it uses nothing of :mod:`fsf.evolve`. Its writer IR is the one
the store gives back for the value's type id (as resolution finds it). For every drawn value,
``reader.read(writer.encode(...), store=store)`` must give what the reference gives (the reader type's name and the
exact Python form), or both must refuse with the same rule at the same path (a plan failure at ``$``). Map keys
that read as one key, which the general property draws rarely, have a property of their own, which also holds the
tolerant walk of ``fsf breaking --corpus`` (:func:`fsf.evolve.run.compile_failures`) to resolution.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.bytecode.vm import format_path
from fsf.errors import IncompatibleError
from fsf.evolve.plan import build
from fsf.evolve.run import compile_failures
from fsf.ir.annotations import default_problem, read_literal
from fsf.ir.source import to_source
from fsf.schema import Schema
from tests.support.evolve import same, strip
from tests.support.strategies import schema_texts, values

F32_MAX = struct.unpack(">f", b"\x7f\x7f\xff\xff")[0]

# -------------------------------------------------------------------------------------------------------------
# The reference


class Refused(Exception):
    """The reference refuses: ``rule`` at value path ``path``."""

    def __init__(self, rule: str, path: str) -> None:
        super().__init__(f"{rule} at {path}")
        self.rule = rule
        self.path = path


Item = TypeVar("Item", ir.Field, ir.Member, ir.Variant)


def same_name(a: str, a_was: Sequence[str], b: str, b_was: Sequence[str]) -> bool:
    """The rule of names: the same name, or one names the other with ``@was``."""
    return a == b or a in b_was or b in a_was


def pair(writer: Sequence[Item], reader: Sequence[Item]) -> dict[str, Item]:
    """Reader item name -> its writer item: "Names are matched exactly first, then by `@was` on either side (the
    reader's item names the writer's old name, or the writer's item names the reader's name), each writer item
    used once"."""
    out: dict[str, Item] = {}
    used: set[str] = set()
    for r in reader:
        for w in writer:
            if w.name == r.name:
                out[r.name] = w
                used.add(w.name)
    for r in reader:
        if r.name in out:
            continue
        for w in writer:
            if w.name not in used and same_name(w.name, w.was, r.name, r.was):
                out[r.name] = w
                used.add(w.name)
                break
    return out


def kind(d: ir.Decl) -> str:
    return type(d).__name__


def f32_exact(x: float) -> bool:
    return bool(struct.unpack(">f", struct.pack(">f", x))[0] == x)


@attrs.frozen
class Reference:
    """Reads valid values of the writer's IR ``w`` as values of the reader's IR ``r``."""

    w: ir.Schema
    r: ir.Schema
    memo: dict[tuple[str, str], list[tuple[Any, ...]]] = attrs.field(factory=dict, init=False, eq=False)

    def root(self, wname: str) -> str | None:
        """The reader's type of W's root name, else the one whose `@was` names it, else one that W's root
        declaration's `@was` names."""
        if wname in self.r:
            return wname
        for d in self.r.decls:
            if wname in d.was:
                return d.name
        for old in self.w[wname].was:
            if old in self.r:
                return old
        return None

    def read(self, wname: str, value: Any) -> tuple[str, Any]:
        rname = self.root(wname)
        if rname is None:
            raise Refused("ROOT_TYPE_MISSING", "$")
        certain = self.must(ir.Named(wname), ir.Named(rname), ())
        if certain:
            raise Refused(certain[0][-1], "$")
        return rname, self.value(ir.Named(wname), ir.Named(rname), value, [])

    # -- one value ---------------------------------------------------------------------------------------------

    def value(self, wt: ir.Type, rt: ir.Type, v: Any, path: list[Any], default: ir.Default | None = None) -> Any:
        def refuse(rule: str) -> Refused:
            return Refused(rule, format_path(path))

        w_opt, r_opt = isinstance(wt, ir.Optional), isinstance(rt, ir.Optional)
        if w_opt or r_opt:  # `T` -> `T?`: always; `T?` -> `T`: a present value reads as `T`, else the default
            w_in = wt.inner if isinstance(wt, ir.Optional) else wt
            r_in = rt.inner if isinstance(rt, ir.Optional) else rt
            if w_opt and v is None:
                if r_opt:
                    return None
                if default is not None:
                    return ir.default_value(rt, default)
                raise refuse("FIELD_OPTIONAL_TO_REQUIRED")
            return self.value(w_in, r_in, v, path)
        if isinstance(wt, ir.Named) and isinstance(rt, ir.Named):
            return self.named(self.w[wt.name], self.r[rt.name], v, path)
        if isinstance(wt, ir.Ref) and isinstance(rt, ir.Ref):  # keeps its content id; `T` by name or `@was`
            if same_name(wt.target, self.w[wt.target].was, rt.target, self.r[rt.target].was):
                return v
            raise refuse("TYPE_CHANGED")
        if isinstance(wt, ir.Int) and isinstance(rt, ir.Int):
            if not rt.lo <= v <= rt.hi:
                raise refuse("RANGE_NARROWED")
            return v
        if isinstance(wt, (ir.Int, ir.Float)) and isinstance(rt, ir.Float):  # an integer read as a float: a float
            lo, hi = rt.lo, rt.hi
            if rt.width == 32:
                lo, hi = -F32_MAX if lo is None else lo, F32_MAX if hi is None else hi
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                raise refuse("RANGE_NARROWED")
            as_float = float(v)
            if as_float != v or (rt.width == 32 and not f32_exact(as_float)):
                raise refuse("PRECISION_LOST")
            return as_float
        if type(wt) is type(rt) and isinstance(wt, (ir.Str, ir.Bytes)):
            assert isinstance(rt, (ir.Str, ir.Bytes))
            if len(v) < rt.lo or (rt.hi is not None and len(v) > rt.hi):  # `str`: code points
                raise refuse("LENGTH_NARROWED")
            return v
        if type(wt) is type(rt) and isinstance(wt, (ir.Bool, ir.Hash, ir.Time)):
            return v
        if isinstance(wt, ir.Array) and isinstance(rt, ir.Array):
            if not rt.lo <= len(v) <= rt.hi:
                raise refuse("COUNT_NARROWED")
            return [self.value(wt.item, rt.item, x, [*path, i]) for i, x in enumerate(v)]
        if isinstance(wt, ir.Map) and isinstance(rt, ir.Map):
            if not rt.lo <= len(v) <= rt.hi:
                raise refuse("COUNT_NARROWED")
            out = {}
            for k, x in v.items():
                rk = self.value(wt.key, rt.key, k, [*path, (k,)])
                if rk in out:  # "two keys of a map that read as one reader key: the value is refused, at the map"
                    raise refuse("MAP_KEYS_MERGE")
                out[rk] = self.value(wt.value, rt.value, x, [*path, (rk,)])
            return out
        raise refuse("TYPE_CHANGED")

    def named(self, wd: ir.Decl, rd: ir.Decl, v: Any, path: list[Any]) -> Any:
        if not same_name(wd.name, wd.was, rd.name, rd.was) or kind(wd) != kind(rd):
            raise Refused("TYPE_CHANGED", format_path(path))
        if isinstance(wd, ir.Shape) and isinstance(rd, ir.Shape):
            return self.fields(wd.fields, rd.fields, v, path)
        if isinstance(wd, ir.Enum) and isinstance(rd, ir.Enum):
            for r_name, w_member in pair(wd.members, rd.members).items():
                if w_member.name == v:
                    return r_name
            fallback = [m.name for m in rd.members if m.fallback]
            if fallback:
                return fallback[0]
            raise Refused("ENUM_MEMBER_REMOVED_NO_FALLBACK", format_path(path))
        assert isinstance(wd, ir.Union_) and isinstance(rd, ir.Union_)
        ((variant, body),) = v.items()
        for r_name, w_variant in pair(wd.variants, rd.variants).items():
            if w_variant.name == variant:
                r_variant = next(x for x in rd.variants if x.name == r_name)
                return {r_name: self.fields(w_variant.fields, r_variant.fields, body, [*path, r_name])}
        fallback = [x.name for x in rd.variants if x.fallback]
        if fallback:
            return {fallback[0]: {}}
        raise Refused("VARIANT_REMOVED_NO_FALLBACK", format_path(path))

    def fields(self, wfs: tuple[ir.Field, ...], rfs: tuple[ir.Field, ...], v: Any, path: list[Any]) -> Any:
        pairs = pair(wfs, rfs)
        out = {}
        for rf in rfs:
            wf = pairs.get(rf.name)
            if wf is not None:
                out[rf.name] = self.value(wf.type, rf.type, v[wf.name], [*path, rf.name], rf.default)
            elif rf.default is not None:  # a reader field the writer lacks: its default, else absent, else refused
                out[rf.name] = ir.default_value(rf.type, rf.default)
            elif rf.optional:
                out[rf.name] = None
            else:
                raise Refused("FIELD_ADDED_REQUIRED", format_path([*path, rf.name]))
        return out

    # -- what every value reaches ------------------------------------------------------------------------------

    def must(self, wt: ir.Type, rt: ir.Type, place: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The incompatibilities the schemas decide that every W value of ``wt`` reaches, each as its place (in a
        pair of declarations, or at the root) ending in its rule, in the order a value is read: "A plan whose
        incompatibility every W value reaches (...) fails at once, at path `$`"."""
        if isinstance(wt, ir.Optional):
            return []  # an absent value reaches nothing
        if isinstance(rt, ir.Optional):
            return self.must(wt, rt.inner, place)
        if isinstance(wt, ir.Named) and isinstance(rt, ir.Named):
            wd, rd = self.w[wt.name], self.r[rt.name]
            if not same_name(wd.name, wd.was, rd.name, rd.was) or kind(wd) != kind(rd):
                return [(*place, "TYPE_CHANGED")]
            return self.must_decl(wd, rd)
        if isinstance(wt, ir.Ref) and isinstance(rt, ir.Ref):
            if same_name(wt.target, self.w[wt.target].was, rt.target, self.r[rt.target].was):
                return []
            return [(*place, "TYPE_CHANGED")]
        if (isinstance(wt, (ir.Int, ir.Float)) and isinstance(rt, ir.Float)) or (
                isinstance(wt, ir.Int) and isinstance(rt, ir.Int)):
            return []
        if type(wt) is type(rt) and isinstance(wt, (ir.Str, ir.Bytes, ir.Bool, ir.Hash, ir.Time)):
            return []
        if isinstance(wt, ir.Array) and isinstance(rt, ir.Array):
            return self.must(wt.item, rt.item, (*place, "item")) if wt.lo > 0 else []
        if isinstance(wt, ir.Map) and isinstance(rt, ir.Map):
            if wt.lo == 0:
                return []
            return self.must(wt.key, rt.key, (*place, "key")) + self.must(wt.value, rt.value, (*place, "value"))
        return [(*place, "TYPE_CHANGED")]

    def must_decl(self, wd: ir.Decl, rd: ir.Decl) -> list[tuple[Any, ...]]:
        memo = self.memo
        key = (wd.name, rd.name)
        if key in memo:
            return memo[key]
        memo[key] = []  # reached again inside itself: values end, so not every value goes on
        out: list[tuple[Any, ...]] = []
        if isinstance(wd, ir.Shape) and isinstance(rd, ir.Shape):
            out = self.must_fields(wd.fields, rd.fields, key)
        elif isinstance(wd, ir.Enum) and isinstance(rd, ir.Enum):
            if not pair(wd.members, rd.members) and not any(m.fallback for m in rd.members):
                out = [(*key, "ENUM_MEMBER_REMOVED_NO_FALLBACK")]
        elif isinstance(wd, ir.Union_) and isinstance(rd, ir.Union_):
            pairs = {w.name: r for r, w in pair(wd.variants, rd.variants).items()}
            common: list[tuple[Any, ...]] | None = None
            for wv in wd.variants:  # every value holds one variant: what each of them reaches
                if wv.name in pairs:
                    rv = next(x for x in rd.variants if x.name == pairs[wv.name])
                    here = self.must_fields(wv.fields, rv.fields, (*key, rv.name))
                else:
                    fallback = any(x.fallback for x in rd.variants)
                    here = [] if fallback else [(*key, "VARIANT_REMOVED_NO_FALLBACK")]
                common = here if common is None else [c for c in common if c in here]
            out = common or []
        memo[key] = out
        return out

    def must_fields(self, wfs: tuple[ir.Field, ...], rfs: tuple[ir.Field, ...], place: tuple[Any, ...]
                    ) -> list[tuple[Any, ...]]:
        pairs = pair(wfs, rfs)
        out: list[tuple[Any, ...]] = []
        for rf in rfs:
            wf = pairs.get(rf.name)
            if wf is not None:
                out += self.must(wf.type, rf.type, (*place, rf.name))
            elif rf.default is None and not rf.optional:
                out.append((*place, rf.name, "FIELD_ADDED_REQUIRED"))
        return out


# -------------------------------------------------------------------------------------------------------------
# Edits over the IR

U8 = ir.Int("u8", 0, 255)
I32 = ir.Int("i32", *ir.INT_RANGES["i32"])


@attrs.define
class Fresh:
    """How to edit: new names that no schema of the strategies uses (fields ``g1``, members ``q1``, variants
    ``W1``, types ``X1``), so that no new name is an old one; the types renamed so far (old name -> new name)."""

    safe: bool = False
    """Only changes that every old value reads through (the "old values: yes" rows of ``docs/evolution.md``)."""
    n: int = 0
    renamed: dict[str, str] = attrs.field(factory=dict)

    def __call__(self, stem: str) -> str:
        self.n += 1
        return f"{stem}{self.n}"


Container = tuple[str, str | None]
"""Where fields are: a shape (``(name, None)``) or a union's variant (``(union, variant)``)."""
Path = tuple[str, ...]
"""A place inside a type expression: ``inner``, ``item``, ``key``, ``value`` steps."""


def sort(decls: Sequence[ir.Decl]) -> ir.Schema:
    return ir.Schema(tuple(sorted(decls, key=lambda d: d.name)))


def put(schema: ir.Schema, decl: ir.Decl) -> ir.Schema:
    return sort([decl if d.name == decl.name else d for d in schema.decls])


def containers(schema: ir.Schema) -> list[Container]:
    out: list[Container] = []
    for d in schema.decls:
        if isinstance(d, ir.Shape):
            out.append((d.name, None))
        elif isinstance(d, ir.Union_):
            out.extend((d.name, v.name) for v in d.variants)
    return out


def fields_of(schema: ir.Schema, where: Container) -> tuple[ir.Field, ...]:
    d = schema[where[0]]
    if isinstance(d, ir.Shape):
        return d.fields
    assert isinstance(d, ir.Union_)
    return next(v for v in d.variants if v.name == where[1]).fields


def with_fields(schema: ir.Schema, where: Container, fields: tuple[ir.Field, ...]) -> ir.Schema:
    d = schema[where[0]]
    if isinstance(d, ir.Shape):
        return put(schema, attrs.evolve(d, fields=fields))
    assert isinstance(d, ir.Union_)
    return put(schema, attrs.evolve(d, variants=tuple(attrs.evolve(v, fields=fields) if v.name == where[1] else v
                                                      for v in d.variants)))


def is_fallback(schema: ir.Schema, where: Container) -> bool:
    d = schema[where[0]]
    return isinstance(d, ir.Union_) and any(v.fallback for v in d.variants if v.name == where[1])


def positions(t: ir.Type, path: Path = ()) -> list[tuple[Path, ir.Type]]:
    out = [(path, t)]
    if isinstance(t, ir.Optional):
        out += positions(t.inner, (*path, "inner"))
    elif isinstance(t, ir.Array):
        out += positions(t.item, (*path, "item"))
    elif isinstance(t, ir.Map):
        out += positions(t.key, (*path, "key")) + positions(t.value, (*path, "value"))
    return out


def replace(t: ir.Type, path: Path, new: ir.Type) -> ir.Type:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if head == "inner":
        assert isinstance(t, ir.Optional)
        return ir.Optional(replace(t.inner, rest, new))
    if head == "item":
        assert isinstance(t, ir.Array)
        return attrs.evolve(t, item=replace(t.item, rest, new))
    assert isinstance(t, ir.Map)
    if head == "key":
        return attrs.evolve(t, key=replace(t.key, rest, new))
    return attrs.evolve(t, value=replace(t.value, rest, new))


def holds_decls(schema: ir.Schema, t: ir.Type) -> bool:
    """Whether ``t`` uses a shape or union (so may recurse: its values must be able to end)."""
    return any(isinstance(x, ir.Named) and not isinstance(schema[x.name], ir.Enum) for _, x in positions(t))


def default_for(schema: ir.Schema, t: ir.Type) -> str | None:
    """A ``@default`` literal for a field of type ``t`` (an optional's inner type), or None if none fits."""
    inner = t.inner if isinstance(t, ir.Optional) else t
    literal = None
    if isinstance(inner, ir.Int):
        literal = str(max(inner.lo, min(inner.hi, 7)))
    elif isinstance(inner, ir.Float):
        literal = "0" if (inner.lo or 0.0) <= 0.0 <= (1.0 if inner.hi is None else inner.hi) else repr(inner.lo)
    elif isinstance(inner, ir.Str):
        literal = '"' + "y" * inner.lo + '"'
    elif isinstance(inner, ir.Bool):
        literal = "false"
    elif isinstance(inner, ir.Array) and inner.lo == 0:
        literal = "[]"
    elif isinstance(inner, ir.Map) and inner.lo == 0:
        literal = "{}"
    elif isinstance(inner, ir.Named) and isinstance(schema[inner.name], ir.Enum):
        decl = schema[inner.name]
        assert isinstance(decl, ir.Enum)
        literal = decl.members[-1].name
    if literal is None or not _default_fits(schema, t, literal):
        return None
    if isinstance(inner, ir.Float) and inner.width == 32 and not f32_exact(float(literal)):
        return None
    return literal


def _default_fits(schema: ir.Schema, t: ir.Type, literal: str) -> bool:
    read = read_literal(literal)
    return read is not None and default_problem(t, read[0], read[1], schema) is None


Edit = Callable[[st.DrawFn, ir.Schema, Fresh], "ir.Schema | None"]
EDITS: list[tuple[str, Edit]] = []


def edit(name: str) -> Callable[[Edit], Edit]:
    def register(fn: Edit) -> Edit:
        EDITS.append((name, fn))
        return fn

    return register


def _new_type(draw: st.DrawFn, schema: ir.Schema, *, decls: bool) -> ir.Type:
    menu: list[ir.Type] = [U8, I32, ir.Str(), ir.Bool(), ir.Float(64), ir.Float(32, 0.0, 1.0), ir.Array(0, 3, U8),
                           ir.Map(0, 2, ir.Str(), U8), ir.Bytes(0, 4), ir.Time(), ir.Hash()]
    menu += [ir.Named(d.name) for d in schema.decls if decls or isinstance(d, ir.Enum)]
    return draw(st.sampled_from(menu))


def _add_field(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh, how: str) -> ir.Schema | None:
    where = draw(st.sampled_from(containers(schema)))
    if is_fallback(schema, where):
        return None
    t = _new_type(draw, schema, decls=how == "optional")
    field = ir.Field(fresh("g"), ir.Optional(t) if how == "optional" else t)
    if how == "default":
        literal = default_for(schema, t)
        if literal is None:
            return None
        field = attrs.evolve(field, default=ir.Default(literal))
    fields = list(fields_of(schema, where))
    fields.insert(draw(st.integers(0, len(fields))), field)
    return with_fields(schema, where, tuple(fields))


@edit("add an optional field")
def add_optional(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    return _add_field(draw, schema, fresh, "optional")


@edit("add a field with a default")
def add_default(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    return _add_field(draw, schema, fresh, "default")


@edit("add a required field")
def add_required(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    if fresh.safe:
        return None
    return _add_field(draw, schema, fresh, "required")


def _field_at(draw: st.DrawFn, schema: ir.Schema) -> tuple[Container, int] | None:
    spots = [(c, i) for c in containers(schema) for i in range(len(fields_of(schema, c)))]
    return draw(st.sampled_from(spots)) if spots else None


@edit("drop a field")
def drop_field(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    spot = _field_at(draw, schema)
    if spot is None:
        return None
    where, i = spot
    fields = fields_of(schema, where)
    return with_fields(schema, where, fields[:i] + fields[i + 1:])


@edit("rename a field")
def rename_field(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    spot = _field_at(draw, schema)
    if spot is None:
        return None
    where, i = spot
    fields = list(fields_of(schema, where))
    f = fields[i]
    was = (*f.was, f.name) if fresh.safe or draw(st.integers(0, 3)) else f.was  # mostly with `@was`
    fields[i] = attrs.evolve(f, name=fresh("g"), was=was)
    return with_fields(schema, where, tuple(fields))


@edit("reorder fields")
def reorder_fields(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    where = draw(st.sampled_from(containers(schema)))
    return with_fields(schema, where, tuple(draw(st.permutations(fields_of(schema, where)))))


def _retype(draw: st.DrawFn, schema: ir.Schema, fits: Callable[[Path, ir.Type], bool],
            change: Callable[[Path, ir.Type], ir.Type | None]) -> ir.Schema | None:
    """Change one type expression inside a field's type, one that ``fits``: to ``change(its path, it)``."""
    spots = [(c, i, path, t) for c in containers(schema) for i, f in enumerate(fields_of(schema, c))
             for path, t in positions(f.type) if fits(path, t)]
    if not spots:
        return None
    where, i, path, t = draw(st.sampled_from(spots))
    new = change(path, t)
    if new is None:
        return None
    fields = list(fields_of(schema, where))
    fields[i] = attrs.evolve(fields[i], type=replace(fields[i].type, path, new))
    return with_fields(schema, where, tuple(fields))


def _not_key(path: Path) -> bool:
    return path[-1:] != ("key",)


@edit("change an integer type")
def change_int(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    def change(path: Path, t: ir.Type) -> ir.Type | None:
        assert isinstance(t, ir.Int)
        if fresh.safe:  # widen: a kind whose range holds this one
            kind = draw(st.sampled_from([k for k, (lo, hi) in ir.INT_RANGES.items() if lo <= t.lo and t.hi <= hi]))
            return ir.Int(kind, *ir.INT_RANGES[kind])
        kind = draw(st.sampled_from([t.kind, *ir.INT_RANGES]))
        lo, hi = ir.INT_RANGES[kind]
        if draw(st.booleans()):
            a = draw(st.sampled_from([lo, t.lo, 0, -5, 10, 100]))
            b = draw(st.sampled_from([hi, t.hi, 0, 50, 200, 2**40]))
            lo, hi = max(lo, a), min(hi, b)
        return ir.Int(kind, lo, hi) if lo <= hi else None

    return _retype(draw, schema, lambda path, t: isinstance(t, ir.Int), change)


@edit("change a float type")
def change_float(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    def change(path: Path, t: ir.Type) -> ir.Type | None:
        if fresh.safe:  # an f32 or a bounded float to an f64; an integer inside +-2^53 to an f64
            if isinstance(t, ir.Int) and not -(2**53) <= t.lo <= t.hi <= 2**53:
                return None
            return ir.Float(64)
        if isinstance(t, ir.Int):
            return ir.Float(draw(st.sampled_from([32, 64])))  # an integer to a float
        assert isinstance(t, ir.Float)
        width = draw(st.sampled_from([32, 64]))
        lo, hi = draw(st.sampled_from([(t.lo, t.hi), (None, None), (0.0, 1.0), (-1000.0, 1000.5), (0.0, 0.5)]))
        return ir.Float(width, lo, hi)

    return _retype(draw, schema, lambda path, t: isinstance(t, ir.Float) or (isinstance(t, ir.Int) and
                   _not_key(path)), change)


@edit("change a length bound")
def change_length(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    def change(path: Path, t: ir.Type) -> ir.Type | None:
        assert isinstance(t, (ir.Str, ir.Bytes))
        if fresh.safe:
            return type(t)(0, None if t.hi is None or draw(st.booleans()) else t.hi + 5)
        lo, hi = draw(st.sampled_from([(0, None), (0, 4), (1, 8), (2, 2), (0, 2), (3, 10), (0, 1)]))
        return type(t)(lo, hi)

    return _retype(draw, schema, lambda path, t: isinstance(t, (ir.Str, ir.Bytes)), change)


@edit("change a count bound")
def change_count(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    def change(path: Path, t: ir.Type) -> ir.Type | None:
        assert isinstance(t, (ir.Array, ir.Map))
        lo, hi = draw(st.sampled_from([(0, 3), (1, 2), (0, 20), (0, 1), (2, 5), (0, 0)]))
        if fresh.safe:
            lo, hi = 0, max(t.hi, hi)
        if lo > 0 and holds_decls(schema, t):
            return None  # values of a recursive type must be able to end
        return attrs.evolve(t, lo=lo, hi=hi)

    return _retype(draw, schema, lambda path, t: isinstance(t, (ir.Array, ir.Map)), change)


@edit("make a type optional")
def make_optional(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    def fits(path: Path, t: ir.Type) -> bool:  # no `T??`, no optional map key
        return not isinstance(t, ir.Optional) and path[-1:] not in (("key",), ("inner",))

    return _retype(draw, schema, fits, lambda path, t: ir.Optional(t))


@edit("make a field required")
def make_required(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    spot = _field_at(draw, schema)
    if spot is None:
        return None
    where, i = spot
    fields = list(fields_of(schema, where))
    f = fields[i]
    if not isinstance(f.type, ir.Optional) or holds_decls(schema, f.type):
        return None
    literal = default_for(schema, f.type.inner) if fresh.safe or draw(st.booleans()) else None
    if fresh.safe and literal is None:
        return None
    fields[i] = attrs.evolve(f, type=f.type.inner, default=None if literal is None else ir.Default(literal))
    return with_fields(schema, where, tuple(fields))


@edit("give a field a default")
def give_default(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    spot = _field_at(draw, schema)
    if spot is None:
        return None
    where, i = spot
    fields = list(fields_of(schema, where))
    literal = default_for(schema, fields[i].type)
    if literal is None:
        return None
    fields[i] = attrs.evolve(fields[i], default=ir.Default(literal))
    return with_fields(schema, where, tuple(fields))


@edit("change a field's kind")
def change_kind(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    if fresh.safe:
        return None

    def change(path: Path, t: ir.Type) -> ir.Type | None:
        kinds: list[ir.Type] = [ir.Str(), ir.Int("u32", 0, 2**32 - 1), ir.Bool(), ir.Time()]
        return draw(st.sampled_from(kinds))

    return _retype(draw, schema, lambda path, t: _not_key(path), change)


def _enums(schema: ir.Schema) -> list[ir.Enum]:
    return [d for d in schema.decls if isinstance(d, ir.Enum)]


def keys_a_map(schema: ir.Schema, enum: str) -> bool:
    """Whether the enum ``enum`` is the key type of a map somewhere in ``schema``."""
    return any(isinstance(x, ir.Map) and x.key == ir.Named(enum)
               for where in containers(schema) for f in fields_of(schema, where) for _, x in positions(f.type))


def _unions(schema: ir.Schema) -> list[ir.Union_]:
    return [d for d in schema.decls if isinstance(d, ir.Union_)]


def _fallback(draw: st.DrawFn, items: tuple[Any, ...], can: Callable[[Any], bool], fresh: Fresh, removed: bool
              ) -> tuple[Any, ...] | None:
    """``items`` with one of them (that ``can``) marked ``@fallback``, or none, or as they were; when safe, a
    fallback stays (and one is needed once an item was ``removed``), else None."""
    had = any(x.fallback for x in items)
    choice = draw(st.sampled_from(["keep", "one"] if fresh.safe else ["keep", "none", "one"]))
    if fresh.safe and removed and not had:
        choice = "one"
    if choice == "keep":
        return items
    able = [i for i, x in enumerate(items) if can(x)]
    if fresh.safe and not able:
        return None
    pick = draw(st.sampled_from(able)) if choice == "one" and able else None
    return tuple(attrs.evolve(x, fallback=i == pick) for i, x in enumerate(items))


@edit("change an enum's members")
def change_members(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    enums = _enums(schema)
    if not enums:
        return None
    d = draw(st.sampled_from(enums))
    members = list(d.members)
    how = draw(st.sampled_from(["add", "remove", "rename", "reorder", "fallback"]))
    removed = how == "remove" and len(members) > 1
    if removed and fresh.safe and keys_a_map(schema, d.name):
        return None  # its values read as the `@fallback`, and a map holding both would lose one (MAP_KEYS_MERGE)
    if how == "add":
        members.insert(draw(st.integers(0, len(members))), ir.Member(fresh("q")))
    elif how == "remove" and len(members) > 1:
        members.pop(draw(st.integers(0, len(members) - 1)))
    elif how == "rename":
        i = draw(st.integers(0, len(members) - 1))
        m = members[i]
        members[i] = attrs.evolve(m, name=fresh("q"), was=(*m.was, m.name) if fresh.safe or draw(st.integers(0, 3))
                                  else m.was)
    elif how == "reorder":
        members = list(draw(st.permutations(members)))
    marked = _fallback(draw, tuple(members), lambda m: True, fresh, removed)
    return None if marked is None else put(schema, attrs.evolve(d, members=marked))


@edit("change a union's variants")
def change_variants(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    unions = _unions(schema)
    if not unions:
        return None
    d = draw(st.sampled_from(unions))
    variants = list(d.variants)
    how = draw(st.sampled_from(["add", "remove", "rename", "reorder", "fallback"]))
    removed = how == "remove" and len(variants) > 1
    if how == "add":
        fields = (ir.Field("g0", U8),) if draw(st.booleans()) else ()
        variants.insert(draw(st.integers(0, len(variants))), ir.Variant(fresh("W"), fields))
    elif how == "remove" and len(variants) > 1:
        variants.pop(draw(st.integers(0, len(variants) - 1)))
    elif how == "rename":
        i = draw(st.integers(0, len(variants) - 1))
        v = variants[i]
        variants[i] = attrs.evolve(v, name=fresh("W"), was=(*v.was, v.name) if fresh.safe or draw(st.integers(0, 3))
                                   else v.was)
    elif how == "reorder":
        variants = list(draw(st.permutations(variants)))
    marked = _fallback(draw, tuple(variants), lambda v: not v.fields, fresh, removed)
    return None if marked is None else put(schema, attrs.evolve(d, variants=marked))


@edit("rename a type")
def rename_type(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    d = draw(st.sampled_from(schema.decls))
    new = fresh("X")
    fresh.renamed[d.name] = new

    def rename(t: ir.Type) -> ir.Type:
        for path, x in positions(t):
            if isinstance(x, ir.Named) and x.name == d.name:
                t = replace(t, path, ir.Named(new))
            elif isinstance(x, ir.Ref) and x.target == d.name:
                t = replace(t, path, ir.Ref(new))
        return t

    def in_fields(fields: tuple[ir.Field, ...]) -> tuple[ir.Field, ...]:
        return tuple(attrs.evolve(f, type=rename(f.type)) for f in fields)

    decls: list[ir.Decl] = []
    for x in schema.decls:
        if isinstance(x, ir.Shape):
            x = attrs.evolve(x, fields=in_fields(x.fields))
        elif isinstance(x, ir.Union_):
            x = attrs.evolve(x, variants=tuple(attrs.evolve(v, fields=in_fields(v.fields)) for v in x.variants))
        if x.name == d.name:
            x = attrs.evolve(x, name=new, was=(*x.was, x.name) if fresh.safe or draw(st.integers(0, 3)) else x.was)
        decls.append(x)
    return sort(decls)


@edit("change docs")
def change_docs(draw: st.DrawFn, schema: ir.Schema, fresh: Fresh) -> ir.Schema | None:
    d = draw(st.sampled_from(schema.decls))
    return put(schema, attrs.evolve(d, doc=d.doc + " more"))


def valid(schema: ir.Schema) -> bool:
    """Whether ``schema`` is one the checker could produce: its text (annotations aside) checks back to it, its
    defaults fit, at most one ``@fallback`` per declaration (a unit variant's) and ``@was`` names no current name
    of its scope, each once."""
    bare = strip(schema)
    try:
        if fsf.compile_source(to_source(bare)).ir != bare:
            return False
    except fsf.FsfError:
        return False
    scopes: list[Sequence[Any]] = [schema.decls]
    for d in schema.decls:
        if isinstance(d, ir.Shape):
            scopes.append(d.fields)
        elif isinstance(d, ir.Enum):
            scopes.append(d.members)
            if sum(m.fallback for m in d.members) > 1:
                return False
        else:
            scopes.append(d.variants)
            scopes.extend(v.fields for v in d.variants)
            if sum(v.fallback for v in d.variants) > 1 or any(v.fallback and v.fields for v in d.variants):
                return False
    for items in scopes:
        names = {x.name for x in items}
        old = [w for x in items for w in x.was]
        if len(old) != len(set(old)) or names & set(old):
            return False
        for f in items:
            if isinstance(f, ir.Field) and f.default is not None and not _default_fits(schema, f.type, f.default.literal):
                return False
    return True


@st.composite
def edited(draw: st.DrawFn, schema: ir.Schema, root: str, *, safe: bool = False) -> tuple[ir.Schema, str, list[str]]:
    """``schema`` after one to three random edits (each kept only when the result is valid; only changes every
    old value reads through when ``safe``), the new name of ``root`` and the names of the edits made."""
    fresh = Fresh(safe)
    done = []
    for _ in range(draw(st.integers(1, 3))):
        name, change = draw(st.sampled_from(EDITS))
        renamed = dict(fresh.renamed)
        changed = change(draw, schema, fresh)
        if changed is not None and valid(changed):
            schema = changed
            done.append(name)
        else:
            fresh.renamed = renamed
    while root in fresh.renamed:
        root = fresh.renamed[root]
    return schema, root, done


# -------------------------------------------------------------------------------------------------------------
# The property


def outcome(reader: Schema, data: bytes, store: Any) -> tuple[str, Any]:
    try:
        got = reader.read(data, store=store)
    except IncompatibleError as err:
        return "refused", (err.rule, err.path)
    return "read", (got.name, got.value)


def expected(writer_ir: ir.Schema, wname: str, reader: Schema, value: Any) -> tuple[str, Any]:
    """What the reference reads."""
    reference = Reference(writer_ir, reader.ir)
    try:
        return "read", reference.read(wname, value)
    except Refused as refused:
        return "refused", (refused.rule, refused.path)


def agree(got: tuple[str, Any], want: tuple[str, Any]) -> bool:
    if got[0] != want[0]:
        return False
    if got[0] == "refused":
        return bool(got[1] == want[1])
    return bool(got[1][0] == want[1][0] and same(got[1][1], want[1][1]))


def check(data: st.DataObject, store: Any, writer: Schema, wroot: str, reader: Schema, direction: str,
          *, must_read: bool = False) -> None:
    """Values of the writer's ``wroot`` read by ``reader`` through ``store`` as the reference reads them."""
    store.add_schema(writer, [wroot])
    stored = store.schema(writer.id(wroot)).ir  # the writer's closure as resolution finds it
    for _ in range(3):
        raw = writer.encode(wroot, data.draw(values(writer.ir, wroot), label="value"))
        written = writer.decode(raw)  # the canonical form (a -0.0 is written as 0.0)
        got, want = outcome(reader, raw, store), expected(stored, wroot, reader, written)
        event(f"{direction}: {got[0]}{' ' + got[1][0] if got[0] == 'refused' else ''}")
        assert agree(got, want), f"{direction}: resolution gave {got!r}, the reference {want!r}"
        if got[0] == "read":
            reader.validate(got[1][0], got[1][1])  # a valid value of the reader's type
        else:
            assert not must_read, f"{direction}: an allowed change refused {got!r}"


SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                          HealthCheck.filter_too_much])


@settings(SETTINGS, max_examples=150)
@given(st.data())
def test_resolution_agrees_with_the_reference_both_ways(data: st.DataObject) -> None:
    old = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    new_ir, new_root, done = data.draw(edited(old.ir, "Root"), label="edit")
    assume(done)
    event(f"edits: {', '.join(sorted(set(done)))}")
    new = Schema(new_ir)
    with tempfile.TemporaryDirectory() as folder:
        store = fsf.init_store(folder)
        check(data, store, old, "Root", new, "old values")
        check(data, store, new, new_root, old, "old readers")


@settings(SETTINGS, max_examples=100)
@given(st.data())
def test_every_old_value_reads_after_an_allowed_change(data: st.DataObject) -> None:
    old = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    new_ir, new_root, done = data.draw(edited(old.ir, "Root", safe=True), label="edit")
    assume(done)
    event(f"edits: {', '.join(sorted(set(done)))}")
    new = Schema(new_ir)
    with tempfile.TemporaryDirectory() as folder:
        store = fsf.init_store(folder)
        check(data, store, old, "Root", new, "old values", must_read=True)
        check(data, store, new, new_root, old, "old readers")


KEYS = ("k0", "k1", "k2", "k3", "k4")


@st.composite
def keyed_by_an_enum(draw: st.DrawFn, *, fallback: bool) -> str:
    """``shape Root`` with a map (and a map in an array) keyed by ``enum K``: some of ``KEYS``, one maybe
    ``@fallback``."""
    members = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=5, unique=True))
    pick = draw(st.integers(0, len(members) - 1)) if fallback else None
    text = ", ".join(f"{'@fallback ' if i == pick else ''}{m}" for i, m in enumerate(members))
    return f"enum K {{ {text} }}\nshape Root {{ m: map[0..5]<K, u8>, ms: arr[0..2]<map[0..5]<K, u8?>> }}\n"


@settings(SETTINGS, max_examples=60)
@given(st.data())
def test_map_keys_read_as_a_fallback_agree_with_the_reference(data: st.DataObject) -> None:
    """The only way two map keys read as one (enum members read as the reader's `@fallback`), drawn often: the
    general property above reaches it rarely."""
    old = fsf.compile_source(data.draw(keyed_by_an_enum(fallback=data.draw(st.booleans())), label="old"))
    new = fsf.compile_source(data.draw(keyed_by_an_enum(fallback=True), label="new"))
    assume(old.id("Root") != new.id("Root"))
    with tempfile.TemporaryDirectory() as folder:
        store = fsf.init_store(folder)
        check(data, store, old, "Root", new, "old values")
        check(data, store, new, "Root", old, "old readers")
        for writer, reader in ((old, new), (new, old)):  # the tolerant walk (`fsf breaking --corpus`) agrees
            failures = compile_failures(build(writer._side(), "Root", reader._side(), "Root"))
            for _ in range(3):
                raw = writer.encode("Root", data.draw(values(writer.ir, "Root"), label="value"))
                got = outcome(reader, raw, store)
                found = [(f.rule, f.site.reader) for f in failures(writer.decode(raw))]
                assert (got[0] == "refused") == bool(found), (got, found)
                if got[0] == "refused" and got[1][0] == "MAP_KEYS_MERGE":
                    assert found[0] == ("MAP_KEYS_MERGE", "Root.m" if got[1][1] == "$.m" else "Root.ms"), found
