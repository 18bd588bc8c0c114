"""Parse: .fsf text -> AST module (fsf.front.ast), or a SchemaError with every syntax-level diagnostic.

The Lark grammar lives in ``grammar/fsf.lark``; the parser runs from ``fsf/front/_lalr.py``, generated from it by
lark's stand-alone generator (``python -m fsf.front.generate``), and is loaded once and cached. After a syntax
error the parser repairs the text with the cheapest few edits that let it read on, or else resumes at the next line
that starts a declaration, so one run reports every error (up to ``MAX_SYNTAX_ERRORS``), each once.
Tree building is iterative and type nesting is capped, so hostile input costs time and memory proportional
to its size and never a RecursionError.
"""

from __future__ import annotations

import bisect
import copy
import functools
import re
from collections.abc import Callable
from typing import Any

import attrs

from fsf.errors import Diagnostic, Note, SchemaError, Source, Span, span_at
from fsf.front import ast, foreign
from fsf.ir.annotations import Literal, unquote
from fsf.limits import MAX_SOURCE_BYTES as MAX_SOURCE_BYTES  # re-exported: fsf.load reads files by it
from fsf.limits import MAX_TYPE_DEPTH as MAX_TYPE_DEPTH  # re-exported
from fsf.text import BIDI_CLASS

MAX_SYNTAX_ERRORS = 20
"""Syntax errors reported for one file before the parser gives up."""

_BIDI = re.compile(f"[{BIDI_CLASS}]")
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
    "ANNOTATION": "an annotation", "LPAR": "`(`", "RPAR": "`)`", "EMPTY_MAP_OPEN": "`{`", "EMPTY_MAP_CLOSE": "`}`",
}
_CHARACTER_HINTS = {
    ";": "fields, members and variants are separated by `,`",
    "=": "a field is written `name: type`",
    "|": "a choice between types is a `union` with one variant per choice",
}
_PUNCTUATION = {"_LBRACE", "_RBRACE", "_LT", "_GT", "LSQB", "RSQB", "_COMMA", "_COLON", "_DOTDOT", "LPAR", "RPAR"}
_TYPE_STARTS = {"NAME", "ARR", "MAP", "REF"}
_DECL_STARTS = {"IMPORT", "SHAPE", "ENUM", "UNION"}
_TYPE_RULES = ("named", "array", "map", "ref", "optional")
_DECL_LINE = re.compile(r"(?:^|\n)[ \t]*(shape|enum|union)[ \t]+\Z")
_MISSING_HINTS = {
    "_COLON": "a field is written `name: type`",
    "_DOTDOT": "bounds are written `[lo..hi]`",
}
_TYPE_FORMS = {
    "arr": "an array is written `arr[lo..hi]<T>`",
    "map": "a map is written `map[lo..hi]<K, V>`",
    "ref": "a reference is written `ref<T>`",
}
# A name and, if the error is not at it, the `<` or `[` after it: `List<Task>`, `Optional[str]`.
_FOREIGN_GENERIC = re.compile(r"(?<![\w.])([^\W\d]\w*)[ \t]*(?:([<\[])[ \t]*)?\Z")
_AFTER_ANNOTATION = re.compile(r"(?:@[^\W\d]\w*|\))[ \t\r\n\f]*\Z")  # `)` ends only an annotation


