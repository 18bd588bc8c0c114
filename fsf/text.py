"""Text: untrusted text -> the same text with what a terminal or an editor would act on shown as ``\\u{XXXX}``.

The one list of those characters: what a reader must see rather than have acted on (move the cursor, change
colours, reorder a line). :mod:`fsf.ir.source` shows them in the doc comments it prints (``fsf store show`` prints
a stored schema, which may be hostile) and refuses them in strings; the views' escapers (:mod:`fsf.views.escape`)
show the same characters in Markdown.
"""

from __future__ import annotations

import re

BIDI_CLASS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""A regular-expression class: the bidirectional marks, embeddings, overrides and isolates that reorder text (the
schema parser refuses them in `.fsf` text, F002)."""

INVISIBLE_CLASS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + BIDI_CLASS
"""A regular-expression class: C0 and C1 controls except tab and the line breaks LF and CR (each user treats
those), DEL, and :data:`BIDI_CLASS`."""

LINE_BREAK_CLASS = "\n\r\u2028\u2029"
"""The characters besides LF that a terminal or an editor may take as the end of a line (U+0085, NEL, is a C1
control: in :data:`INVISIBLE_CLASS`)."""

_IN_A_LINE = re.compile(f"[{INVISIBLE_CLASS}{LINE_BREAK_CLASS}]")


def code_point(char: str) -> str:
    """``\\u{XXXX}``: how a shown character is written (at least four upper-case hex digits)."""
    return f"\\u{{{ord(char):04X}}}"


def invisible_in_a_line(text: str) -> re.Match[str] | None:
    """The first character of ``text`` that one line of printed text must not hold as it is: an invisible
    character or a line break (None if there is none)."""
    return _IN_A_LINE.search(text)


def show_in_a_line(text: str) -> str:
    """``text`` with every invisible character and line break written as ``\\u{XXXX}``: it prints as one line
    that shows exactly what it holds.

    >>> show_in_a_line("ok\\u202etxt\\rexe\\x1b[2J")
    'ok\\\\u{202E}txt\\\\u{000D}exe\\\\u{001B}[2J'
    """
    return _IN_A_LINE.sub(lambda m: code_point(m.group()), text)
