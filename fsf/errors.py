"""Errors: every user-facing failure, with its location (schema span, value path or byte offset).

One root, :class:`FsfError`. Schema problems carry diagnostics rendered like a compiler::

    shapes/plan.fsf:12:22: error[F201]: unknown type `ForgeTsk`
       |
    12 |   tasks: arr[0..512]<ForgeTsk>,
       |                      ^^^^^^^^ did you mean `ForgeTask`?
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

# A source line longer than this is shown as a window around the caret.
_MAX_SHOWN_LINE = 120


@attrs.frozen
class Source:
    """The text of one schema file and its display name (as the user gave it)."""

    name: str
    text: str = attrs.field(repr=False)
    # Offsets where each line starts, filled on first use: spans and excerpts cost O(log lines), so thousands
    # of diagnostics in a large file stay linear. A per-object memo, never shared.
    _starts: list[int] = attrs.field(init=False, factory=list, eq=False, repr=False)

    def line_starts(self) -> list[int]:
        """The character offset at which each line begins (``[0, ...]``)."""
        if not self._starts:
            starts = [0]
            find = self.text.find
            at = find("\n")
            while at >= 0:
                starts.append(at + 1)
                at = find("\n", at + 1)
            self._starts.extend(starts)
        return self._starts

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline ('' past the end)."""
        starts = self.line_starts()
        if not 1 <= line <= len(starts):
            return ""
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r")


@attrs.frozen
class Span:
    """A region of a schema file: 1-based line and column, and its length in characters on that line."""

    source: Source = attrs.field(repr=False)
    line: int
    column: int
    length: int = 1

    def __str__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.column}"


def span_at(source: Source, offset: int, length: int = 1) -> Span:
    """The span of ``length`` characters at character ``offset`` of ``source``."""
    starts = source.line_starts()
    line = bisect.bisect_right(starts, offset)
    return Span(source, line, offset - starts[line - 1] + 1, max(1, length))


@attrs.frozen
class Note:
    """A secondary location with a message, e.g. the first definition of a duplicate."""

    span: Span | None
    message: str


@attrs.frozen
class Diagnostic:
    """One schema error: a stable code, a message, where, and optional notes and hint."""

    code: str
    message: str
    span: Span | None
    label: str = ""
    notes: tuple[Note, ...] = ()
    hint: str = ""

    def render(self, color: bool = False) -> str:
        """The compiler-style text: a fixed first line, then the source line and a caret."""
        where = _printable(f"{self.span}: ") if self.span else ""
        head = f"error[{self.code}]"
        if color:
            head = f"\x1b[1;31m{head}\x1b[0m"
        out = [f"{where}{head}: {_printable(self.message)}"]
        if self.span is not None:
            out.extend(excerpt(self.span, _printable(self.label), color))
        for note in self.notes:
            where = _printable(f"{note.span}: ") if note.span else ""
            out.append(f"{where}note: {_printable(note.message)}")
            if note.span is not None:
                out.extend(excerpt(note.span, "", color))
        if self.hint:
            out.append(f"   = help: {_printable(self.hint)}")
        return "\n".join(out)


