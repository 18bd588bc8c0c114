"""Format: .fsf text -> the same schema in the one canonical layout, every comment kept, every id unchanged.

Works from the AST and the comments the parser collects. The layout:

- two-space indentation; every shape, enum, union and variant body one entry per line, each with a trailing
  comma; an empty body is ``{}`` and a unit variant is just its name;
- types spelled canonically (``arr[0..8]<T>``, ``map[0..8]<K, V>``, ``ref<T>``, ``T?``), bound literals as
  written (so a bound's value, and with it every id, never changes);
- one blank line between top-level declarations; elsewhere a blank line is kept where the source had one
  (at most one), never right after ``{`` or before ``}``;
- a comment on its own line stays on its own line before the entry that follows it; a comment after code
  stays at the end of the line of the entry (or closing brace) it follows. Comment text is kept verbatim
  (trailing blanks trimmed);
- annotations one per line after the doc comment and before the entry, indented like it, in the order of the
  table of :mod:`fsf.ir.annotations` (``was, default, fallback, reserved, deprecated``; unknown ones last, as
  written); the occurrences of a repeatable one (``@was("a") @was("b")``) merge into one (``@was("a", "b")``).
  A comment among the annotations stays with the annotation it follows (on its line, or on its own lines
  below it), so that nothing comes between a doc comment and the first annotation.

The result is checked by parsing it again: same declarations (annotations in that canonical form), same doc
comments, same comments.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs

from fsf.errors import FsfError, Source, Span
from fsf.front import ast
from fsf.front.parse import parse
from fsf.ir.annotations import BY_NAME, ORDER, Args, quote, spell

INDENT = "  "
_BLANK = re.compile(r"[ \t\r\n\f]*\Z")


def format_source(text: str, filename: str = "<memory>") -> str:
    """The canonical layout of ``text``. Raises :class:`fsf.SchemaError` if it does not parse.

    >>> format_source("shape A{a:arr[0..2]<str>}")
    'shape A {\\n  a: arr[0..2]<str>,\\n}\\n'
    """
    module = parse(Source(filename, text))
    out = _Formatter(module).run()
    again = parse(Source(filename, out))
    if (again.imports, canonical_decls(again.decls)) != (module.imports, canonical_decls(module.decls)) or (
            _texts(again) != _texts(module)):
        raise FsfError(f"internal error: formatting `{filename}` would change its meaning; please report this file")
    return out


def canonical(annotations: Sequence[ast.Annotation]) -> list[tuple[ast.Annotation, list[int]]]:
    """``annotations`` as ``fsf fmt`` writes them, each with the indices of the written ones it stands for.

    In the order of the table (unknown names last), written order within a name; every occurrence of a
    repeatable annotation that has arguments merges into the first (arguments in written order); ``@fallback()``
    is ``@fallback``. Anything the checker would refuse (a bare ``@was``, a second ``@default``) is kept as it
    is, so formatting never hides an error.
    """
    groups: list[list[Any]] = []  # [rank, first index, annotation, indices, merged arguments or None]
    merged: dict[str, list[Any]] = {}
    for i, a in enumerate(annotations):
        spec = BY_NAME.get(a.name.text)
        if spec is not None and spec.args is Args.NONE and a.args == ():
            a = attrs.evolve(a, args=None)  # `@fallback()` is `@fallback`
        if spec is not None and spec.repeatable and a.args:
            group = merged.get(spec.name)
            if group is not None:
                group[3].append(i)
                group[4].extend(a.args)
                continue
            group = merged[spec.name] = [ORDER[spec.name], i, a, [i], list(a.args)]
            groups.append(group)
            continue
        groups.append([ORDER.get(a.name.text, len(ORDER)), i, a, [i], None])
    groups.sort(key=lambda g: (g[0], g[1]))
    return [(g[2] if g[4] is None or len(g[3]) == 1 else attrs.evolve(g[2], args=tuple(g[4])), g[3]) for g in groups]


def canonical_decls(decls: Sequence[ast.Decl]) -> tuple[ast.Decl, ...]:
    """``decls`` with every item's annotations in their canonical form (what formatting must keep)."""
    return tuple(_canonical_item(d) for d in decls)


def _canonical_item(item: Any) -> Any:
    changes: dict[str, Any] = {"annotations": tuple(a for a, _ in canonical(item.annotations))}
    for part in ("fields", "members", "variants"):
        if hasattr(item, part):
            changes[part] = tuple(_canonical_item(x) for x in getattr(item, part))
    return attrs.evolve(item, **changes)


def _texts(module: ast.Module) -> Counter[str]:
    return Counter(c.text.rstrip() for c in module.comments)