@functools.cache
def _parser() -> Any:
    # Lazily: loading a compiled .fsb must not import the parser. The parser is pre-built from grammar/fsf.lark by
    # lark's stand-alone generator (fsf.front.generate), so parsing imports neither lark nor the grammar.
    from fsf.front import _lalr

    return _lalr.Lark_StandAlone()  # type: ignore[no-untyped-call]


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
    builder = _Builder(source)
    module, too_deep = builder.module(tree)
    if too_deep is not None:
        problems.append(too_deep)
    problems.extend(builder.problems)
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
    """The parse tree of ``text`` (None after a syntax error) and the syntax errors.

    After an error the parser repairs the text with the cheapest edits that let it read on (:class:`_Recovery`) and
    goes on, so that later errors of the same declaration are found too; where no small repair reads on, it
    resumes at the next line that starts a declaration.
    """
    from fsf.front import _lalr

    problems: list[Diagnostic] = []
    start = 0
    while True:
        recovery = _Recovery(source, text[start:] if start else text, start, problems)
        try:
            tree = _parser().parse(recovery.text, on_error=recovery.on_error)
            return (None if problems else tree), problems
        except _lalr.UnexpectedInput:
            pass
        if len(problems) >= MAX_SYNTAX_ERRORS:
            last = problems[-1]
            stop = Note(None, f"stopped after {MAX_SYNTAX_ERRORS} syntax errors")
            problems[-1] = Diagnostic(last.code, last.message, last.span, last.label, (*last.notes, stop), last.hint)
            return None, problems
        at = recovery.resync_at
        # Resume at the next declaration line; it may be the error's own line (a missing `}` before it).
        resume = _RESYNC.search(text, text.rfind("\n", 0, at) + 1)
        if resume is not None and resume.start() <= start:
            resume = _RESYNC.search(text, at + 1)
        if resume is None:
            return None, problems
        start = resume.start()


# A repair is a short sequence of edits after which the parser reads _WINDOW tokens of the text (or the text to
# its end). Edits cost: inserting a token 1 (the usual slip: a missing `,` or `:`), deleting k tokens 2k (text
# the user wrote is kept where an insertion will do), replacing a token 3 (more than two insertions: `a b c`
# lacks two commas, `b` is no typo for one); at most _MAX_COST in all, with at most _MAX_CHANGES insertions and
# replacements. The first edit of the cheapest repair (among equals: the one with fewer insertions and
# replacements, then the earliest in _PREFERRED order) is applied and parsing goes on.
_WINDOW = 6
_MAX_COST = 6
_MAX_CHANGES = 2
_PREFERRED = ("_COMMA", "_COLON", "_GT", "_RBRACE", "RSQB", "_LT", "_LBRACE", "LSQB", "_DOTDOT", "NAME", "NUMBER")
_IGNORED = re.compile(r"(?:[ \t\r\n\f]+|//[^\n]*)*")  # what the grammar ignores between two tokens


@attrs.frozen
class _Point:
    """A place in a repair search: the parser's state stack and the lexer's state just before the next token."""

    stack: list[Any]
    lexer: Any
    read: int = 0  # tokens of the text read since the error


@attrs.frozen
class _Edit:
    """One edit of the text at a syntax error, and where parsing goes on after it."""

    insert: str | None  # the terminal inserted (a replacement is a deletion and an insertion), or None
    point: _Point  # where parsing goes on: the lexer there, and the stack once ``insert`` is fed


