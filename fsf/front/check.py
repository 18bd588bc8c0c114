"""Check: AST modules (a file and its imports) -> IR schema, or a SchemaError listing every problem.

Every pass is linear in the schema's size and iterative over the declaration graph, so long chains and
exponential fan-out of shapes cost no more than their text. Annotations are judged by the table of
:mod:`fsf.ir.annotations` (where each may go, what it takes), a ``@default`` by its judge once every type is known.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

import fsf.ir.annotations as ann  # not `from fsf.ir import annotations`: that can be the `__future__` feature
from fsf import ir
from fsf.errors import Diagnostic, Note, SchemaError, Span
from fsf.front import ast, foreign
from fsf.ir.annotations import Args, Literal, Place, Verdict
from fsf.limits import MAX_LITERAL_DIGITS as MAX_BOUND_DIGITS

MAX_LENGTH = (1 << 32) - 1
"""Lengths and counts are at most 2^32-1: the largest msgpack header."""

_PRIMITIVES = ("bool", *ir.INT_RANGES, *ir.FLOAT_WIDTHS, "str", "bytes", "hash", "time")
_PASCAL = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
_FIELD = re.compile(r"[a-z][A-Za-z0-9]*\Z|[a-z][a-z0-9]*(?:_[a-z0-9]+)+\Z")
_MEMBER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_INTEGER = re.compile(r"-?[0-9]+\Z")
# Did-you-mean costs one string comparison per candidate; past this many comparisons in one check (thousands
# of unknown names in a huge schema) the remaining unknown names get no suggestion.
_SUGGESTION_BUDGET = 200_000


# What the checker calls an annotated item in messages, by where it stands.
_NOUNS = {Place.FIELD: "field", Place.MEMBER: "member", Place.UNIT_VARIANT: "variant", Place.VARIANT: "variant",
          Place.SHAPE: "shape", Place.ENUM: "enum", Place.UNION: "union"}
_DEFAULT_CODES = {Verdict.NO_DEFAULT: "F607", Verdict.MISFIT: "F606", Verdict.TOO_LONG: "F207"}
_ANNOTATION_NAMES = [a.name for a in ann.ANNOTATIONS]
_ALL_ANNOTATIONS = ", ".join(f"`{a.spelled}`" for a in ann.ANNOTATIONS[:-1]) + f" and `{ann.ANNOTATIONS[-1].spelled}`"


@attrs.define
class _Marks:
    """One item's judged annotations: the IR attribute values, and the arguments the declaration-wide checks
    (reserved names, old names, one fallback) look at again."""

    name: ast.Name
    noun: str
    values: dict[str, Any] = attrs.field(factory=dict)
    was: list[ast.Argument] = attrs.field(factory=list)
    reserved: list[ast.Argument] = attrs.field(factory=list)
    fallback: ast.Annotation | None = None
    default: ast.Argument | None = None


def check(modules: Sequence[ast.Module], problems: Iterable[Diagnostic] = ()) -> ir.Schema:
    """Resolve and judge ``modules`` as one name space. ``problems`` are earlier ones (e.g. from imports)."""
    checker = _Checker(list(problems))
    # With a file that could not be read or parsed, or an import that was skipped, the declarations a name
    # refers to may be in the missing part: unknown names would only be noise until that is fixed.
    checker.incomplete = any(d.code.startswith("F0") or d.code in ("F301", "F303", "F304", "F305")
                             for d in checker.diags)
    schema = checker.run(modules)
    if checker.diags:
        raise SchemaError(checker.diags)
    return schema


class _Checker:
    def __init__(self, diags: list[Diagnostic]) -> None:
        self.diags = diags
        self.spans: dict[str, Span | None] = {}
        self.budget = _SUGGESTION_BUDGET
        self.incomplete = False
        self.candidates: list[str] = []
        self.folded: set[str] = set()  # the declared type names in lowercase
        self.defaults: list[tuple[ir.Type, ast.Argument]] = []  # judged once every declaration is known
        self.types: list[_Marks] = []

    def error(self, code: str, message: str, span: Span | None, label: str = "",
              notes: tuple[Note, ...] = (), hint: str = "") -> None:
        self.diags.append(Diagnostic(code, message, span, label, notes, hint))

    def run(self, modules: Sequence[ast.Module]) -> ir.Schema:
        decls: dict[str, ast.Decl] = {}
        duplicates: list[ast.Decl] = []
        for module in modules:
            for decl in module.decls:
                name = decl.name
                self._type_name(name)
                if name.text in decls:
                    first = decls[name.text].name.span
                    self.error("F104", f"type `{name.text}` is declared twice", name.span, "declared again here",
                               (Note(first, "first declared here"),))
                    duplicates.append(decl)
                    continue
                decls[name.text] = decl
                self.spans[name.text] = name.span
        self.candidates = [*decls, *_PRIMITIVES]
        self.folded = {d.lower() for d in decls}
        resolved = [self._decl(d, decls) for d in decls.values()]
        named = list(self.types)
        for d in duplicates:  # judged too, so that one run reports the problems inside them as well
            self._decl(d, decls)
        self._old_names(named, [], "type", "the schema")
        schema = ir.Schema(tuple(sorted(resolved, key=lambda d: d.name)))
        self._finite(schema)
        self._judge_defaults(schema)
        return schema

    def _suggest(self, text: str, candidates: Sequence[str]) -> str | None:
        """The did-you-mean for ``text`` among ``candidates`` (None past the check's suggestion budget)."""
        if self.budget <= 0:
            return None
        self.budget -= len(candidates)
        import difflib  # only when a name is unknown

        close = difflib.get_close_matches(text, candidates, n=1, cutoff=0.6)
        return close[0] if close else None

    # -- names ---------------------------------------------------------------------------------------------

    def _ascii(self, name: ast.Name) -> bool:
        if name.text.isascii():
            return True
        self.error("F103", f"identifier `{name.text}` is not ASCII", name.span, "non-ASCII identifier",
                   hint="identifiers use the letters A-Z and a-z, digits and `_`")
        return False

    def _type_name(self, name: ast.Name, what: str = "type") -> None:
        if self._ascii(name) and not _PASCAL.match(name.text):
            pascal = "".join(p[:1].upper() + p[1:] for p in name.text.split("_"))
            self.error("F101", f"{what} name `{name.text}` is not PascalCase", name.span, "not PascalCase",
                       hint="shape, enum, union and variant names are PascalCase"
                       + (f": `{pascal}`" if _PASCAL.match(pascal) else ""))

    def _field_name(self, name: ast.Name) -> None:
        if self._ascii(name) and not _FIELD.match(name.text):
            self.error("F102", f"field name `{name.text}` is neither camelCase nor snake_case", name.span,
                       "not a field name", hint=_field_hint(name.text))

    def _member_name(self, name: ast.Name) -> None:
        if self._ascii(name) and not _MEMBER.match(name.text):
            self.error("F102", f"enum member `{name.text}` does not start with a letter", name.span,
                       "not a member name", hint="enum members start with a letter A-Z or a-z")

    def _unique(self, names: Iterable[ast.Name], what: str, owner: str) -> None:
        seen: dict[str, ast.Name] = {}
        for name in names:
            if name.text in seen:
                self.error("F105", f"{what} `{name.text}` appears twice in `{owner}`", name.span, "again here",
                           (Note(seen[name.text].span, "first here"),))
            else:
                seen[name.text] = name

    # -- declarations --------------------------------------------------------------------------------------

    def _decl(self, decl: ast.Decl, decls: dict[str, ast.Decl]) -> ir.Decl:
        owner = decl.name.text
        if isinstance(decl, ast.EnumDecl):
            marks = self._annotated(decl, Place.ENUM, self._member_name)
            self.types.append(marks)
            for m in decl.members:
                self._member_name(m.name)
            self._unique((m.name for m in decl.members), "member", owner)
            members = [(m, self._annotated(m, Place.MEMBER, self._member_name)) for m in decl.members]
            self._siblings([k for _, k in members], marks, owner)
            return ir.Enum(owner, tuple(ir.Member(m.name.text, m.doc, **k.values, span=m.name.span)
                                        for m, k in members), decl.doc, **marks.values, span=decl.name.span)
        if isinstance(decl, ast.UnionDecl):
            marks = self._annotated(decl, Place.UNION, self._variant_name)
            self.types.append(marks)
            for v in decl.variants:
                self._type_name(v.name, "variant")
            self._unique((v.name for v in decl.variants), "variant", owner)
            variants = []
            for v in decl.variants:
                place = Place.VARIANT if v.fields else Place.UNIT_VARIANT
                variants.append((v, self._annotated(v, place, self._variant_name)))
            self._siblings([k for _, k in variants], marks, owner)
            return ir.Union_(owner, tuple(
                ir.Variant(v.name.text, self._fields(v.fields, decls, f"{owner}.{v.name.text}"), v.doc, **k.values,
                           span=v.name.span)
                for v, k in variants), decl.doc, **marks.values, span=decl.name.span)
        marks = self._annotated(decl, Place.SHAPE, self._field_name)
        self.types.append(marks)
        return ir.Shape(owner, self._fields(decl.fields, decls, owner, marks), decl.doc, **marks.values,
                        span=decl.name.span)

    def _variant_name(self, name: ast.Name) -> None:
        self._type_name(name, "variant")

    def _fields(self, fields: Sequence[ast.Field], decls: dict[str, ast.Decl], owner: str,
                marks: _Marks | None = None) -> tuple[ir.Field, ...]:
        for f in fields:
            self._field_name(f.name)
        self._unique((f.name for f in fields), "field", owner)
        out = []
        judged = []
        for f in fields:
            field_marks = self._annotated(f, Place.FIELD, self._field_name)
            t = self._type(f.type, decls)
            out.append(ir.Field(f.name.text, t, f.doc, **field_marks.values, span=f.name.span))
            if field_marks.default is not None:
                self.defaults.append((t, field_marks.default))
            judged.append(field_marks)
        # A variant's fields are a declaration of their own for names; a shape's reserved names apply to its fields.
        self._siblings(judged, marks if marks is not None else _Marks(ast.Name(owner), "variant"), owner)
        return tuple(out)

    # -- annotations ---------------------------------------------------------------------------------------

    def _annotated(self, item: ast.Item, place: Place, rule: Callable[[ast.Name], None]) -> _Marks:
        """Judge the annotations written on ``item`` (standing at ``place``) one by one. ``rule`` is the naming
        rule of the names its ``@was`` lists (a declaration's is the type rule) and, on a declaration, of the names
        its ``@reserved`` lists (its fields', members' or variants')."""
        noun = _NOUNS[place]
        marks = _Marks(item.name, noun)
        first: dict[str, ast.Annotation] = {}
        for a in item.annotations:
            spec = ann.BY_NAME.get(a.name.text)
            if spec is None:
                close = self._suggest(a.name.text, _ANNOTATION_NAMES)
                self.error("F601", f"unknown annotation `@{a.name.text}`", a.name.span,
                           f"did you mean `@{close}`?" if close else "not an annotation",
                           hint=f"the annotations are {_ALL_ANNOTATIONS}")
                continue
            if place not in spec.places:
                self.error("F602", f"`{spec.spelled}` is not allowed on {place.value}", a.name.span,
                           "not allowed here", hint=f"`{spec.spelled}` goes on {ann.where(spec.places)}")
                continue
            if spec.name in first and not spec.repeatable:
                self.error("F604", f"`{spec.spelled}` appears twice on {noun} `{item.name.text}`", a.name.span,
                           "again here", (Note(first[spec.name].name.span, "first here"),), hint="write it once")
                continue
            first.setdefault(spec.name, a)
            args = self._arguments(a, spec)
            if args is None:
                continue
            if spec.args is Args.NAMES:
                named = self._was_rule(place, rule) if spec.name == "was" else rule
                for arg in args:
                    named(ast.Name(arg.text, arg.span))
                (marks.was if spec.name == "was" else marks.reserved).extend(args)
            elif spec.args is Args.LITERAL:
                marks.values[spec.attribute] = ir.Default(ann.spell(args[0].kind, args[0].text))
                marks.default = args[0]
            elif spec.args is Args.NONE:
                marks.values[spec.attribute] = True
                marks.fallback = a
            else:
                marks.values[spec.attribute] = args[0].text
        for attribute, names in (("was", marks.was), ("reserved", marks.reserved)):
            if names:  # every occurrence's names, in the order written
                marks.values[attribute] = tuple(x.text for x in names)
        return marks

    def _was_rule(self, place: Place, rule: Callable[[ast.Name], None]) -> Callable[[ast.Name], None]:
        """Old names follow the naming rule of the item itself (a declaration's are type names)."""
        if place in ann.DECLARATIONS:
            return self._type_name
        return rule

    def _arguments(self, a: ast.Annotation, spec: ann.Annotation) -> tuple[ast.Argument, ...] | None:
        """The arguments of ``a`` if they are what ``spec`` takes (else an F603 and None)."""
        args = a.args or ()
        wanted = {Args.NAMES: (1, None), Args.LITERAL: (1, 1), Args.NONE: (0, 0), Args.TEXT: (1, 1)}[spec.args]
        strings = spec.args in (Args.NAMES, Args.TEXT)
        bad: tuple[Span | None, str] | None = None
        if len(args) < wanted[0]:
            bad = a.span, "no string" if strings else "no value"
        elif wanted[1] is not None and len(args) > wanted[1]:
            extra = args[wanted[1]]
            bad = extra.span, "not expected" if wanted[1] == 0 else "extra argument"
        elif strings:
            odd = next((x for x in args if x.kind is not Literal.STRING), None)
            if odd is not None:
                bad = odd.span, "not a string"
        if bad is None:
            return args
        self.error("F603", f"`{spec.spelled}` takes {spec.args.value}", bad[0], bad[1],
                   hint=f"write `{spec.example}`")
        return None

    def _siblings(self, items: Sequence[_Marks], owner_marks: _Marks, owner: str) -> None:
        """The checks across the items of one declaration: reserved names, old names, one ``@fallback``."""
        reserved: dict[str, ast.Argument] = {}
        for arg in owner_marks.reserved:
            if arg.text in reserved:
                self.error("F610", f"reserved name `{arg.text}` appears twice in `{owner}`", arg.span, "again here",
                           (Note(reserved[arg.text].span, "first here"),), hint="list it once")
            else:
                reserved[arg.text] = arg
        for item in items:
            if item.name.text in reserved:
                self.error("F608", f"{item.noun} `{item.name.text}` is reserved in `{owner}`", item.name.span,
                           "reserved name", (Note(reserved[item.name.text].span, "reserved here"),),
                           hint="a reserved name is never used again; choose another name")
        self._old_names(items, list(reserved.values()), "", f"`{owner}`")
        fallbacks = [k.fallback for k in items if k.fallback is not None]
        for again in fallbacks[1:]:
            self.error("F605", f"`{owner}` has more than one `@fallback`", again.name.span, "another `@fallback`",
                       (Note(fallbacks[0].name.span, "first here"),),
                       hint="one member or unit variant at most reads what the reader does not know")

    def _old_names(self, items: Sequence[_Marks], reserved: Sequence[ast.Argument], noun: str, scope: str) -> None:
        """Each ``@was`` name of ``items`` is nobody's current name, not reserved, and listed once in ``scope``."""
        current = {k.name.text: k for k in items}
        taken = {r.text: r for r in reserved}
        seen: dict[str, ast.Argument] = {}
        for item in items:
            what = noun or item.noun
            for arg in item.was:
                old = arg.text
                if old in taken:
                    self.error("F608", f"old name `{old}` of {what} `{item.name.text}` is reserved in {scope}",
                               arg.span, "reserved name", (Note(taken[old].span, "reserved here"),),
                               hint="a reserved name is never read again; remove one of the two")
                elif old == item.name.text:
                    self.error("F609", f"old name `{old}` of {what} `{item.name.text}` is its current name", arg.span,
                               "its current name", hint="remove it: an item always matches its current name")
                elif old in current:
                    other = current[old]
                    self.error("F609", f"old name `{old}` of {what} `{item.name.text}` is the name of another "
                               f"{noun or other.noun} in {scope}", arg.span, "a current name",
                               (Note(other.name.span, f"{noun or other.noun} `{old}` is here"),),
                               hint="an old name must not be the name of an item that exists now")
                elif old in seen:
                    self.error("F610", f"old name `{old}` appears twice in {scope}", arg.span, "again here",
                               (Note(seen[old].span, "first here"),),
                               hint="each old name belongs to one item")
                else:
                    seen[old] = arg

    def _judge_defaults(self, schema: ir.Schema) -> None:
        for t, arg in self.defaults:
            problem = ann.default_problem(t, arg.kind, arg.text, schema)
            if problem is None:
                continue
            label = problem.label
            if problem.members and arg.kind is Literal.NAME:
                close = self._suggest(arg.text, problem.members)
                if close:
                    label = f"did you mean `{close}`?"
            self.error(_DEFAULT_CODES[problem.verdict], problem.message, arg.span, label, hint=problem.hint)

    # -- types ---------------------------------------------------------------------------------------------

    def _type(self, t: ast.TypeExpr, decls: dict[str, ast.Decl]) -> ir.Type:
        if isinstance(t, ast.OptionalType):
            if isinstance(t.inner, ast.OptionalType):
                self.error("F209", "optional of an optional", t.span, "second `?`",
                           hint="one `?` is enough: an optional is either present or absent")
                return self._type(t.inner, decls)
            return ir.Optional(self._type(t.inner, decls))
        if isinstance(t, ast.ArrayType):
            lo, hi = self._length_bounds(t.bounds, t.span, "arr", "arr[lo..hi]<T>")
            return ir.Array(lo, hi, self._type(t.item, decls))
        if isinstance(t, ast.MapType):
            lo, hi = self._length_bounds(t.bounds, t.span, "map", "map[lo..hi]<K, V>")
            key = self._type(t.key, decls)
            self._map_key(t.key, key, lo, decls)
            return ir.Map(lo, hi, key, self._type(t.value, decls))
        if isinstance(t, ast.RefType):
            self._resolve(t.target, decls)
            return ir.Ref(t.target.text)
        return self._named(t, decls)

    def _named(self, t: ast.NamedType, decls: dict[str, ast.Decl]) -> ir.Type:
        name = t.name.text
        b = t.bounds
        if name in ir.INT_RANGES:
            tlo, thi = ir.INT_RANGES[name]
            if b is None:
                return ir.Int(name, tlo, thi)
            lo, hi = self._int(b.lo, name), self._int(b.hi, name)
            if lo is None or hi is None:
                return ir.Int(name, tlo, thi)
            for value, num in ((lo, b.lo), (hi, b.hi)):
                if not tlo <= value <= thi:
                    self.error("F206", f"bound {value} is out of range for `{name}`", num.span,
                               f"`{name}` holds {tlo}..{thi}")
            self._ordered(lo, hi, b)
            return ir.Int(name, max(lo, tlo), min(hi, thi))
        if name in ir.FLOAT_WIDTHS:
            width = ir.FLOAT_WIDTHS[name]
            if b is None:
                return ir.Float(width)
            flo, fhi = self._float(b.lo, width), self._float(b.hi, width)
            if flo is None or fhi is None:
                return ir.Float(width)
            self._ordered(flo, fhi, b)
            return ir.Float(width, flo, fhi)
        if name in ("str", "bytes"):
            if b is None:
                return ir.Str() if name == "str" else ir.Bytes()
            lo, hi = self._length_bounds(b, t.span, name, "")
            return ir.Str(lo, hi) if name == "str" else ir.Bytes(lo, hi)
        simple: dict[str, ir.Type] = {"bool": ir.Bool(), "hash": ir.Hash(), "time": ir.Time()}
        if b is not None and (name in simple or name in decls):
            self.error("F203", f"`{name}` takes no bounds", b.span, "bounds not allowed here",
                       hint="bounds apply to str, bytes, integers, floats, arr and map")
        if name in simple:
            return simple[name]
        self._resolve(t.name, decls, foreign.lookup(name))
        return ir.Named(name)

    def _resolve(self, name: ast.Name, decls: dict[str, ast.Decl], other: foreign.Foreign | None = None) -> None:
        """Report ``name`` unless it is declared. ``other`` is what another schema language means by it (a type
        position, not a ``ref<T>``), which is the suggestion unless a declared type differs from it only in case."""
        if name.text in decls:
            return
        label, hint = "unknown type", ""
        if name.text in _PRIMITIVES:
            self.error("F202", f"`ref<{name.text}>` must name a declared type", name.span,
                       "a primitive is not a value with a content id")
            return
        if self.incomplete:
            return
        if other is not None and name.text.lower() not in self.folded:
            self.error("F201", f"unknown type `{name.text}`", name.span, other.label(), hint=other.hint(name.text))
            return
        close = self._suggest(name.text, self.candidates)
        if close:
            label = f"did you mean `{close}`?"
        if not close_enough_name(name.text):
            hint = "type names are PascalCase (declared types) or a primitive such as `str` or `u32`"
        self.error("F201", f"unknown type `{name.text}`", name.span, label, hint=hint)

    def _map_key(self, node: ast.TypeExpr, key: ir.Type, lo: int, decls: dict[str, ast.Decl]) -> None:
        ok = isinstance(key, (ir.Str, ir.Int)) or (
            isinstance(key, ir.Named) and isinstance(decls.get(key.name), ast.EnumDecl))
        if not ok:
            while isinstance(node, ast.OptionalType):
                node = node.inner
            self.error("F210", f"`{ir.type_name(key)}` cannot be a map key", node.span, "map key here",
                       hint="map keys are `str`, an integer type or an enum")
            return
        room: int | None = None
        if isinstance(key, ir.Int):
            room = key.hi - key.lo + 1
        elif isinstance(key, ir.Named):
            enum = decls[key.name]
            assert isinstance(enum, ast.EnumDecl)
            room = len(enum.members)
        if room is not None and lo > room:
            self.error("F212", f"map needs at least {lo} distinct keys but `{ir.type_name(key)}` has {room}",
                       node.span, "too few possible keys")

    # -- bounds --------------------------------------------------------------------------------------------

    def _literal_ok(self, num: ast.Number) -> bool:
        digits = len(num.text.lstrip("-"))
        if digits > MAX_BOUND_DIGITS:
            self.error("F207", f"bound literal has {digits} digits; at most {MAX_BOUND_DIGITS} are allowed",
                       num.span, "literal too long")
            return False
        return True

    def _int(self, num: ast.Number, what: str) -> int | None:
        if not self._literal_ok(num):
            return None
        if not _INTEGER.match(num.text):
            self.error("F208", f"bound `{num.text}` of `{what}` must be an integer", num.span, "not an integer")
            return None
        return int(num.text)

    def _float(self, num: ast.Number, width: int) -> float | None:
        if not self._literal_ok(num):
            return None
        value = float(num.text)
        if width == 32 and math.isfinite(value):
            try:
                struct.pack("<f", value)
            except OverflowError:
                value = math.inf
        if not math.isfinite(value):
            self.error("F211", f"bound `{num.text}` is out of range for `f{width}`", num.span,
                       f"not a finite `f{width}`")
            return None
        return value

    def _ordered(self, lo: float, hi: float, b: ast.Bounds) -> None:
        if lo > hi:
            self.error("F205", f"lower bound {b.lo.text} is greater than upper bound {b.hi.text}", b.span,
                       "inverted bounds", hint=f"write `[{b.hi.text}..{b.lo.text}]`")

    def _length_bounds(self, b: ast.Bounds | None, span: Span | None, what: str, form: str) -> tuple[int, int]:
        if b is None:
            self.error("F204", f"`{what}` needs bounds", span, "no bounds",
                       hint=f"write `{form}` with explicit, inclusive bounds")
            return 0, MAX_LENGTH
        lo, hi = self._int(b.lo, what), self._int(b.hi, what)
        if lo is None or hi is None:
            return 0, MAX_LENGTH
        for value, num in ((lo, b.lo), (hi, b.hi)):
            if not 0 <= value <= MAX_LENGTH:
                self.error("F206", f"length bound {value} is out of range", num.span,
                           f"lengths are 0..{MAX_LENGTH}")
        self._ordered(lo, hi, b)
        return max(0, min(lo, MAX_LENGTH)), max(0, min(hi, MAX_LENGTH))

    # -- recursion -----------------------------------------------------------------------------------------

    def _finite(self, schema: ir.Schema) -> None:
        """Report every type with no finite value (e.g. ``shape A { a: A }``), by a least fixed point."""
        users: dict[str, list[str]] = {d.name: [] for d in schema.decls}
        for d in schema.decls:
            for used in set(ir.references(d)):
                if used in users:
                    users[used].append(d.name)
        ends: set[str] = set()
        work = [d.name for d in schema.decls]
        while work:
            name = work.pop()
            if name in ends or not _can_end(schema[name], schema, ends):
                continue
            ends.add(name)
            work.extend(u for u in users[name] if u not in ends)
        for d in schema.decls:
            if d.name not in ends and all(u in schema for u in ir.references(d)):
                self.error("F401", f"type `{d.name}` can never end", self.spans.get(d.name), "infinite type",
                           hint="every value would contain another without end; make a field optional (`?`), "
                           "an array or map with lower bound 0, or a union variant")


def _field_hint(text: str) -> str:
    words = [w for w in re.split(r"_+", text) if w]
    if not words or not words[0][:1].isalpha():
        return "field names start with a lowercase letter"
    if "_" in text or text.isupper():
        suggestion = "_".join(w.lower() for w in words)
    else:
        suggestion = text[:1].lower() + text[1:]
    if not _FIELD.match(suggestion):
        return "field names start with a lowercase letter"
    return f"field names are camelCase or snake_case: `{suggestion}`"


def close_enough_name(text: str) -> bool:
    """Whether ``text`` is spelled like a type name at all (PascalCase or a primitive)."""
    return bool(_PASCAL.match(text)) or text in _PRIMITIVES


def _can_end(decl: ir.Decl, schema: ir.Schema, ends: set[str]) -> bool:
    if isinstance(decl, ir.Enum):
        return True
    if isinstance(decl, ir.Shape):
        return all(_type_ends(f.type, ends) for f in decl.fields)
    return any(all(_type_ends(f.type, ends) for f in v.fields) for v in decl.variants)


def _type_ends(t: ir.Type, ends: set[str]) -> bool:
    if isinstance(t, ir.Named):
        return t.name in ends
    if isinstance(t, ir.Optional):
        return True
    if isinstance(t, ir.Array):
        return t.lo == 0 or _type_ends(t.item, ends)
    if isinstance(t, ir.Map):
        return t.lo == 0 or (_type_ends(t.key, ends) and _type_ends(t.value, ends))
    return True