@attrs.define
class _Node:
    """An entry of the layout (import, declaration, field, member or variant, or an annotation of one) and the
    comments placed on it.

    ``start`` is where it begins in the source (its first annotation, else for a declaration its keyword) and
    ``head`` where the entry itself begins (its keyword or name). A node with a body also has ``open``/``close``,
    the offsets of its braces, and ``children`` in source order. ``annotations`` are nodes in source order (each
    with ``after``: the own-line comments that follow it), ``slots`` the same in the canonical order (set by
    ``_settle``).
    """

    item: object
    start: int
    anchor: int
    head: int = -1
    open: int = -1
    close: int = -1
    children: list[_Node] = attrs.field(factory=list)
    leading: list[ast.Comment] = attrs.field(factory=list)
    trailing: list[ast.Comment] = attrs.field(factory=list)
    dangling: list[ast.Comment] = attrs.field(factory=list)
    closing: list[ast.Comment] = attrs.field(factory=list)
    annotations: list[_Node] = attrs.field(factory=list)
    slots: list[_Node] = attrs.field(factory=list)
    after: list[ast.Comment] = attrs.field(factory=list)

    @property
    def has_body(self) -> bool:
        return self.open >= 0


class _Formatter:
    def __init__(self, module: ast.Module) -> None:
        self.module = module
        self.text = module.source.text
        self.starts = module.source.line_starts()
        self.lines: list[str] = []
        self.starts_of: dict[int, list[int]] = {}  # container (or annotation list) id -> starts, for bisect
        self.comment_ends = {c.offset + len(c.text.rstrip(" \t\r\f\ufeff")): c for c in module.comments}
        items: list[ast.Import | ast.Decl] = [*module.imports, *module.decls]
        children = sorted((self._node(i) for i in items), key=lambda n: n.start)
        self.root = _Node(module, -1, -1, open=-1, close=len(self.text) + 1, children=children)
        self._place_comments()

    # -- structure -----------------------------------------------------------------------------------------

    def _offset(self, span: Span | None) -> int:
        assert span is not None
        return self.starts[span.line - 1] + span.column - 1

    def _node(self, item: ast.Import | ast.Decl) -> _Node:
        if isinstance(item, ast.Import):
            at = self._offset(item.span)
            start = self._keyword_start(at, "import")
            return _Node(item, start, at, start)
        name = self._offset(item.name.span)
        keyword = {ast.ShapeDecl: "shape", ast.EnumDecl: "enum", ast.UnionDecl: "union"}[type(item)]
        start = self._keyword_start(name, keyword)
        node = self._annotated(_Node(item, start, name, start), item.annotations)
        node.open, node.close = self._braces(name)
        if isinstance(item, ast.ShapeDecl):
            node.children = [self._leaf(f, f.name) for f in item.fields]
        elif isinstance(item, ast.EnumDecl):
            node.children = [self._leaf(m, m.name) for m in item.members]
        else:
            node.children = [self._variant(v) for v in item.variants]
        return node

    def _leaf(self, item: ast.Field | ast.Member | ast.Variant, name: ast.Name) -> _Node:
        at = self._offset(name.span)
        return self._annotated(_Node(item, at, at, at), item.annotations)

    def _annotated(self, node: _Node, annotations: ast.Annotations) -> _Node:
        for a in annotations:
            at = self._offset(a.span)
            node.annotations.append(_Node(a, at, at, at))
        if node.annotations:
            node.start = node.annotations[0].start
        return node

    def _variant(self, variant: ast.Variant) -> _Node:
        node = self._leaf(variant, variant.name)
        after = self._skip_blank_and_comments(node.anchor + len(variant.name.text))
        if self.text.startswith("{", after):
            node.open, node.close = self._braces(after)
            node.children = [self._leaf(f, f.name) for f in variant.fields]
        return node

    def _keyword_start(self, name_at: int, keyword: str) -> int:
        """The offset of the keyword before a declaration's name (or an import's path), across comments."""
        at = name_at
        while True:
            while at > 0 and self.text[at - 1] in " \t\r\n\f\ufeff":
                at -= 1
            comment = self.comment_ends.get(at)
            if comment is None:
                break
            at = comment.offset
        return at - len(keyword) if self.text.startswith(keyword, at - len(keyword)) else name_at

    def _skip_blank_and_comments(self, at: int) -> int:
        text = self.text
        while at < len(text):
            if text[at] in " \t\r\n\f\ufeff":
                at += 1
            elif text.startswith("//", at):
                end = text.find("\n", at)
                at = len(text) if end < 0 else end
            else:
                break
        return at

    def _braces(self, at: int) -> tuple[int, int]:
        """The offsets of the first ``{`` from ``at`` and of its matching ``}`` (skipping comments)."""
        text, depth, opened = self.text, 0, -1
        while at < len(text):
            ch = text[at]
            if ch == "/" and text.startswith("//", at):
                end = text.find("\n", at)
                at = len(text) if end < 0 else end
                continue
            if ch == "{":
                depth += 1
                if opened < 0:
                    opened = at
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return opened, at
            at += 1
        raise AssertionError("a parsed declaration has balanced braces")

    # -- comments ------------------------------------------------------------------------------------------

    def _place_comments(self) -> None:
        anchors: list[tuple[int, bool, _Node]] = []  # (offset, is a closing brace, node)
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node is not self.root:
                anchors.append((node.anchor, False, node))
            anchors.extend((a.anchor, False, a) for a in node.annotations)
            if node.has_body and node is not self.root:
                anchors.append((node.close, True, node))
            stack.extend(node.children)
        anchors.sort(key=lambda a: a[0])
        offsets = [a[0] for a in anchors]
        tops = [n.start for n in self.root.children]
        for c in self.module.comments:
            top = bisect.bisect_left(tops, c.offset) - 1
            if top >= 0 and self.root.children[top].head <= c.offset < self.root.children[top].anchor:
                self.root.children[top].trailing.append(c)  # between a keyword and its name
                continue
            i = bisect.bisect_left(offsets, c.offset) - 1
            if c.own_line or i < 0:
                self._place_own_line(c)
                continue
            _, is_close, node = anchors[i]
            (node.closing if is_close else node.trailing).append(c)
        self._settle(self.root)

    def _settle(self, root: _Node) -> None:
        """Put comments where a second run would find them, so that formatting is idempotent.

        A line holds one trailing comment; any further ones are printed on their own lines below it, where the
        next run sees them as leading comments of the next entry (or the end of the body), so that is where
        they go now. A ``///`` comment that would come to document an entry it did not document in the
        source goes to the end of its body (before ``}``, where it documents nothing): docs never change.
        """
        stack = [root]
        while stack:
            container = stack.pop()
            children = container.children
            for i, node in enumerate(children):
                self._settle_annotations(node, container)
                if not node.children and not node.dangling:  # printed on one line: closers join the trailers
                    node.trailing.extend(node.closing)
                    node.closing = []
                extra = [*node.trailing[1:], *node.closing[1:]]
                del node.trailing[1:], node.closing[1:]
                (children[i + 1].leading if i + 1 < len(children) else container.dangling).extend(extra)
            for node in children:
                node.leading.sort(key=lambda c: c.offset)
                orphans: list[ast.Comment] = []
                attached, follow = True, node.start
                for c in reversed(node.leading):  # only the final run of `///` lines would document the node
                    if not c.text.startswith("///"):
                        break
                    attached = attached and c.own_line and bool(_BLANK.match(self.text, c.offset + len(c.text),
                                                                             follow))
                    if not attached:
                        orphans.append(c)
                    follow = c.offset
                if orphans:
                    container.dangling.extend(orphans)
                    node.leading = [c for c in node.leading if c not in orphans]
                stack.append(node)
            container.dangling.sort(key=lambda c: c.offset)

    def _settle_annotations(self, node: _Node, container: _Node) -> None:
        """The annotations of ``node`` in their canonical slots, each with the comments of the ones it merges.

        As for entries, a line holds one trailing comment; further ones go on their own lines below it, where
        the next run finds them, except ``///`` ones, which go to the end of the body: on their own lines among
        annotations they would be an error (``F017``).
        """
        if not node.annotations:
            return
        assert isinstance(node.item, (ast.Field, ast.Member, ast.Variant, ast.ShapeDecl, ast.EnumDecl, ast.UnionDecl))
        for annotation, indices in canonical(node.item.annotations):
            parts = [node.annotations[i] for i in indices]
            slot = _Node(annotation, parts[0].start, parts[0].anchor)
            trailing = [c for p in parts for c in p.trailing]
            slot.trailing = trailing[:1]
            container.dangling.extend(c for c in trailing[1:] if c.text.startswith("///"))
            slot.after = sorted([*(c for p in parts for c in p.after),
                                 *(c for c in trailing[1:] if not c.text.startswith("///"))], key=lambda c: c.offset)
            node.slots.append(slot)

    def _place_own_line(self, c: ast.Comment) -> None:
        container = self.root
        while True:
            starts = self.starts_of.get(id(container))
            if starts is None:
                starts = self.starts_of[id(container)] = [n.start for n in container.children]
            i = bisect.bisect_left(starts, c.offset)
            inner = container.children[i - 1] if i > 0 else None
            if inner is not None and inner.annotations and c.offset < inner.head:  # among its annotations
                at = self.starts_of.get(id(inner.annotations))
                if at is None:
                    at = self.starts_of[id(inner.annotations)] = [a.start for a in inner.annotations]
                inner.annotations[bisect.bisect_left(at, c.offset) - 1].after.append(c)
                return
            if inner is not None and inner.has_body and inner.open < c.offset < inner.close:
                container = inner
                continue
            if i < len(container.children):
                container.children[i].leading.append(c)
            else:
                container.dangling.append(c)
            return

    def _blank_before(self, at: int) -> bool:
        """Whether the source has an empty line right before offset ``at``."""
        i, newlines = at - 1, 0
        while i >= 0 and self.text[i] in " \t\r\n\f":
            newlines += self.text[i] == "\n"
            if newlines >= 2:
                return True
            i -= 1
        return False

    # -- output --------------------------------------------------------------------------------------------

    def run(self) -> str:
        previous: _Node | None = None
        for node in self.root.children:
            first = node.leading[0].offset if node.leading else node.start
            force = previous is not None and not (
                isinstance(node.item, ast.Import) and isinstance(previous.item, ast.Import))
            self._entry(node, 0, force or (previous is not None and self._blank_before(first)))
            previous = node
        self._comments(self.root.dangling, 0, first_in_body=previous is None)
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def _line(self, depth: int, text: str, blank: bool = False) -> None:
        if blank and self.lines and self.lines[-1]:
            self.lines.append("")
        self.lines.append(INDENT * depth + text)

    def _comments(self, comments: list[ast.Comment], depth: int, first_in_body: bool, blank: bool = False,
                  keep_blanks: bool = True) -> None:
        for k, c in enumerate(comments):
            gap = (blank if k == 0 else False) or (keep_blanks and self._blank_before(c.offset) and not (
                first_in_body and k == 0))
            self._line(depth, c.text.rstrip(), gap)

    def _with_trailing(self, depth: int, text: str, trailing: list[ast.Comment], blank: bool) -> None:
        self._line(depth, text + (f" {trailing[0].text.rstrip()}" if trailing else ""), blank)
        for extra in trailing[1:]:
            self._line(depth, extra.text.rstrip())

    def _entry(self, node: _Node, depth: int, blank: bool, first_in_body: bool = False) -> None:
        self._comments(node.leading, depth, first_in_body, blank)
        blank_item = (blank and not node.leading) or (self._blank_before(node.start) and not (
            first_in_body and not node.leading))
        for slot in node.slots:  # no blank line among the annotations or between them and the entry
            self._with_trailing(depth, _annotation(slot.item), slot.trailing, blank_item)
            self._comments(slot.after, depth, first_in_body, keep_blanks=False)
            blank_item = False
        item = node.item
        if isinstance(item, ast.Import):
            self._with_trailing(depth, f"import {_string(item.path)}", node.trailing, blank_item)
        elif isinstance(item, (ast.Field, ast.Member)):
            text = item.name.text + (f": {_type(item.type)}" if isinstance(item, ast.Field) else "")
            self._with_trailing(depth, text + ",", node.trailing, blank_item)
        elif isinstance(item, ast.Variant) and not item.fields and not (node.children or node.dangling):
            self._with_trailing(depth, f"{item.name.text},", node.trailing, blank_item)
        else:
            head = {ast.ShapeDecl: "shape ", ast.EnumDecl: "enum ", ast.UnionDecl: "union "}.get(type(item), "")
            assert isinstance(item, (ast.ShapeDecl, ast.EnumDecl, ast.UnionDecl, ast.Variant))
            comma = "," if isinstance(item, ast.Variant) else ""
            if not node.children and not node.dangling:
                self._with_trailing(depth, f"{head}{item.name.text} {{}}{comma}", node.trailing, blank_item)
                return
            self._with_trailing(depth, f"{head}{item.name.text} {{", node.trailing, blank_item)
            for k, child in enumerate(node.children):
                self._entry(child, depth + 1, False, first_in_body=k == 0)
            self._comments(node.dangling, depth + 1, first_in_body=not node.children)
            self._with_trailing(depth, "}" + comma, node.closing, False)


def _string(path: str) -> str:
    return quote(path)


def _annotation(a: object) -> str:
    assert isinstance(a, ast.Annotation)
    args = "" if a.args is None else "(" + ", ".join(spell(x.kind, x.text) for x in a.args) + ")"
    return f"@{a.name.text}{args}"


def _bounds(b: ast.Bounds | None) -> str:
    return "" if b is None else f"[{b.lo.text}..{b.hi.text}]"


def _type(t: ast.TypeExpr) -> str:
    """The canonical spelling of a type expression (nesting is capped by the parser, so recursion is safe)."""
    if isinstance(t, ast.OptionalType):
        return _type(t.inner) + "?"
    if isinstance(t, ast.ArrayType):
        return f"arr{_bounds(t.bounds)}<{_type(t.item)}>"
    if isinstance(t, ast.MapType):
        return f"map{_bounds(t.bounds)}<{_type(t.key)}, {_type(t.value)}>"
    if isinstance(t, ast.RefType):
        return f"ref<{t.target.text}>"
    return t.name.text + _bounds(t.bounds)