class _Recovery:
    """Error recovery for one run of the parser over ``text`` (which starts at offset ``base`` of the source).

    Lark calls :meth:`on_error` for each syntax error with the parser stopped at it. The error is reported
    unless it is a follow-on: one at the very token where parsing went on after the previous repair (a
    mistake that took more than one edit to repair, or a run of stray tokens, is one error). Then a repair is
    searched for and applied, or parsing stops (``resync_at`` says where) and resumes at a declaration.
    """

    def __init__(self, source: Source, text: str, base: int, problems: list[Diagnostic]) -> None:
        self.source = source
        self.text = text
        self.base = base
        self.problems = problems
        self.resync_at = base
        self.went_on: int | None = None  # where the next token after the last repair starts

    def on_error(self, err: Any) -> bool:
        from fsf.front import _lalr

        diag, at = _syntax_diagnostic(self.source, err, self.base)  # before any edit: it reads the parser state
        self.resync_at = at
        char = isinstance(err, _lalr.UnexpectedCharacters)
        end = not char and err.token.type == "$END"
        pos = int(err.pos_in_stream or 0) if char else err.token.start_pos
        if (end or pos != self.went_on) and diag not in self.problems:  # the same error seen again after a resync
            self.problems.append(diag)
            if len(self.problems) >= MAX_SYNTAX_ERRORS:
                return False
        # At the end of the text nothing is left to find. A missing `}`, an unterminated string or stray text
        # where a declaration may start (an extra `}`, `struct`) leaves the rest to a fresh start at the next
        # declaration: a repair would read the words of the string, or the stray text, as entries and report them.
        expected = set((err.allowed if char else err.accepts) or ())
        if end or diag.code == "F012" or (char and self.text[pos] == '"') or expected & _DECL_STARTS:
            return False
        edit = self._repair(err.interactive_parser, None if char else err.token)
        if edit is None:
            return False
        state = err.interactive_parser.lexer_thread.state
        state.line_ctr = copy.copy(edit.point.lexer.line_ctr)
        if edit.insert is not None:
            near = state.last_token if char else err.token  # the inserted token borrows its position
            if near is None:
                made = _lalr.Token(edit.insert, "")
            else:
                made = _lalr.Token.new_borrow_pos(edit.insert, "", near)  # type: ignore[misc]
            err.interactive_parser.feed_token(made)
        self.went_on = _IGNORED.match(self.text, state.line_ctr.char_pos).end()  # type: ignore[union-attr]
        return True

    def _repair(self, parser: Any, token: Any) -> _Edit | None:
        """The first edit of the cheapest repair from where ``parser`` stopped (before ``token``, or before an
        unexpected character if None), or None if no repair within the limits reads on."""
        from fsf.front._lalr import ParserState

        conf = copy.copy(parser.parser_state.parse_conf)
        conf.callbacks = {}  # the search builds no tree
        here = copy.copy(parser.lexer_thread.state)
        here.line_ctr = copy.copy(here.line_ctr)
        if token is not None:  # the lexer is past the token: go back to its start
            ctr = here.line_ctr
            ctr.char_pos, ctr.line, ctr.column = token.start_pos, token.line, token.column
            ctr.line_start_pos = token.start_pos - token.column + 1
        search = _Search(self.text, conf, parser.lexer_thread.lexer, ParserState)
        # Uniform-cost search: by_cost[c] holds the places reached by repairs of cost c, each with the repair's
        # first edit, its count of insertions and replacements and whether it reads on.
        by_cost: list[list[tuple[_Point, _Edit | None, int, bool]]] = [[] for _ in range(_MAX_COST + 1)]
        by_cost[0].append((_Point(list(parser.parser_state.state_stack), here), None, 0, False))
        seen: set[tuple[Any, ...]] = set()
        for cost, places in enumerate(by_cost):
            # Complete by now (every edit costs at least 1); among equals, fewer insertions and replacements first.
            places.sort(key=lambda place: place[2])
            for point, first, changes, done in places:
                if done:
                    return first
                key = (tuple(point.stack), point.lexer.line_ctr.char_pos)
                if key in seen:
                    continue
                seen.add(key)
                for edit, price, change in search.edits(point, first is None and token is None):
                    if cost + price > _MAX_COST or changes + change > _MAX_CHANGES:
                        continue
                    reached, reads_on = search.read_on(edit.point)
                    by_cost[cost + price].append((reached, first or edit, changes + change, reads_on))
        return None


