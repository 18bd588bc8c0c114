"""Views, escaping: untrusted text -> Markdown that renders as that text and nothing else.

Every escaper (inline text, paragraphs, code spans) first shows control and bidirectional characters as
``\\u{XXXX}`` (:func:`show_invisible`), and the renderer runs that function once more over the whole output,
so no such character reaches a view.
"""

from __future__ import annotations

import re

# `_` inside a word (``in_progress``) cannot open or close emphasis, so it stays readable; anywhere else it is
# escaped like the other punctuation Markdown gives a meaning to.
_INLINE_SPECIAL = re.compile(r"[\\`*\[\]<>|#~$]|&(?=#?[0-9A-Za-z]+;)|(?<![^\W_])_|_(?![^\W_])")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""A line break in any of its three spellings; every line of a view ends with LF alone."""
# What a reader must see rather than have acted on: C0 and C1 controls except tab and the line breaks (each
# escaper treats those), DEL, and the bidirectional marks, embeddings, overrides and isolates that reorder text.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What makes a line a list item, a thematic break or a setext underline when it starts the line.
_LIST_START = re.compile(r"(?:[-+]|\d{1,9}[.)])(?=[ \t\r\n]|\Z)|[-=](?=[-= \t]*(?:[\r\n]|\Z))")


def _escape_char(m: re.Match[str]) -> str:
    return "\\" + m.group()


def _shown_as_code_point(m: re.Match[str]) -> str:
    return f"\\u{{{ord(m.group()):04X}}}"


def show_invisible(text: str) -> str:
    """``text`` with every control character (except tab and line breaks), DEL and bidirectional control written
    as ``\\u{XXXX}``: what a terminal or an editor would act on (reorder the line, move the cursor, change
    colours) is shown instead. Every escaper applies it first, and rendering once more to the whole output.

    >>> show_invisible("ok\u202etxt.exe\x1b[2J")
    'ok\\\\u{202E}txt.exe\\\\u{001B}[2J'
    """
    return _INVISIBLE.sub(_shown_as_code_point, text)


def escape_inline(text: str) -> str:
    """``text`` as inline Markdown that cannot start a block, close a heading, break a table row or open HTML.

    Control and bidirectional characters are shown as ``\\u{XXXX}`` (:func:`show_invisible`), Markdown
    punctuation is backslash-escaped, line breaks become ``<br>`` (so the value stays on its line), a leading
    list, heading or setext marker is escaped, and a leading space is kept as ``&#32;`` (so a value at the start
    of a line never becomes an indented code block).

    >>> escape_inline("# a|b <script>")
    '\\\\# a\\\\|b \\\\<script\\\\>'
    """
    out = _INLINE_SPECIAL.sub(_escape_char, show_invisible(text))
    m = _LIST_START.match(out)
    if m:
        out = out[: m.end() - 1] + "\\" + out[m.end() - 1 :]
    if out[:1] in (" ", "\t"):
        out = f"&#{ord(out[0])};{out[1:]}"
    return LINE_BREAK.sub("<br>", out)


def escape_paragraphs(text: str) -> str:
    """Multi-line ``text`` as Markdown paragraphs: blank lines separate paragraphs, other lines stay lines."""
    paragraphs: list[list[str]] = [[]]
    for line in LINE_BREAK.split(show_invisible(text)):  # first: strip() would drop some controls unseen
        stripped = line.strip()
        if not stripped:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        paragraphs[-1].append(escape_inline(stripped))
    return "\n\n".join("\n".join(p) for p in paragraphs if p)


def code_span(text: str, in_table: bool = True) -> str:
    """``text`` as a code span, fenced with more backticks than it contains; ``''`` for empty text.

    Line breaks show as U+2424 (a code span cannot hold one without ending its line), control and bidirectional
    characters as ``\\u{XXXX}`` (:func:`show_invisible`). ``|`` is escaped unless
    ``in_table`` is false: GitHub splits table rows before it reads code spans, elsewhere the backslash shows.

    >>> code_span("a`b")
    '``a`b``'
    """
    if not text:
        return ""
    body = LINE_BREAK.sub("\u2424", show_invisible(text))
    if in_table:
        body = body.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0) if "`" in body else 0
    fence = "`" * (longest + 1)
    pad = body[0] == "`" or body[-1] == "`" or (body[0] == " " and body[-1] == " " and body.strip(" ") != "")
    return f"{fence} {body} {fence}" if pad else f"{fence}{body}{fence}"

