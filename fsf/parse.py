"""Parse: .fsf text -> AST module (fsf.ast), or a SchemaError with every syntax-level diagnostic.

The Lark grammar lives in ``grammar/fsf.lark``. The parser is built once and cached. Tree building is
iterative, so hostile nesting costs memory proportional to the input and never a RecursionError.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from fsf import ast
from fsf.errors import Diagnostic, SchemaError, Source, Span, span_at

MAX_SOURCE_BYTES = 1 << 20
"""A schema file larger than this (1 MiB) is refused before parsing."""

MAX_TYPE_DEPTH = 64
"""Type expressions nested deeper than this are refused (``arr<arr<...>>``)."""

_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*')

# Display names of the grammar's terminals, for syntax messages.
_TERMINALS = {
    "_LBRACE": "`{`", "_RBRACE": "`}`", "_LT": "`<`", "_GT": "`>`", "_LSQB": "`[`", "_RSQB": "`]`",
    "_COMMA": "`,`", "_COLON": "`:`", "_DOTDOT": "`..`", "QMARK": "`?`", "NAME": "a name",
    "NUMBER": "a number", "STRING": "a string", "ARR": "`arr`", "MAP": "`map`", "_REF": "`ref`",
    "_IMPORT": "`import`", "_SHAPE": "`shape`", "_ENUM": "`enum`", "_UNION": "`union`", "$END": "end of file",
}
_TYPE_STARTS = {"NAME", "ARR", "MAP", "_REF"}


@functools.cache
def _parser() -> Any:
    import lark  # lazily: loading a compiled .fsb must not import lark

    from fsf._resources import resource_dir

    grammar = (resource_dir("grammar") / "fsf.lark").read_text(encoding="utf-8")
    return lark.Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


def parse(source: Source) -> ast.Module:
    """Parse one file. Raises :class:`SchemaError` with every problem found before the first syntax error.

    >>> parse(Source("<memory>", "shape A { id: str }")).decls[0].name.text
    'A'
    """
    size = len(source.text.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise SchemaError([Diagnostic(
            "F001", f"schema file is {size} bytes; the limit is {MAX_SOURCE_BYTES}", Span(source, 1, 1),
            hint="split the schema into several files joined by `import`",
        )])
    problems = [
        Diagnostic("F002", f"bidirectional control character U+{ord(m.group()):04X} in schema text",
                   span_at(source, m.start()), "this character can make the text read differently than it parses",
                   hint="remove it; schema files must read the same in every editor")
        for m in _BIDI.finditer(source.text)
    ]
    import lark

    try:
        tree = _parser().parse(source.text)
    except lark.exceptions.UnexpectedInput as err:
        problems.append(_syntax_diagnostic(source, err))
        raise SchemaError(problems) from None
    too_deep = _too_deep(tree, source)
    if too_deep is not None:
        problems.append(too_deep)
    if problems:
        raise SchemaError(problems)
    return _Builder(source).module(tree)


def _syntax_diagnostic(source: Source, err: Any) -> Diagnostic:
    import lark

    if isinstance(err, lark.exceptions.UnexpectedCharacters):
        pos = int(err.pos_in_stream or 0)
        ch = source.text[pos]
        shown = f"`{ch}`" if ch.isprintable() else f"U+{ord(ch):04X}"
        return Diagnostic("F010", f"unexpected character {shown}", span_at(source, pos))
    token = getattr(err, "token", None)
    kind = token.type if token is not None else "$END"
    expected = set(getattr(err, "expected", ()) or ())
    if kind == "$END" or token is None or getattr(token, "start_pos", None) is None:
        span = span_at(source, len(source.text.rstrip()))
        found = "end of file"
    else:
        span = span_at(source, token.start_pos, len(token.value))
        found = f"`{token.value}`"
    if "_GT" in expected and kind != "_GT":
        return Diagnostic("F011", "missing `>` after the element type", span, f"expected `>` before {found}")
    if "_RBRACE" in expected and kind == "$END":
        return Diagnostic("F012", "missing `}` at end of file", span, "the last declaration is not closed")
    if "_COMMA" in expected and "_RBRACE" in expected and kind == "NAME":
        return Diagnostic("F013", f"missing `,` before {found}", span, "fields, members and variants are separated by `,`")
    if expected & _TYPE_STARTS and not expected - _TYPE_STARTS - {"_GT"}:
        return Diagnostic("F014", f"expected a type, found {found}", span, "a type goes here")
    wanted = ", ".join(sorted(_TERMINALS.get(t, t) for t in expected))
    return Diagnostic("F015", f"unexpected {found}", span, f"expected {wanted}" if wanted else "")


def _too_deep(tree: Any, source: Source) -> Diagnostic | None:
    import lark

    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in ("array", "map", "optional", "ref", "named"):
            depth += 1
            if depth > MAX_TYPE_DEPTH:
                return Diagnostic(
                    "F016", f"type nested more than {MAX_TYPE_DEPTH} levels deep",
                    span_at(source, node.meta.start_pos), "too deep here",
                    hint="name the inner part as a shape of its own")
        stack.extend((child, depth) for child in node.children if isinstance(child, lark.Tree))
    return None


class _Builder:
    """Turns a Lark parse tree into AST nodes, bottom-up with an explicit stack (no recursion)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.comments = _comments(source.text)
        self.docs = _doc_groups(source.text, self.comments)
        self.rules: dict[str, Callable[[Any, list[Any]], Any]] = {
            "start": self._start, "import_decl": self._import, "shape_decl": self._shape,
            "enum_decl": self._enum, "union_decl": self._union, "field": self._field, "member": self._member,
            "variant": self._variant, "optional": self._optional, "named": self._named, "array": self._array,
            "map": self._map, "ref": self._ref, "bounds": self._bounds,
        }

    def module(self, tree: Any) -> ast.Module:
        import lark

        done: list[Any] = []
        stack: list[tuple[Any, bool]] = [(tree, False)]
        while stack:
            node, expanded = stack.pop()
            if not isinstance(node, lark.Tree):
                done.append(node)
            elif expanded:
                count = len(node.children)
                children = done[len(done) - count:] if count else []
                del done[len(done) - count:]
                done.append(self.rules[node.data](node, children))
            else:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(node.children))
        result = done.pop()
        assert isinstance(result, ast.Module)
        return result

    def _span(self, start: int, end: int | None = None) -> Span:
        length = 1 if end is None else max(1, end - start)
        return span_at(self.source, start, length)

    def _name(self, token: Any) -> ast.Name:
        return ast.Name(str(token), span_at(self.source, token.start_pos, len(token)))

    def _doc(self, offset: int) -> str:
        return self.docs.get(offset, "")

    def _start(self, node: Any, children: list[Any]) -> ast.Module:
        imports = tuple(c for c in children if isinstance(c, ast.Import))
        decls = tuple(c for c in children if not isinstance(c, ast.Import))
        return ast.Module(self.source, imports, decls, self.comments)

    def _import(self, node: Any, children: list[Any]) -> ast.Import:
        token = children[0]
        text = re.sub(r"\\(.)", r"\1", str(token)[1:-1])
        return ast.Import(text, self._span(token.start_pos, token.end_pos))

    def _shape(self, node: Any, children: list[Any]) -> ast.ShapeDecl:
        return ast.ShapeDecl(self._name(children[0]), tuple(children[1:]), self._doc(node.meta.start_pos))

    def _enum(self, node: Any, children: list[Any]) -> ast.EnumDecl:
        return ast.EnumDecl(self._name(children[0]), tuple(children[1:]), self._doc(node.meta.start_pos))

    def _union(self, node: Any, children: list[Any]) -> ast.UnionDecl:
        return ast.UnionDecl(self._name(children[0]), tuple(children[1:]), self._doc(node.meta.start_pos))

    def _field(self, node: Any, children: list[Any]) -> ast.Field:
        return ast.Field(self._name(children[0]), children[1], self._doc(node.meta.start_pos))

    def _member(self, node: Any, children: list[Any]) -> ast.Member:
        return ast.Member(self._name(children[0]), self._doc(node.meta.start_pos))

    def _variant(self, node: Any, children: list[Any]) -> ast.Variant:
        return ast.Variant(self._name(children[0]), tuple(children[1:]), self._doc(node.meta.start_pos))

    def _optional(self, node: Any, children: list[Any]) -> ast.OptionalType:
        qmark = children[1]
        return ast.OptionalType(children[0], self._span(qmark.start_pos))

    def _named(self, node: Any, children: list[Any]) -> ast.NamedType:
        bounds = children[1] if len(children) > 1 else None
        return ast.NamedType(self._name(children[0]), bounds, self._span(node.meta.start_pos, node.meta.end_pos))

    def _array(self, node: Any, children: list[Any]) -> ast.ArrayType:
        bounds = children[1] if len(children) == 3 else None
        return ast.ArrayType(bounds, children[-1], self._span(children[0].start_pos, children[0].end_pos))

    def _map(self, node: Any, children: list[Any]) -> ast.MapType:
        bounds = children[1] if len(children) == 4 else None
        return ast.MapType(bounds, children[-2], children[-1], self._span(children[0].start_pos, children[0].end_pos))

    def _ref(self, node: Any, children: list[Any]) -> ast.RefType:
        return ast.RefType(self._name(children[0]), self._span(node.meta.start_pos, node.meta.end_pos))

    def _bounds(self, node: Any, children: list[Any]) -> ast.Bounds:
        lo, hi = (ast.Number(str(t), self._span(t.start_pos, t.end_pos)) for t in children)
        return ast.Bounds(lo, hi, self._span(node.meta.start_pos, node.meta.end_pos))


def _comments(text: str) -> tuple[ast.Comment, ...]:
    found = []
    for m in _COMMENT_OR_STRING.finditer(text):
        if m.group().startswith("//"):
            line_start = text.rfind("\n", 0, m.start()) + 1
            own_line = not text[line_start:m.start()].strip()
            found.append(ast.Comment(m.group(), m.start(), text.count("\n", 0, m.start()) + 1, own_line))
    return tuple(found)


def _doc_groups(text: str, comments: tuple[ast.Comment, ...]) -> dict[int, str]:
    """Doc comments keyed by the offset of the first non-blank character after their run."""
    docs: dict[int, str] = {}
    lines: list[str] = []
    for i, c in enumerate(comments):
        if not (c.own_line and c.text.startswith("///")):
            lines = []
            continue
        body = c.text[3:]
        lines.append(body[1:] if body.startswith(" ") else body)
        end = c.offset + len(c.text)
        follow = len(text) - len(text[end:].lstrip())
        nxt = comments[i + 1] if i + 1 < len(comments) else None
        if nxt is not None and nxt.offset == follow and nxt.own_line and nxt.text.startswith("///"):
            continue
        docs[follow] = "\n".join(lines).rstrip()
        lines = []
    return docs
