"""Parse: .fsf text -> AST module (fsf.front.ast), or a SchemaError with every syntax-level diagnostic.

The Lark grammar lives in ``grammar/fsf.lark``; the parser is built once and cached. After a syntax error the
parser resumes at the next line that starts a declaration, so one run reports up to ``MAX_SYNTAX_ERRORS``.
Tree building is iterative and type nesting is capped, so hostile input costs time and memory proportional
to its size and never a RecursionError.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from fsf.errors import Diagnostic, Note, SchemaError, Source, Span, span_at
from fsf.front import ast
from fsf.limits import MAX_SOURCE_BYTES as MAX_SOURCE_BYTES  # re-exported: fsf.load reads files by it
from fsf.limits import MAX_TYPE_DEPTH as MAX_TYPE_DEPTH  # re-exported

MAX_SYNTAX_ERRORS = 20
"""Syntax errors reported for one file before the parser gives up."""

_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BOM = "\ufeff"
_BLANK = re.compile(r"[ \t\r\n\f]*")
_COMMENT_OR_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*')
# Where the parser resumes after a syntax error: a line that starts a declaration or an import.
_RESYNC = re.compile(r'^[ \t]*(?:(?:shape|enum|union)[ \t]+[^\W\d]\w*[ \t]*\{|import[ \t]*")', re.MULTILINE)

# Display names of the grammar's terminals, for syntax messages.
_TERMINALS = {
    "_LBRACE": "`{`", "_RBRACE": "`}`", "_LT": "`<`", "_GT": "`>`", "LSQB": "`[`", "RSQB": "`]`",
    "_COMMA": "`,`", "_COLON": "`:`", "_DOTDOT": "`..`", "QMARK": "`?`", "NAME": "a name",
    "NUMBER": "a number", "STRING": "a string", "ARR": "`arr`", "MAP": "`map`", "REF": "`ref`",
    "IMPORT": "`import`", "SHAPE": "`shape`", "ENUM": "`enum`", "UNION": "`union`", "$END": "end of file",
}
_CHARACTER_HINTS = {
    ";": "fields, members and variants are separated by `,`",
    "=": "a field is written `name: type`",
    "|": "a choice between types is a `union` with one variant per choice",
}
_PUNCTUATION = {"_LBRACE", "_RBRACE", "_LT", "_GT", "LSQB", "RSQB", "_COMMA", "_COLON", "_DOTDOT"}
_TYPE_STARTS = {"NAME", "ARR", "MAP", "REF"}
_DECL_STARTS = {"IMPORT", "SHAPE", "ENUM", "UNION"}
_TYPE_RULES = ("named", "array", "map", "ref", "optional")
_DECL_LINE = re.compile(r"(?:^|\n)[ \t]*(shape|enum|union)[ \t]+\Z")


@functools.cache
def _parser() -> Any:
    import lark  # lazily: loading a compiled .fsb must not import lark

    from fsf._resources import resource_dir

    grammar = (resource_dir("grammar") / "fsf.lark").read_text(encoding="utf-8")
    return lark.Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=False,
                     maybe_placeholders=False)


def parse(source: Source) -> ast.Module:
    """Parse one file. Raises :class:`SchemaError` with every syntax-level problem found.

    >>> parse(Source("<memory>", "shape A { id: str }")).decls[0].name.text
    'A'
    """
    _check_size(source)
    problems = [
        Diagnostic("F002", f"bidirectional control character U+{ord(m.group()):04X} in schema text",
                   span_at(source, m.start()), "this character can make the text read differently than it parses",
                   hint="remove it; schema files must read the same in every editor")
        for m in _BIDI.finditer(source.text)
    ]
    # Bidi characters are reported above; a leading byte order mark is allowed. Both become spaces (one
    # character for one, so every offset stays put) and the parser sees the rest of the file.
    text = _BIDI.sub(" ", source.text) if problems else source.text
    if text.startswith(_BOM):
        text = " " + text[1:]
    tree, syntax = _parse_tree(source, text)
    problems.extend(syntax)
    if tree is None:
        raise SchemaError(problems)
    module, too_deep = _Builder(source).module(tree)
    if too_deep is not None:
        problems.append(too_deep)
    if problems or module is None:
        raise SchemaError(problems)
    return module


def _check_size(source: Source) -> None:
    chars = len(source.text)
    # Only encode when the character count leaves the answer open (a character is 1..4 bytes).
    size = chars if chars * 4 <= MAX_SOURCE_BYTES else len(source.text.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise SchemaError([too_large(source.name, size, source.text[:200])])


def too_large(name: str, size: int, head: str) -> Diagnostic:
    """The F001 diagnostic for a file of ``size`` bytes whose text starts with ``head``."""
    return Diagnostic(
        "F001", f"schema file is {size} bytes; the limit is {MAX_SOURCE_BYTES}", Span(Source(name, head), 1, 1),
        "file too large", hint="split the schema into several files joined by `import`",
    )


def _parse_tree(source: Source, text: str) -> tuple[Any, list[Diagnostic]]:
    """The parse tree of ``text`` (None after a syntax error) and the syntax errors, resuming after each."""
    import lark

    problems: list[Diagnostic] = []
    start = 0
    while True:
        try:
            tree = _parser().parse(text[start:] if start else text)
            return (None if problems else tree), problems
        except lark.exceptions.UnexpectedInput as err:
            diag, at = _syntax_diagnostic(source, err, start)
            problems.append(diag)
        if len(problems) >= MAX_SYNTAX_ERRORS:
            last = problems[-1]
            stop = Note(None, f"stopped after {MAX_SYNTAX_ERRORS} syntax errors")
            problems[-1] = Diagnostic(last.code, last.message, last.span, last.label, (*last.notes, stop), last.hint)
            return None, problems
        # Resume at the next declaration line; it may be the error's own line (a missing `}` before it).
        resume = _RESYNC.search(text, text.rfind("\n", 0, at) + 1)
        if resume is not None and resume.start() <= start:
            resume = _RESYNC.search(text, at + 1)
        if resume is None:
            return None, problems
        start = resume.start()


def _syntax_diagnostic(source: Source, err: Any, base: int) -> tuple[Diagnostic, int]:
    """A human message for one syntax error (``base`` is where the parsed text starts) and its offset."""
    import lark

    if isinstance(err, lark.exceptions.UnexpectedCharacters):
        pos = base + int(err.pos_in_stream or 0)
        ch = source.text[pos]
        span = span_at(source, pos)
        if ch == '"':
            return Diagnostic("F010", "unterminated string", span, "this string has no closing `\"`",
                              hint="a string ends on the line where it starts"), pos
        shown = f"`{ch}`" if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"
        return Diagnostic("F010", f"unexpected character {shown}", span, "not part of the FSF syntax",
                          hint=_CHARACTER_HINTS.get(ch, "")), pos
    token = err.token
    kind = token.type
    accepts = set(getattr(err, "accepts", None) or err.expected or ())
    if kind == "$END":
        pos = len(source.text.rstrip())
        span, found = span_at(source, pos), "end of file"
    else:
        pos = base + token.start_pos
        span, found = span_at(source, pos, len(token.value)), f"`{token.value}`"
    keyword = _DECL_LINE.search(source.text, max(0, pos - 200), pos) if kind == "NAME" else None
    if "_GT" in accepts and not accepts & {"_COMMA", "_RBRACE"}:
        diag = Diagnostic("F011", "missing `>` after the element type", span, f"expected `>` before {found}")
    elif "_RBRACE" in accepts and (kind == "$END" or kind in _DECL_STARTS):
        where = "at end of file" if kind == "$END" else f"before {found}"
        diag = Diagnostic("F012", f"missing `}}` {where}", span, "the declaration above is not closed")
    elif keyword is not None and accepts == {"_COLON"}:
        # `shape Next {` inside an unclosed body reads as a field called `shape`: say what really happened.
        at = keyword.start(1)
        diag = Diagnostic("F012", f"missing `}}` before `{keyword.group(1)}`", span_at(source, at, len(keyword.group(1))),
                          "the declaration above is not closed")
        pos = at
    elif "_COMMA" in accepts and "_RBRACE" in accepts and kind in ("NAME", *_TYPE_STARTS):
        diag = Diagnostic("F013", f"missing `,` before {found}", span,
                          "fields, members and variants are separated by `,`")
    elif "_COMMA" in accepts and "_RBRACE" not in accepts and kind == "_GT":
        diag = Diagnostic("F014", "a map needs a key type and a value type", span, "expected `,` and a value type",
                          hint="write `map[lo..hi]<K, V>`")
    elif "ARR" in accepts and accepts <= _TYPE_STARTS | {"_GT"}:
        diag = Diagnostic("F014", f"expected a type, found {found}", span, "a type goes here")
    elif accepts == {"NAME"}:
        diag = Diagnostic("F015", f"expected a name, found {found}", span, "a name goes here",
                          hint="enums and unions need at least one member" if kind == "_RBRACE" else "")
    elif len(accepts) == 1 and accepts <= _PUNCTUATION:
        wanted = _TERMINALS[next(iter(accepts))]
        diag = Diagnostic("F015", f"missing {wanted} before {found}", span, f"expected {wanted}")
    else:
        wanted = _join(sorted(_TERMINALS.get(t, t) for t in accepts))
        diag = Diagnostic("F015", f"unexpected {found}", span, f"expected {wanted}" if wanted else "")
    return diag, pos


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1] if items else ""


class _Builder:
    """Turns a Lark parse tree into AST nodes, bottom-up with an explicit stack (no recursion).

    Each rule builds exactly one AST class; the only judgement made here is the nesting cap, which keeps
    every later (recursive) pass over a type expression safe.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.comments = _comments(source.text)
        self.docs = _doc_groups(source.text, self.comments)
        self.rules: dict[str, Callable[[list[Any]], Any]] = {
            "start": self._start, "import_decl": self._import, "shape_decl": self._shape,
            "enum_decl": self._enum, "union_decl": self._union, "field": self._field, "member": self._member,
            "variant": self._variant, "optional": self._optional, "named": self._named, "array": self._array,
            "map": self._map, "ref": self._ref, "bounds": self._bounds,
        }

    def module(self, tree: Any) -> tuple[ast.Module | None, Diagnostic | None]:
        """The module, or None and an F016 diagnostic if a type expression is nested too deeply."""
        import lark

        Tree = lark.Tree
        rules = self.rules
        done: list[Any] = []  # values of finished subtrees (tokens stay in their parent's children)
        depths: list[int] = []  # type nesting depth of each entry of ``done``
        stack: list[tuple[Any, int]] = [(tree, -1)]  # (node, -1) to expand, (node, n) to build from n subtrees
        while stack:
            node, count = stack.pop()
            if count < 0:
                subtrees = [c for c in node.children if type(c) is Tree]
                stack.append((node, len(subtrees)))
                stack.extend((c, -1) for c in reversed(subtrees))
                continue
            depth = 0
            if count:
                values = iter(done[len(done) - count:])
                children = [next(values) if type(c) is Tree else c for c in node.children]
                depth = max(depths[len(depths) - count:])
                del done[len(done) - count:], depths[len(depths) - count:]
            else:
                children = node.children
            value = rules[node.data](children)
            if node.data in _TYPE_RULES:
                depth += 1
                if depth > MAX_TYPE_DEPTH:  # stop building; locate the culprit from the outside
                    return None, self._too_deep(tree)
            done.append(value)
            depths.append(depth)
        result = done.pop()
        assert isinstance(result, ast.Module)
        return result, None

    def _too_deep(self, tree: Any) -> Diagnostic:
        """F016 at the first type constructor that is one level too deep, counting from the outside."""
        import lark

        stack: list[tuple[Any, int]] = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            if node.data in _TYPE_RULES:
                depth += 1
                if depth > MAX_TYPE_DEPTH:
                    token = node.children[-1] if node.data == "optional" else node.children[0]
                    while isinstance(token, lark.Tree):
                        token = token.children[0]
                    return Diagnostic(
                        "F016", f"type nested more than {MAX_TYPE_DEPTH} levels deep", self._token_span(token),
                        f"level {depth} starts here", hint="name an inner part as a shape of its own")
            stack.extend((c, depth) for c in reversed(node.children) if isinstance(c, lark.Tree))
        raise AssertionError("the builder found a type nested too deeply")

    def _span(self, start: int, end: int) -> Span:
        return span_at(self.source, start, max(1, end - start))

    def _token_span(self, token: Any) -> Span:
        return Span(self.source, token.line, token.column, max(1, len(token)))

    def _name(self, token: Any) -> ast.Name:
        return ast.Name(str(token), self._token_span(token))

    def _doc(self, offset: int) -> str:
        return self.docs.get(offset, "")

    def _start(self, children: list[Any]) -> ast.Module:
        imports = tuple(c for c in children if isinstance(c, ast.Import))
        decls = tuple(c for c in children if not isinstance(c, ast.Import))
        return ast.Module(self.source, imports, decls, self.comments)

    def _import(self, children: list[Any]) -> ast.Import:
        token = children[1]
        text = re.sub(r"\\(.)", r"\1", str(token)[1:-1])
        return ast.Import(text, self._token_span(token))

    def _shape(self, children: list[Any]) -> ast.ShapeDecl:
        return ast.ShapeDecl(self._name(children[1]), tuple(children[2:]), self._doc(children[0].start_pos))

    def _enum(self, children: list[Any]) -> ast.EnumDecl:
        return ast.EnumDecl(self._name(children[1]), tuple(children[2:]), self._doc(children[0].start_pos))

    def _union(self, children: list[Any]) -> ast.UnionDecl:
        return ast.UnionDecl(self._name(children[1]), tuple(children[2:]), self._doc(children[0].start_pos))

    def _field(self, children: list[Any]) -> ast.Field:
        return ast.Field(self._name(children[0]), children[1], self._doc(children[0].start_pos))

    def _member(self, children: list[Any]) -> ast.Member:
        return ast.Member(self._name(children[0]), self._doc(children[0].start_pos))

    def _variant(self, children: list[Any]) -> ast.Variant:
        return ast.Variant(self._name(children[0]), tuple(children[1:]), self._doc(children[0].start_pos))

    def _optional(self, children: list[Any]) -> ast.OptionalType:
        return ast.OptionalType(children[0], self._token_span(children[1]))

    def _named(self, children: list[Any]) -> ast.NamedType:
        name = children[0]
        bounds: _BoundsAt | None = children[1] if len(children) > 1 else None
        end = name.end_pos if bounds is None else bounds.end
        return ast.NamedType(self._name(name), bounds.node if bounds else None, self._span(name.start_pos, end))

    def _array(self, children: list[Any]) -> ast.ArrayType:
        bounds = children[1].node if len(children) == 3 else None
        return ast.ArrayType(bounds, children[-1], self._token_span(children[0]))

    def _map(self, children: list[Any]) -> ast.MapType:
        bounds = children[1].node if len(children) == 4 else None
        return ast.MapType(bounds, children[-2], children[-1], self._token_span(children[0]))

    def _ref(self, children: list[Any]) -> ast.RefType:
        keyword, name = children
        return ast.RefType(self._name(name), self._span(keyword.start_pos, name.end_pos))

    def _bounds(self, children: list[Any]) -> _BoundsAt:
        lsqb, lo, hi, rsqb = children
        node = ast.Bounds(ast.Number(str(lo), self._token_span(lo)), ast.Number(str(hi), self._token_span(hi)),
                          self._span(lsqb.start_pos, rsqb.end_pos))
        return _BoundsAt(node, rsqb.end_pos)


