"""Check: AST modules (a file and its imports) -> IR schema, or a SchemaError listing every problem.

Every pass is linear in the schema's size and iterative over the declaration graph, so long chains and
exponential fan-out of shapes cost no more than their text.
"""

from __future__ import annotations

import difflib
import math
import re
import struct
from collections.abc import Iterable, Sequence

from fsf import ir
from fsf.errors import Diagnostic, Note, SchemaError, Span
from fsf.front import ast

MAX_BOUND_DIGITS = 40
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
        resolved = [self._decl(d, decls) for d in decls.values()]
        for d in duplicates:  # judged too, so that one run reports the problems inside them as well
            self._decl(d, decls)
        schema = ir.Schema(tuple(sorted(resolved, key=lambda d: d.name)))
        self._finite(schema)
        return schema

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
            for m in decl.members:
                if self._ascii(m.name) and not _MEMBER.match(m.name.text):
                    self.error("F102", f"enum member `{m.name.text}` does not start with a letter", m.name.span,
                               "not a member name", hint="enum members start with a letter A-Z or a-z")
            self._unique((m.name for m in decl.members), "member", owner)
            return ir.Enum(owner, tuple(ir.Member(m.name.text, m.doc) for m in decl.members), decl.doc)
        if isinstance(decl, ast.UnionDecl):
            for v in decl.variants:
                self._type_name(v.name, "variant")
            self._unique((v.name for v in decl.variants), "variant", owner)
            variants = tuple(
                ir.Variant(v.name.text, self._fields(v.fields, decls, f"{owner}.{v.name.text}"), v.doc)
                for v in decl.variants
            )
            return ir.Union_(owner, variants, decl.doc)
        return ir.Shape(owner, self._fields(decl.fields, decls, owner), decl.doc)

    def _fields(self, fields: Sequence[ast.Field], decls: dict[str, ast.Decl], owner: str) -> tuple[ir.Field, ...]:
        for f in fields:
            if self._ascii(f.name) and not _FIELD.match(f.name.text):
                self.error("F102", f"field name `{f.name.text}` is neither camelCase nor snake_case", f.name.span,
                           "not a field name", hint=_field_hint(f.name.text))
        self._unique((f.name for f in fields), "field", owner)
        return tuple(ir.Field(f.name.text, self._type(f.type, decls), f.doc) for f in fields)

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
        self._resolve(t.name, decls)
        return ir.Named(name)

    def _resolve(self, name: ast.Name, decls: dict[str, ast.Decl]) -> None:
        if name.text in decls:
            return
        label, hint = "unknown type", ""
        if name.text in _PRIMITIVES:
            self.error("F202", f"`ref<{name.text}>` must name a declared type", name.span,
                       "a primitive is not a value with a content id")
            return
        if self.incomplete:
            return
        if self.budget > 0:
            self.budget -= len(self.candidates)
            close = difflib.get_close_matches(name.text, self.candidates, n=1, cutoff=0.6)
            if close:
                label = f"did you mean `{close[0]}`?"
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
