"""Views, the outline: IR + a canonical value -> the sections, bullets and tables the generic template lays out.

Every title, text and cell is already escaped Markdown (:class:`~markupsafe.Markup`); the template only arranges
them. Built lazily, only when a template reads ``outline.root``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

import attrs
from markupsafe import Markup

from fsf import ir
from fsf.fsv.codec import time_to_ns
from fsf.fsv.jsonform import format_time
from fsf.ir.ids import format_id
from fsf.ir.kinds import Kind, is_named_kind, kind_of
from fsf.views.escape import code_span, escape_inline
from fsf.views.model import Blob, map_order


@attrs.frozen
class Entry:
    """One bullet: a field ``name``, its inline Markdown ``text`` (escaped), its ``doc``, and ``items`` (escaped
    inline Markdown, one per nested bullet) for an array of scalars."""

    name: str
    text: Markup
    doc: str = ""
    items: tuple[Markup, ...] = ()


@attrs.frozen
class Table:
    """A table: column names (plain text) and rows of escaped inline Markdown cells."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Markup, ...], ...]


@attrs.frozen
class Section:
    """A heading (``level`` 1-6, ``title`` already escaped), a doc paragraph, a note, bullets, a table and
    sub-sections."""

    level: int
    title: Markup
    doc: str = ""
    note: Markup | None = None
    entries: tuple[Entry, ...] = ()
    table: Table | None = None
    sections: tuple[Section, ...] = ()


_NONE = Markup("*none*")
_ABSENT = Markup("*absent*")