class _BoundsAt:
    """Bounds while building: the AST node and the offset just past its `]` (for the enclosing span)."""

    __slots__ = ("end", "node")

    def __init__(self, node: ast.Bounds, end: int) -> None:
        self.node = node
        self.end = end


def _comments(text: str) -> tuple[ast.Comment, ...]:
    found = []
    line, counted = 1, 0
    for m in _COMMENT_OR_STRING.finditer(text):
        if m.group().startswith("//"):
            line += text.count("\n", counted, m.start())
            counted = m.start()
            line_start = text.rfind("\n", 0, m.start()) + 1
            own_line = not text[line_start:m.start()].lstrip(_BOM).strip()
            found.append(ast.Comment(m.group(), m.start(), line, own_line))
    return tuple(found)


def _doc_groups(text: str, comments: tuple[ast.Comment, ...]) -> dict[int, str]:
    """Doc comments keyed by the offset of the first non-blank character after their run."""
    docs: dict[int, str] = {}
    lines: list[str] = []
    for i, c in enumerate(comments):
        if not (c.own_line and c.text.startswith("///")):
            lines = []
            continue
        body = c.text[3:].rstrip()
        lines.append(body[1:] if body.startswith(" ") else body)
        end = c.offset + len(c.text)
        follow = _BLANK.match(text, end).end()  # type: ignore[union-attr]
        nxt = comments[i + 1] if i + 1 < len(comments) else None
        if nxt is not None and nxt.offset == follow and nxt.own_line and nxt.text.startswith("///"):
            continue
        docs[follow] = "\n".join(lines).rstrip()
        lines = []
    return docs