class _Search:
    """The moves of a repair search over copies of the parser's state (no tree is built)."""

    def __init__(self, text: str, conf: Any, lexer: Any, state_class: Any) -> None:
        self.text = text
        self.conf = conf
        self.lexer = lexer
        self.state_class = state_class

    def _state(self, stack: list[Any]) -> Any:
        return self.state_class(self.conf, None, stack)

    def _next(self, point: _Point) -> tuple[Any, Any]:
        """The next token at ``point`` (a ``$END`` token at the end, None for a character that starts no token)
        and the lexer state after it."""
        from fsf.front import _lalr

        after = copy.copy(point.lexer)
        after.line_ctr = copy.copy(after.line_ctr)
        try:
            return next(iter(self.lexer.lex(after, self._state(point.stack)))), after
        except StopIteration:
            return _lalr.Token("$END", ""), None
        except _lalr.UnexpectedToken as err:  # a token the lexer knows, not allowed here
            return err.token, after
        except _lalr.UnexpectedCharacters:  # the lexer stopped at the character: step over it
            pos = after.line_ctr.char_pos
            after.line_ctr.feed(self.text[pos:pos + 1])
            return None, after

    def _feed(self, stack: list[Any], token: Any) -> list[Any] | None:
        """The stack after ``token``, or None if the parser cannot take it (``$END``: the stack is returned as is
        when the text is complete)."""
        from fsf.front import _lalr

        state = self._state(list(stack))
        try:
            state.feed_token(token, token.type == "$END")
        except _lalr.UnexpectedToken:
            return None
        return state.state_stack  # type: ignore[no-any-return]

    def _accepted(self, stack: list[Any]) -> list[tuple[str, list[Any]]]:
        """The terminals the parser takes next, in order of preference, each with the stack after it."""
        from fsf.front import _lalr

        fed = [(t, self._feed(stack, _lalr.Token(t, ""))) for t in self.conf.states[stack[-1]]
               if t.isupper() and t != "$END"]
        ok = [(t, after) for t, after in fed if after is not None]
        return sorted(ok, key=lambda f: (_PREFERRED.index(f[0]) if f[0] in _PREFERRED else len(_PREFERRED), f[0]))

    def edits(self, point: _Point, at_character: bool) -> list[tuple[_Edit, int, bool]]:
        """Every single edit at ``point`` with its cost and whether it inserts a token, in order of preference:
        insertions, replacements, deletions."""
        accepted = self._accepted(point.stack)
        out: list[tuple[_Edit, int, bool]] = []
        if not at_character:  # a character that starts no token is replaced or deleted, never kept
            out.extend((_Edit(t, _Point(stack, point.lexer, point.read)), 1, True) for t, stack in accepted)
        _, after = self._next(point)
        if after is None:  # the end of the text is never deleted
            return out
        out.extend((_Edit(t, _Point(stack, after, point.read)), 3, True) for t, stack in accepted)
        for run in range(1, _MAX_COST // 2 + 1):
            out.append((_Edit(None, _Point(point.stack, after, point.read)), 2 * run, False))
            _, after = self._next(_Point(point.stack, after, point.read))
            if after is None:
                break
        return out

    def read_on(self, point: _Point) -> tuple[_Point, bool]:
        """Read the text from ``point`` until a token does not fit: that point, and whether the text read on for
        ``_WINDOW`` tokens or to its complete end first."""
        while point.read < _WINDOW:
            token, after = self._next(point)
            stack = None if token is None else self._feed(point.stack, token)
            if stack is None:
                return point, False
            if after is None:
                return point, True
            point = _Point(stack, after, point.read + 1)
        return point, True


def _syntax_diagnostic(source: Source, err: Any, base: int) -> tuple[Diagnostic, int]:
    """A human message for one syntax error (``base`` is where the parsed text starts) and its offset."""
    from fsf.front import _lalr

    if isinstance(err, _lalr.UnexpectedCharacters):
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
    # An annotation may start almost every item and `(` may follow every annotation's name: naming them among
    # what was expected would only be noise.
    accepts = accepts - {"ANNOTATION", "LPAR"} or accepts
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
    elif "_COMMA" in accepts and "_RBRACE" in accepts and kind in ("NAME", "ANNOTATION", *_TYPE_STARTS):
        diag = Diagnostic("F013", f"missing `,` before {found}", span,
                          "fields, members and variants are separated by `,`")
    elif "_COMMA" in accepts and "_RBRACE" not in accepts and kind == "_GT":
        diag = Diagnostic("F014", "a map needs a key type and a value type", span, "expected `,` and a value type",
                          hint="write `map[lo..hi]<K, V>`")
    elif "ARR" in accepts and accepts <= _TYPE_STARTS | {"_GT"}:
        diag = Diagnostic("F014", f"expected a type, found {found}", span, "a type goes here")
    elif accepts == {"NAME"}:
        annotated = _AFTER_ANNOTATION.search(source.text, max(0, pos - 200), pos) is not None
        hint = ("an annotation stands right before the field, member, variant or declaration it annotates"
                if annotated else "enums and unions need at least one member" if kind == "_RBRACE" else "")
        diag = Diagnostic("F015", f"expected a name, found {found}", span, "a name goes here", hint=hint)
    elif len(accepts) == 1 and accepts <= _PUNCTUATION:
        terminal = next(iter(accepts))
        wanted = _TERMINALS[terminal]
        diag = Diagnostic("F015", f"missing {wanted} before {found}", span, f"expected {wanted}",
                          hint=_foreign_hint(source.text, pos, kind, accepts) or _MISSING_HINTS.get(terminal, ""))
    else:
        wanted = _join(sorted(_TERMINALS.get(t, t) for t in accepts))
        diag = Diagnostic("F015", f"unexpected {found}", span, f"expected {wanted}" if wanted else "",
                          hint=_foreign_hint(source.text, pos, kind, accepts))
    return diag, pos


def _foreign_hint(text: str, pos: int, kind: str, accepts: set[str]) -> str:
    """How FSF writes the type that stands right before a syntax error at ``pos``: one of another schema language
    (``List<Task>`` and ``Optional[str]`` fail at their bracket or just after it), or `arr`, `map` or `ref`
    without what follows it (``a: map,``)."""
    m = _FOREIGN_GENERIC.search(text, max(0, pos - 200), pos)
    if m is None:
        return ""
    word, opener = m.groups()
    if opener is None and word in _TYPE_FORMS and "_LT" in accepts:
        return _TYPE_FORMS[word]
    if opener is None and kind != "_LT":
        return ""
    other = foreign.lookup(word)
    return other.hint(word) if other is not None else ""


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1] if items else ""


