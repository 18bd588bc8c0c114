"""Views, escaping: untrusted text -> Markdown that renders as that text and nothing else.

Every escaper (inline text, paragraphs, code spans) first shows control and bidirectional characters as
``\\u{XXXX}`` (:func:`show_invisible`), and the renderer runs that function once more over the whole output,
so no such character reaches a view.
"""

from __future__ import annotations

import re

from fsf.text import INVISIBLE_CLASS as _INVISIBLE_CLASS
from fsf.text import code_point

# `_` inside a word (``in_progress``) cannot open or close emphasis, so it stays readable; anywhere else it is
# escaped like the other punctuation Markdown gives a meaning to. Every alternative starts with its character (the
# `_` rule looks behind only after it), so the engine skips to candidates instead of trying each position.
_PUNCTUATION = r"\\`*\[\]<>|#~$"
_INLINE_SPECIAL = re.compile(rf"[{_PUNCTUATION}]|&(?=#?[0-9A-Za-z]+;)|_(?:(?<![^\W_]_)|(?![^\W_]))")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
"""A line break in any of its three spellings; every line of a view ends with LF alone."""
# What a reader must see rather than have acted on: the one list in fsf/text.py (each escaper treats tab and the
# line breaks itself).
_INVISIBLE = re.compile(f"[{_INVISIBLE_CLASS}]")
# What makes a line a list item, a thematic break or a setext underline when it starts the line.
_LIST_START = re.compile(r"(?:[-+]|\d{1,9}[.)])(?=[ \t\r\n]|\Z)|[-=](?=[-= \t]*(?:[\r\n]|\Z))")
# The fast paths' one scan: a string without any of these characters is left as it is by every substitution of
# `escape_inline` (it may still need its start escaped). `_` and `&` are here whatever follows them: the scan only
# decides whether the exact rules run.
_INLINE_TOUCHED = re.compile(f"[{_INVISIBLE_CLASS}{_PUNCTUATION}&_\r\n]")
# The same for paragraphs and code spans, which change only controls and line breaks.
_LINE_TOUCHED = re.compile(f"[{_INVISIBLE_CLASS}\r\n]")
# The first characters `_LIST_START` can match (`\d` is any Unicode decimal digit, see `str.isdecimal`) and the
# two a leading-space rule rewrites.
_START_TOUCHED = frozenset("-+= \t")


def _shown_as_code_point(m: re.Match[str]) -> str:
    return code_point(m.group())


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
    # The fast paths: no rule would change the text. Letters and digits alone (an id, a status, a word) are
    # neither punctuation nor controls nor line breaks, and cannot start a list item (that takes `-`, `+`, `=` or
    # digits and then `.` or `)`); other text takes one scan for what any rule acts on, and a look at its start.
    if text.isalnum() or (_INLINE_TOUCHED.search(text) is None
                          and not (text[:1] in _START_TOUCHED or text[:1].isdecimal())):
        return text
    return _escape_inline(text)


def _escape_inline(text: str) -> str:
    """:func:`escape_inline`, every rule applied (the reference its fast path is tested against)."""
    out = _INLINE_SPECIAL.sub(r"\\\g<0>", show_invisible(text))
    m = _LIST_START.match(out)
    if m:
        out = out[: m.end() - 1] + "\\" + out[m.end() - 1 :]
    if out[:1] in (" ", "\t"):
        out = f"&#{ord(out[0])};{out[1:]}"
    return LINE_BREAK.sub("<br>", out)


def escape_paragraphs(text: str) -> str:
    """Multi-line ``text`` as Markdown paragraphs: blank lines separate paragraphs, other lines stay lines."""
    if _LINE_TOUCHED.search(text) is None:  # the fast path: one line with nothing to show
        stripped = text.strip()
        return escape_inline(stripped) if stripped else ""
    return _escape_paragraphs(text)


def _escape_paragraphs(text: str) -> str:
    """:func:`escape_paragraphs`, line by line (the reference its fast path is tested against)."""
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
    body = text if _LINE_TOUCHED.search(text) is None else LINE_BREAK.sub("\u2424", show_invisible(text))
    if in_table:
        body = body.replace("|", "\\|")
    # A space each side keeps a backtick at either end off the fence; with a space at both ends (and something
    # else inside) CommonMark would strip one from each side, so one more is added.
    spaced = body[0] == " " and body[-1] == " " and body.strip(" ") != ""
    if "`" not in body:
        return f"` {body} `" if spaced else f"`{body}`"
    fence = "`" * (max(len(run) for run in re.findall(r"`+", body)) + 1)
    return f"{fence} {body} {fence}" if spaced or body[0] == "`" or body[-1] == "`" else f"{fence}{body}{fence}"

