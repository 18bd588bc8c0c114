"""Views: hostile strings in every position of the ForgePlan view (and of the generic view) stay plain text.

Each view is parsed back with a CommonMark parser (markdown-it-py, GFM tables and strikethrough on). A hostile
value must leave the document with exactly the block and inline structure that a harmless value gives (no extra
heading, list, table row or cell, no HTML, link, image or emphasis), and must read back as the same text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import markdown_it
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fsf
from fsf import views
from fsf.render import render_value

ROOT = Path(__file__).resolve().parents[2]
PLAN_SCHEMA = ROOT / "shapes" / "forge-plan.fsf"

HOSTILE = [
    "", "|", "a | b", "||", "\\|", "a\\", "\\", "line1\nline2", "\n# heading", "# heading", "## h ##", "#",
    "- item", "* item", "+ item", "-", "1. item", "1) item", "2024. year", "> quote", "`code`", "``", "a`b``c",
    "```\nfence\n```", "~~~", "~~strike~~", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "<!-- comment -->", "-->", "&amp; &lt; &#60;script&#62;", "*bold*", "**strong**", "_em_", "__init__",
    "in_progress", "[link](http://evil.example)", "![img](http://evil.example/x.png)", "[ref]: http://evil.example",
    "<http://evil.example>", "---", "===", "***", "    indented code", "\tTab", " leading space",
    "trailing space ", "a\r\nb", "a\rb", "$x$", "\x00nul", "@user #123", "{{ 7*7 }}", "{% raw %}", "[^1]", "<br>",
    "| --- |", "- [ ] todo", "a  \nb", "para one\n\npara two", "\n\n", "  \n  - x", "é_ñ_ü", "x" * 300,
    # What a terminal or an editor would act on: bidi overrides and isolates, escape sequences, C1 controls.
    "invoice\u202eexe.pdf", "a\u2066b\u2067c\u2068d\u2069e", "\u202a\u202b\u202c\u202d", "\u061c\u200e\u200f",
    "\x1b[31mred\x1b[0m", "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07", "\x1b[2J\x1b[H", "\x7f\x85\x9b",
    "\x0b\x0c", "\x1f unit\x1e", "\u202e\n# heading", "- \u202e item",
]

_SHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def shown(value: str) -> str:
    """The documented rule (docs/views.md): controls but tab and line breaks, DEL and bidi marks as \\u{XXXX}."""
    return _SHOWN.sub(lambda m: f"\\u{{{ord(m.group()):04X}}}", value)


def md() -> Any:
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])


def plain(children: list[Any]) -> str:
    """The text an inline token list reads as: our `<br>` and soft breaks as newlines."""
    out = []
    for tok in children:
        if tok.type in ("text", "text_special", "code_inline"):
            out.append(tok.content)
        elif tok.type == "softbreak":
            out.append("\n")
        elif tok.type == "html_inline" and tok.content == "<br>":
            out.append("\n")
    return "".join(out)


def structure(text: str) -> list[tuple[str, ...]]:
    """Block tokens (type, tag) and, for inline tokens, the kinds of their children with text runs merged."""
    shape: list[tuple[str, ...]] = []
    for tok in md().parse(text):
        if tok.type != "inline":
            shape.append((tok.type, tok.tag))
            continue
        kinds: list[str] = []
        for child in tok.children or []:
            kind = child.type
            if kind in ("text_special", "softbreak") or (kind == "html_inline" and child.content == "<br>"):
                kind = "text"
            if kind == "text" and kinds and kinds[-1] == "text":
                continue
            kinds.append(kind)
        shape.append(("inline", *kinds))
    return shape


def inline_texts(text: str) -> list[str]:
    return [plain(tok.children or []) for tok in md().parse(text) if tok.type == "inline"]


def as_text(value: str) -> str:
    """How an inline value reads back: one line with its breaks, controls and bidi marks shown."""
    return re.sub(r"\r\n|\r", "\n", shown(value))


def as_code(value: str) -> str:
    return re.sub(r"\r\n|\r|\n", "\u2424", shown(value))


def as_paragraphs(value: str) -> list[str]:
    groups: list[list[str]] = [[]]
    for line in re.split(r"\r\n|\r|\n", shown(value)):
        if line.strip():
            groups[-1].append(line.strip())
        elif groups[-1]:
            groups.append([])
    return ["\n".join(g) for g in groups if g]


def plan_of(h: str, description: str | None = None) -> dict[str, Any]:
    task = {"id": h, "title": h, "status": h, "category": h, "dependsOn": [h, h], "files": [h, h],
            "description": h if description is None else description}
    batch = {"id": h, "taskIds": [h, h], "strategy": h, "worktreeRef": h}
    return {"sessionId": h, "title": h, "tasks": [task, dict(task)], "batches": [batch, dict(batch)]}


@pytest.fixture(scope="module")
def plan_schema() -> fsf.Schema:
    return fsf.load_schema(PLAN_SCHEMA)


_BLANK = " \t\x0b\x0c"
"""What Markdown trims around inline content."""


def _norm(texts: list[str]) -> list[str]:
    return [t.strip(_BLANK) for t in texts]


@pytest.mark.parametrize("h", HOSTILE, ids=[repr(h)[:40] for h in HOSTILE])
def test_hostile_string_in_every_position_of_the_forge_plan_view(plan_schema: fsf.Schema, h: str) -> None:
    hostile = render_value(plan_schema, "ForgePlan", plan_of(h))
    paragraphs = len(as_paragraphs(h))
    benign_description = "\n\n".join(["x"] * paragraphs)
    harmless = "x" if as_text(h).strip(" \t") else ""
    benign = render_value(plan_schema, "ForgePlan", plan_of(harmless, benign_description))
    # The same document structure as a harmless value gives: no new heading, list, table row, cell or HTML.
    assert structure(hostile) == structure(benign)
    html = [t.content for t in md().parse(hostile) if t.type == "html_block"]
    assert html == [hostile.split("\n", 1)[0] + "\n"]  # the provenance comment, nothing else
    # And every position reads back as the value.
    code = as_code(h)
    task = [f"{as_text(h)}: {as_text(h)}", f"Status: {as_text(h)}", f"Category: {as_text(h)}",
            f"Depends on: {as_text(h)}, {as_text(h)}", f"Files: {code}, {code}" if code else "Files: ,",
            *as_paragraphs(h)]
    row = [as_text(h), f"{as_text(h)},{as_text(h)}", as_text(h), code]
    expected = [as_text(h), f"Session: {code}", "Tasks", *task, *task, "Execution Batches",
                "Batch", "Tasks", "Strategy", "Worktree", *row, *row]
    assert _norm(inline_texts(hostile)) == _norm(expected)


@pytest.mark.parametrize("h", HOSTILE, ids=[repr(h)[:40] for h in HOSTILE])
def test_hostile_string_in_every_string_position_of_the_generic_view(h: str) -> None:
    from tests.views.test_views import EVERY_TYPE, everything

    schema = fsf.compile_source(EVERY_TYPE)

    def value(s: str) -> dict[str, Any]:
        name = s if 1 <= len(s) <= 64 else "x"
        person = {"name": name, "email": s, "age": 1}
        return {**everything(), "text": s, "tags": [s, s], "owner": person, "people": [person, person],
                "scores": {s: 1, s + "2": 2}, "byStatus": {"done": person},
                "outcome": {"Failed": {"reason": s, "retries": 1}},
                "history": [{"Failed": {"reason": s, "retries": 1}}],
                "tree": {"label": s, "children": [{"label": s, "children": []}]}, "note": s}

    hostile = render_value(schema, "Everything", value(h), template_dirs=[])
    benign = render_value(schema, "Everything", value("x" if as_text(h).strip(" \t") else ""),
                                template_dirs=[])
    assert structure(hostile) == structure(benign)
    texts = _norm(inline_texts(hostile))
    text = f"text: {as_text(h)} —" if h else "text: —"
    assert f"{text} Free text, with its doc comment on two lines." in texts
    assert f"reason: {as_text(h)}".strip(" \t") in texts


def test_escaping_keeps_common_text_readable() -> None:
    assert views.escape_inline("Crate Refactor: WASM-Compatible VortexManifest") == (
        "Crate Refactor: WASM-Compatible VortexManifest")
    assert views.escape_inline("in_progress, x86_64, 0.9-to-1.0, -128, a+b=c") == (
        "in_progress, x86_64, 0.9-to-1.0, -128, a+b=c")
    assert views.escape_inline("# a|b <script> *x* _y_ [z]") == (
        "\\# a\\|b \\<script\\> \\*x\\* \\_y\\_ \\[z\\]")
    assert views.escape_inline("- x") == "\\- x"
    assert views.escape_inline("1. x") == "1\\. x"
    assert views.escape_inline("  x") == "&#32; x"
    assert views.escape_inline("a\r\nb\rc\nd") == "a<br>b<br>c<br>d"
    assert views.escape_inline("&copy; & &#169;") == "\\&copy; & \\&\\#169;"


def test_code_spans_fence_around_backticks() -> None:
    assert views.code_span("a`b", in_table=False) == "``a`b``"
    assert views.code_span("`x`", in_table=False) == "`` `x` ``"
    assert views.code_span(" a ", in_table=False) == "`  a  `"
    assert views.code_span("a|b") == "`a\\|b`"
    assert views.code_span("a|b", in_table=False) == "`a|b`"
    assert views.code_span("a\nb", in_table=False) == "`a\u2424b`"
    assert views.code_span("") == ""


def test_templates_escape_by_default_and_opt_out_explicitly(tmp_path: Path) -> None:
    schema = fsf.compile_source("shape Note { text: str }")
    template = tmp_path / "t.md.j2"
    template.write_text("{{ value.text }}|{{ value.text | raw }}|{{ value.text | safe }}|{{ value.text | e }}|"
                        "{{ value.text ~ '!' }}|{{ [value.text, value.text] | join('|') }}\n", encoding="utf-8")
    body = render_value(schema, "Note", {"text": "*hi*"}, template).splitlines()[1]
    assert body == "\\*hi\\*|*hi*|*hi*|\\*hi\\*|\\*hi\\*!|\\*hi\\*\\|\\*hi\\*"


_MARKDOWNY = st.text(alphabet=st.sampled_from(list("\\`*_[]()<>|#~$&;!-+=.:1 \t\n\rax/\"'{}^@%é\x00")), max_size=40)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_MARKDOWNY, st.text(max_size=40)))
def test_any_text_stays_one_plain_bullet_heading_and_cell(text: str) -> None:
    inline = views.escape_inline(text)
    code = views.code_span(text)
    doc = f"### {inline}\n- **x**: {inline}\n\n| a | b |\n|---|---|\n| {inline} | {code} |\n"
    blocks = [s for s in structure(doc) if s[0] != "inline"]
    assert blocks == [s for s in structure("### x\n- **x**: x\n\n| a | b |\n|---|---|\n| x | `x` |\n")
                      if s[0] != "inline"]
    children = [child for tok in md().parse(doc) for child in tok.children or []]
    assert [c.type for c in children].count("strong_open") == 1  # the label's, no other
    assert [c.type for c in children].count("code_inline") == (1 if code else 0)
    for child in children:
        assert child.type in ("text", "text_special", "softbreak", "code_inline", "strong_open", "strong_close") \
            or (child.type == "html_inline" and child.content == "<br>"), child
    texts = [t.strip() for t in inline_texts(doc)]  # the parser trims any Unicode white space at the ends
    assert texts[0] == as_text(text).strip()
    assert texts[-2] == as_text(text).strip()
    assert texts[-1] == as_code(text).strip()


# -- controls and bidirectional characters: shown, never acted on --------------------------------------------------

INVISIBLE = [h for h in HOSTILE if _SHOWN.search(h)]


def test_controls_and_bidi_marks_are_shown_as_code_points() -> None:
    every = "".join(map(chr, [*range(0x20), *range(0x7f, 0xa0), 0x61c, 0x200e, 0x200f, *range(0x202a, 0x202f),
                              *range(0x2066, 0x206a)]))
    shown_every = views.show_invisible(every)
    assert shown_every == "".join(c if c in "\t\n\r" else f"\\u{{{ord(c):04X}}}" for c in every)
    assert views.show_invisible("ok\u202etxt.exe\x1b[2J") == "ok\\u{202E}txt.exe\\u{001B}[2J"
    # Not controls: other invisible but harmless characters, and the text of an escape itself.
    assert views.show_invisible("a\u200bb\u00adc\ufeffd \\u{202E}") == "a\u200bb\u00adc\ufeffd \\u{202E}"


def test_every_escaper_shows_them() -> None:
    h = " \u202ea|b\x1b[31m\x00\n\u2066c\x7f"
    assert views.escape_inline(h) == "&#32;\\\\u{202E}a\\|b\\\\u{001B}\\[31m\\\\u{0000}<br>\\\\u{2066}c\\\\u{007F}"
    assert views.code_span(h) == "` \\u{202E}a\\|b\\u{001B}[31m\\u{0000}\u2424\\u{2066}c\\u{007F}`"
    assert views.code_span(h, in_table=False) == "` \\u{202E}a|b\\u{001B}[31m\\u{0000}\u2424\\u{2066}c\\u{007F}`"
    assert views.escape_paragraphs("\x1f" + h + "\n\n\x1e") == (
        "\\\\u{001F} \\\\u{202E}a\\|b\\\\u{001B}\\[31m\\\\u{0000}\n\\\\u{2066}c\\\\u{007F}\n\n\\\\u{001E}")


def _dispatch(h: str) -> dict[str, Any]:
    text = {"Text": {"value": h}}
    return {
        "request": {"dispatchId": h or "d", "cli": "codex", "model": {"provider": "openai", "model": h}, "prompt": h or "p",
                    "workingDirectory": h or "w", "env": {h or "K": h}, "timeoutSeconds": 1, "niceness": 0,
                    "maxTurns": None},
        "events": [{"TextChunk": {"text": h}},
                   {"ToolCall": {"callId": h, "tool": h, "input": {"Object": {"members": {h: text}}}}},
                   {"ToolResult": {"callId": h, "isError": False, "output": h, "attachment": None}},
                   {"Error": {"message": h, "retryable": True}}, {"Done": {}}],
        "output": {"text": h, "exitCode": 0, "durationMs": 1},
    }


@pytest.mark.parametrize("h", INVISIBLE, ids=[repr(h)[:40] for h in INVISIBLE])
def test_no_control_or_bidi_character_reaches_a_bundled_view(plan_schema: fsf.Schema, h: str) -> None:
    from tests.views.test_views import EVERY_TYPE, everything

    dispatch = fsf.load_schema(ROOT / "shapes" / "dispatch.fsf")
    every = fsf.compile_source(EVERY_TYPE)
    rendered = {
        "ForgePlan.md.j2": render_value(plan_schema, "ForgePlan", plan_of(h)),
        "DispatchTranscript.md.j2": render_value(dispatch, "DispatchTranscript", _dispatch(h)),
        "generic (dispatch)": render_value(dispatch, "DispatchTranscript", _dispatch(h), template_dirs=[]),
        "generic (every type)": render_value(every, "Everything", {**everything(), "text": h, "tags": [h]},
                                                   template_dirs=[]),
    }
    for name, text in rendered.items():
        assert _SHOWN.search(text) is None, name
        assert "\r" not in text, name
        assert shown(h).split("\n")[0].replace("\\", "") in text.replace("\\", ""), name


def test_raw_output_and_template_text_are_shown_too(tmp_path: Path) -> None:
    schema = fsf.compile_source("shape Note { text: str }")
    template = tmp_path / "t.md.j2"
    template.write_text("{{ value.text | raw }}|\x1b[1mbold\u202e|{{ value.text | paragraphs }}\r\nnext\rlast\n",
                        encoding="utf-8")
    body = render_value(schema, "Note", {"text": "\u2067x\x9b"}, template).split("\n", 1)[1]
    assert body == "\\u{2067}x\\u{009B}|\\u{001B}[1mbold\\u{202E}|\\\\u{2067}x\\\\u{009B}\nnext\nlast\n"