class _Builder:
    """Turns a Lark parse tree into AST nodes, bottom-up with an explicit stack (no recursion).

    Each rule builds exactly one AST class; the only judgements made here are the nesting cap, which keeps
    every later (recursive) pass over a type expression safe, and a doc comment among an item's annotations
    (``F017``: it would document nothing), collected in ``problems``.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.comments = _comments(source.text)
        self.docs = _doc_groups(source.text, self.comments)
        self.doc_lines = [c for c in self.comments if c.own_line and c.text.startswith("///")]
        self.doc_offsets = [c.offset for c in self.doc_lines]
        self.problems: list[Diagnostic] = []
        self.rules: dict[str, Callable[[list[Any]], Any]] = {
            "start": self._start, "import_decl": self._import, "shape_decl": self._shape,
            "enum_decl": self._enum, "union_decl": self._union, "field": self._field, "member": self._member,
            "variant": self._variant, "optional": self._optional, "named": self._named, "array": self._array,
            "map": self._map, "ref": self._ref, "bounds": self._bounds, "annotations": self._annotations,
            "annotation": self._annotation, "argument": self._argument,
        }

    def module(self, tree: Any) -> tuple[ast.Module | None, Diagnostic | None]:
        """The module, or None and an F016 diagnostic if a type expression is nested too deeply."""
        from fsf.front import _lalr

        Tree = _lalr.Tree
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
        from fsf.front import _lalr

        stack: list[tuple[Any, int]] = [(tree, 0)]
        while stack:
            node, depth = stack.pop()
            if node.data in _TYPE_RULES:
                depth += 1
                if depth > MAX_TYPE_DEPTH:
                    token = node.children[-1] if node.data == "optional" else node.children[0]
                    while isinstance(token, _lalr.Tree):
                        token = token.children[0]
                    return Diagnostic(
                        "F016", f"type nested more than {MAX_TYPE_DEPTH} levels deep", self._token_span(token),
                        f"level {depth} starts here", hint="name an inner part as a shape of its own")
            stack.extend((c, depth) for c in reversed(node.children) if isinstance(c, _lalr.Tree))
        raise AssertionError("the builder found a type nested too deeply")

    def _span(self, start: int, end: int) -> Span:
        return span_at(self.source, start, max(1, end - start))

    def _token_span(self, token: Any) -> Span:
        return Span(self.source, token.line, token.column, max(1, len(token)))

    def _name(self, token: Any) -> ast.Name:
        return ast.Name(str(token), self._token_span(token))

    def _doc(self, offset: int) -> str:
        return self.docs.get(offset, "")

    def _head(self, children: list[Any]) -> tuple[ast.Annotations, str, list[Any]]:
        """An item's annotations, its doc comment and the rest of its children (from its keyword or name).

        The doc comment stands before the annotations; one between them and the item would document nothing,
        so it is an error rather than a silent loss.
        """
        first = children[0]
        if not isinstance(first, _AnnotationsAt):
            return (), self._doc(first.start_pos), children
        rest = children[1:]
        head = rest[0].start_pos
        i = bisect.bisect_left(self.doc_offsets, first.start)
        while i < len(self.doc_offsets) and self.doc_offsets[i] < head:
            c = self.doc_lines[i]
            self.problems.append(Diagnostic(
                "F017", "doc comment after an annotation", span_at(self.source, c.offset, len(c.text.rstrip())),
                "this doc comment would document nothing",
                hint="write the doc comment before the annotations (or make it a `//` comment)"))
            i += 1
        return first.nodes, self._doc(first.start), rest

    def _start(self, children: list[Any]) -> ast.Module:
        imports = tuple(c for c in children if isinstance(c, ast.Import))
        decls = tuple(c for c in children if not isinstance(c, ast.Import))
        return ast.Module(self.source, imports, decls, self.comments)

    def _import(self, children: list[Any]) -> ast.Import:
        token = children[1]
        return ast.Import(unquote(str(token)), self._token_span(token))

    def _shape(self, children: list[Any]) -> ast.ShapeDecl:
        annotations, doc, rest = self._head(children)
        return ast.ShapeDecl(self._name(rest[1]), tuple(rest[2:]), doc, annotations)

    def _enum(self, children: list[Any]) -> ast.EnumDecl:
        annotations, doc, rest = self._head(children)
        return ast.EnumDecl(self._name(rest[1]), tuple(rest[2:]), doc, annotations)

    def _union(self, children: list[Any]) -> ast.UnionDecl:
        annotations, doc, rest = self._head(children)
        return ast.UnionDecl(self._name(rest[1]), tuple(rest[2:]), doc, annotations)

    def _field(self, children: list[Any]) -> ast.Field:
        annotations, doc, rest = self._head(children)
        return ast.Field(self._name(rest[0]), rest[1], doc, annotations)

    def _member(self, children: list[Any]) -> ast.Member:
        annotations, doc, rest = self._head(children)
        return ast.Member(self._name(rest[0]), doc, annotations)

    def _variant(self, children: list[Any]) -> ast.Variant:
        annotations, doc, rest = self._head(children)
        return ast.Variant(self._name(rest[0]), tuple(rest[1:]), doc, annotations)

    def _annotations(self, children: list[Any]) -> _AnnotationsAt:
        return _AnnotationsAt(tuple(a for a, _ in children), children[0][1])

    def _annotation(self, children: list[Any]) -> tuple[ast.Annotation, int]:
        token, last = children[0], children[-1]
        name = ast.Name(str(token)[1:], self._token_span(token))
        args = tuple(children[2:-1]) if len(children) > 1 else None
        return ast.Annotation(name, args, self._span(token.start_pos, last.end_pos)), token.start_pos

    def _argument(self, children: list[Any]) -> ast.Argument:
        first, last = children[0], children[-1]
        span = self._span(first.start_pos, last.end_pos)
        kind = _ARGUMENTS[first.type]
        if kind is Literal.STRING:
            return ast.Argument(kind, unquote(str(first)), span)
        return ast.Argument(kind, str(first) if len(children) == 1 else kind.value, span)

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


_ARGUMENTS = {"STRING": Literal.STRING, "NUMBER": Literal.NUMBER, "NAME": Literal.NAME, "LSQB": Literal.EMPTY_ARR,
              "EMPTY_MAP_OPEN": Literal.EMPTY_MAP}


class _AnnotationsAt:
    """An item's annotations while building, and the offset where the first starts (its doc comment's key)."""

    __slots__ = ("nodes", "start")

    def __init__(self, nodes: ast.Annotations, start: int) -> None:
        self.nodes = nodes
        self.start = start


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