class _Outliner:
    """Builds the :class:`Section` tree of one value; ``inline`` decides, per type, what fits on one line."""

    def __init__(self, schema: ir.Schema) -> None:
        self.schema = schema
        self._inline: dict[str, bool] = {}

    def inline(self, t: ir.Type) -> bool:
        """Whether every value of ``t`` renders as one line of text (scalars, enums, unit-only unions, arrays
        and maps of those)."""
        tk = kind_of(t)
        if tk is Kind.OPTIONAL:
            return self.inline(cast(ir.Optional, t).inner)
        if tk is Kind.ARRAY:
            return self.inline(cast(ir.Array, t).item)
        if tk is Kind.MAP:
            return self.inline(cast(ir.Map, t).value)
        if tk is Kind.NAMED:
            tn = cast(ir.Named, t).name
            if tn not in self._inline:
                decl = self.schema[tn]
                dk = kind_of(decl)
                self._inline[tn] = dk is Kind.ENUM or (
                    dk is Kind.UNION and all(not v.fields for v in cast(ir.Union_, decl).variants))
            return self._inline[tn]
        return True

    def text(self, t: ir.Type, value: Any) -> Markup:
        """The inline Markdown of a value of an inline type."""
        if value is None:
            return _ABSENT
        tk = kind_of(t)
        if tk is Kind.OPTIONAL:
            return self.text(cast(ir.Optional, t).inner, value)
        if tk is Kind.ARRAY:
            if not value:
                return _NONE
            item = cast(ir.Array, t).item
            return Markup(", ".join(self._nested(item, v) for v in value))
        if tk is Kind.MAP:
            if not value:
                return _NONE
            m = cast(ir.Map, t)
            order = map_order(self.schema, m.key)
            return Markup(", ".join(f"{self._key(k)}: {self._nested(m.value, value[k])}"
                                    for k in sorted(value, key=order)))
        if tk is Kind.BOOL:
            return Markup("true" if value else "false")
        if tk is Kind.INT or tk is Kind.FLOAT:
            return Markup(escape_inline(repr(value) if isinstance(value, float) else str(int(value))))
        if tk is Kind.STR:
            return Markup(escape_inline(value))
        if tk is Kind.BYTES:
            return Markup(code_span(str(Blob(bytes(value)))) or "*empty*")
        if tk is Kind.HASH:
            return Markup(code_span(format_id(bytes(value))))
        if tk is Kind.TIME:
            return Markup(escape_inline(format_time(time_to_ns(value))))
        if tk is Kind.REF:
            return Markup(code_span(str(value)))
        if tk is Kind.NAMED and isinstance(value, dict):
            return Markup(escape_inline(next(iter(value))))
        return Markup(escape_inline(str(value)))

    def _nested(self, t: ir.Type, value: Any) -> str:
        text = self.text(t, value)
        inner = cast(ir.Optional, t).inner if kind_of(t) is Kind.OPTIONAL else t
        ik = kind_of(inner)
        return f"[{text}]" if (ik is Kind.ARRAY or ik is Kind.MAP) and value else str(text)

    def _key(self, key: Any) -> str:
        return code_span(key if isinstance(key, str) else str(key))

    def section(self, level: int, title: Markup, doc: str, t: ir.Type, value: Any) -> Section:
        """The section of a value of a non-inline type (or of the root)."""
        level = min(level, 6)
        if value is None:
            return Section(level, title, doc, note=_ABSENT)
        tk = kind_of(t)
        if tk is Kind.OPTIONAL:
            return self.section(level, title, doc, cast(ir.Optional, t).inner, value)
        if tk is Kind.NAMED:
            decl = self.schema[cast(ir.Named, t).name]
            doc = doc or decl.doc
            dk = kind_of(decl)
            if dk is Kind.SHAPE:
                return self._record(level, title, doc, cast(ir.Shape, decl).fields, value)
            if dk is Kind.UNION:
                ((name, body),) = value.items()
                variant = next(v for v in cast(ir.Union_, decl).variants if v.name == name)
                return self._record(level, Markup(f"{title}: {escape_inline(name)}"), doc or variant.doc,
                                    variant.fields, body or {})
        if tk is Kind.ARRAY:
            arr = cast(ir.Array, t)
            if not value:
                return Section(level, title, doc, note=_NONE)
            table = self._table(arr.item, (("", v) for v in value), keyed=False)
            if table is not None:
                return Section(level, title, doc, table=table)
            return Section(level, title, doc, sections=tuple(
                self.section(level + 1, Markup(f"{title}[{i}]"), "", arr.item, v) for i, v in enumerate(value)))
        if tk is Kind.MAP:
            m = cast(ir.Map, t)
            if not value:
                return Section(level, title, doc, note=_NONE)
            keys = sorted(value, key=map_order(self.schema, m.key))
            table = self._table(m.value, ((k, value[k]) for k in keys), keyed=True)
            if table is not None:
                return Section(level, title, doc, table=table)
            return Section(level, title, doc, sections=tuple(
                self.section(level + 1, Markup(f"{title}[{escape_inline(json.dumps(k, ensure_ascii=False))}]"), "",
                             m.value, value[k])
                for k in keys))
        return Section(level, title, doc, entries=(Entry("value", self.text(t, value)),))

    def _record(self, level: int, title: Markup, doc: str, fields: tuple[ir.Field, ...],
                value: dict[str, Any]) -> Section:
        entries: list[Entry] = []
        sections: list[Section] = []
        for f in fields:
            v = value.get(f.name)
            if self.inline(f.type) or v is None:
                entries.append(self._entry(f, v))
            else:
                sections.append(self.section(level + 1, Markup(escape_inline(f.name)), f.doc, f.type, v))
        return Section(level, title, doc, entries=tuple(entries), sections=tuple(sections))

    def _entry(self, f: ir.Field, v: Any) -> Entry:
        t = cast(ir.Optional, f.type).inner if kind_of(f.type) is Kind.OPTIONAL else f.type
        if kind_of(t) is Kind.ARRAY and v and self.inline(cast(ir.Array, t).item):
            item = cast(ir.Array, t).item
            return Entry(f.name, Markup(""), _one_line(f.doc), tuple(Markup(self._nested(item, x)) for x in v))
        return Entry(f.name, self.text(f.type, v), _one_line(f.doc))

    def _table(self, item: ir.Type, rows: Iterable[tuple[Any, Any]], keyed: bool) -> Table | None:
        """A table for items that are shapes of inline fields, else None (sections only hold non-inline items)."""
        head = ("key",) if keyed else ()
        if not is_named_kind(self.schema, item, Kind.SHAPE):
            return None
        decl = cast(ir.Shape, self.schema[cast(ir.Named, item).name])
        if not all(self.inline(f.type) for f in decl.fields):
            return None
        return Table((*head, *(f.name for f in decl.fields)), tuple(
            (*((Markup(self._key(k)),) if keyed else ()), *(self.text(f.type, v.get(f.name)) for f in decl.fields))
            for k, v in rows))


def _one_line(doc: str) -> str:
    return " ".join(doc.split())


def outline(schema: ir.Schema, name: str, value: Any) -> Section:
    """The generic view's structure of a valid ``value`` of the named type ``name``."""
    return _Outliner(schema).section(1, Markup(escape_inline(name)), "", ir.Named(name), value)