def _printable(text: str) -> str:
    """Text from the schema (names, paths, tokens) as shown in a message: what a terminal would not print
    (control, bidi and other invisible characters) is written as ``\\uXXXX``."""
    return text if text.isprintable() else "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def excerpt(span: Span, label: str = "", color: bool = False) -> list[str]:
    """The compiler's three lines for ``span``: a gutter, the source line, and a caret under the span (with
    ``label``)."""
    text = span.source.line_text(span.line)
    col = span.column - 1
    length = max(1, min(span.length, len(text) - col if len(text) > col else 1))
    if len(text) > _MAX_SHOWN_LINE:
        start = max(0, col - _MAX_SHOWN_LINE // 2)
        text = text[start : start + _MAX_SHOWN_LINE]
        col -= start
        length = min(length, max(1, len(text) - col))
    # One character for one, so the caret stays aligned; control, bidi and other invisible characters are
    # shown as U+FFFD so that they cannot reorder or break the terminal's output.
    text = "".join(c if c.isprintable() else "\ufffd" if c != "\t" else " " for c in text)
    gutter = " " * len(str(span.line))
    caret = "^" * length
    if color:
        caret = f"\x1b[1;31m{caret}\x1b[0m"
    tail = f" {label}" if label else ""
    return [f"{gutter} |", f"{span.line} | {text}", f"{gutter} | {' ' * col}{caret}{tail}"]


def _position(d: Diagnostic) -> tuple[str, int, int]:
    return (d.span.source.name, d.span.line, d.span.column) if d.span else ("", 0, 0)


class FsfError(Exception):
    """The root of every error this library raises for bad input."""


class SchemaError(FsfError):
    """A schema that does not parse or check; ``diagnostics`` holds every problem found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = tuple(sorted(diagnostics, key=_position))
        super().__init__(self.render())

    def render(self, color: bool = False) -> str:
        """All diagnostics, compiler style, separated by blank lines."""
        return "\n\n".join(d.render(color) for d in self.diagnostics)


Loc = tuple[Any, ...]
"""Where in a value, as segments from the root: a field or variant name (``str``), an array index (``int``) or a
map key as the key itself (``("tasks", 3, "dependsOn", 0)``; pydantic calls it ``loc``)."""


class ValidationError(FsfError, ValueError):
    """A value that does not match its type: ``Expected `str`, got `int` - at `$.tasks[3].id```.

    ``message`` is the text before `` - at``; ``path`` the ``$…`` text and ``loc`` the same place as a tuple of
    segments (:data:`Loc`). ``errors`` lists every error found: just this one, unless it was raised by
    ``validate(..., all_errors=True)``, when it holds all of them in the order of the value (and ``message``,
    ``path`` and ``loc`` are the first one's).
    """

    def __init__(self, message: str, path: str = "$", loc: Loc = ()) -> None:
        self.message = message
        self.path = path
        self.loc = loc
        self._errors: tuple[ValidationError, ...] = ()
        super().__init__(f"{message} - at `{path}`")

    @property
    def errors(self) -> tuple[ValidationError, ...]:
        """Every error of the value (this one alone for a first-error validation)."""
        return self._errors or (self,)

    @classmethod
    def every(cls, errors: Sequence[ValidationError]) -> ValidationError:
        """One error that stands for all of ``errors`` (at least one): its text has one line per error."""
        first = errors[0]
        out = cls(first.message, first.path, first.loc)
        out._errors = tuple(errors)
        out.args = ("\n".join(str(e) for e in errors),)
        return out


class Unreadable:
    """A placeholder for a part of a value that an earlier stage could not read (a JSON spelling that is not
    base64, hex, RFC 3339 or a decimal key), carrying that stage's message. Collecting validation
    (``all_errors=True``) reports the message where it meets the placeholder, so every error of the value comes
    out in one walk; no type accepts it. A map key stands in for the key as written, ``key``, which its path
    shows."""

    __slots__ = ("key", "message")

    def __init__(self, message: str, key: str | None = None) -> None:
        self.message = message
        self.key = key

    def __repr__(self) -> str:
        return f"<unreadable: {self.message}>"


class DecodeError(FsfError, ValueError):
    """Bytes that are not a canonical FSV value of the schema: a stable ``code`` and a byte ``offset``."""

    def __init__(self, code: str, message: str, offset: int) -> None:
        self.code = code
        self.message = message
        self.offset = offset
        super().__init__(f"{message} - at byte {offset} [{code}]")


class IncompatibleError(DecodeError):
    """A value that cannot be read as the reader's type (``docs/evolution.md``): code ``incompatible``, the
    ``rule`` broken (an id of ``docs/breaking.md``), the value ``path`` (``$`` when the schemas alone decide it),
    the writer's and the reader's types (``writer``, ``reader``: ``Name blake3:…``) and the reader's ``location``
    (``file:line:col``, when the reader was loaded from source), and the reader's type path ``site``.
    ``offset`` is where the payload starts: the
    bytes are fine as the writer's; it is the reading that fails."""

    def __init__(self, rule: str, message: str, *, path: str, writer: str, reader: str,
                 location: str | None = None, offset: int = 0, site: str | None = None) -> None:
        self.code = "incompatible"
        self.site = site
        """The reader's type path of the part that does not read (``ForgeTask.status``), when known."""
        self.rule = rule
        self.message = message
        self.offset = offset
        self.path = path
        self.writer = writer
        self.reader = reader
        self.location = location
        where = f" (reader: {location})" if location else ""
        FsfError.__init__(self, f"cannot read {writer} as {reader}: {message} [{rule}] - at `{path}`{where}")


class UsageError(FsfError):
    """A request the library cannot honour as asked (a wrong file kind, a missing type name)."""


class ViewError(FsfError):
    """A template that does not compile, escapes its sandbox, exceeds a limit or fails while rendering a view.

    ``template`` and ``line`` say where (when known); ``reason`` is the message without the location.
    """

    def __init__(self, reason: str, template: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.template = template
        self.line = line
        where = f"{template}:{line}: " if template and line else f"{template}: " if template else ""
        super().__init__(f"{where}{reason}")


class StoreError(FsfError):
    """A store that cannot do what was asked: a stable ``code`` (``docs/store.md``, "Errors"), the object's
    ``id`` when there is one, the value path ``path`` of a reference and the ``value`` that holds it."""

    def __init__(self, code: str, message: str, *, id: str | None = None, path: str | None = None,
                 value: str | None = None) -> None:
        self.code = code
        self.message = message
        self.id = id
        self.path = path
        self.value = value
        where = f" - at `{path}`" + (f" of {value}" if value else "") if path else ""
        super().__init__(f"{message}{where} [{code}]")


class Refused(Exception):  # a signal between codec paths, not an error anyone sees: no FsfError
    """Internal signal, never raised to users and not an :class:`FsfError`: a fast codec path (native C or pure
    Python) does not take this input. The :class:`fsf.fsv.codec.Codec` catches exactly this and asks its next
    path; the reference path decides and words the error (``docs/fsv.md``, "Execution paths")."""
