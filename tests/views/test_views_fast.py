"""Views, the fast paths: each against its reference (differential) and guarded (a test fails if it stops serving).

The fast paths: the compiled value model (:class:`~fsf.views.model.ModelPlan`) against the walk that defines it
(:func:`~fsf.views.view_value`); the escapers' one-scan paths against their every-rule paths; the sandbox's output
hook (one call per ``{{ … }}``, one chunk per run of output) against Jinja's own code generation; its ``map``
against Jinja's; loops over sequences charged their length at once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2
import jinja2.filters
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.compiler import CodeGenerator

import fsf
from fsf import ir, views
from fsf.views import escape, model, sandbox
from fsf.views.model import Blob, Instant, ModelPlan, Record, Variant
from tests.support.strategies import lenient, schema_texts, values

ROOT = Path(__file__).resolve().parents[2]
PLAN_SCHEMA = ROOT / "shapes" / "forge-plan.fsf"


def _plain(x: Any) -> Any:
    """A view-model value as comparable data, keeping every type and every order (fields, map keys)."""
    if isinstance(x, Record):
        return ("Record", str(x), [(k, _plain(v)) for k, v in x._fields.items()])
    if isinstance(x, Variant):
        return ("Variant", x.name, _plain(x.fields))
    if isinstance(x, (Instant, Blob)):
        return (type(x).__name__, x)
    if isinstance(x, tuple):
        return ("tuple", [_plain(v) for v in x])
    if isinstance(x, dict):
        return ("dict", [(k, _plain(v)) for k, v in x.items()])
    return (type(x).__name__, x)


# --- The value model ------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_the_compiled_model_equals_the_walk_on_generated_schemas_and_values(data: st.DataObject) -> None:
    """Canonical values (as decoding gives them) and their lenient spellings (as `render_value` passes them on:
    absent optionals left out, times as datetimes), on schemas with every type, recursion included."""
    schema = fsf.compile_source(data.draw(schema_texts()))
    name = data.draw(st.sampled_from(schema.shapes))
    value = data.draw(values(schema.ir, name))
    for form in (value, data.draw(lenient(schema.ir, name, value))):
        want = views.view_value(schema.ir, ir.Named(name), form)
        assert _plain(ModelPlan(schema.ir)(ir.Named(name), form)) == _plain(want)


def test_the_compiled_model_keeps_declaration_order_and_reads_absent_fields_as_none() -> None:
    schema = fsf.compile_source("shape P { a: str, b: arr[0..4]<u8>, c: str?, d: time }")
    shuffled = {"d": 0, "b": [1, 2], "a": "x"}  # another order, `c` left out
    got = ModelPlan(schema.ir)(ir.Named("P"), shuffled)
    assert _plain(got) == _plain(views.view_value(schema.ir, ir.Named("P"), shuffled))
    assert list(got._fields) == ["a", "b", "c", "d"] and got.c is None and got.b == (1, 2)
    assert str(got.d) == "1970-01-01T00:00:00Z"


def test_rendering_uses_the_compiled_model_and_decoded_records_take_the_one_copy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard: a render never walks the value with `view_value`, and a decoded record (every field, in order) is
    copied whole, never read field by field."""
    schema = fsf.load_schema(PLAN_SCHEMA)
    plan = schema.decode(schema.encode("ForgePlan", _plan(schema, 3)))
    want = fsf.render_markdown(schema, schema.encode("ForgePlan", plan))

    def refused(*args: Any) -> Any:
        raise AssertionError("the slow path served")

    monkeypatch.setattr(model, "view_value", refused)
    monkeypatch.setattr(model, "_read_fields", refused)
    assert fsf.render_markdown(schema, schema.encode("ForgePlan", plan)) == want


def _plan(schema: fsf.Schema, tasks: int) -> dict[str, Any]:
    return {"sessionId": "s-1", "title": "Plan *one*", "tasks": [
        {"id": f"T{i}", "title": f"Task_{i} | x", "status": "in_progress", "category": "test",
         "dependsOn": [f"T{j}" for j in range(i)], "files": [f"src/a_{i}.py", "b`c"], "description": "Line.\n\nTwo"}
        for i in range(tasks)], "batches": [{"id": "B1", "taskIds": ["T0"], "strategy": "x", "worktreeRef": "w|1"}]}


# --- Escaping -------------------------------------------------------------------------------------------------

# The inline rules as first written (each alternative tried at every position); the module's pattern is the same
# set of matches with every alternative led by its character.
_SPEC_INLINE_SPECIAL = re.compile(r"[\\`*\[\]<>|#~$]|&(?=#?[0-9A-Za-z]+;)|(?<![^\W_])_|_(?![^\W_])")

_TEXT = st.text(alphabet=st.sampled_from(
    [*"aZ09 _-+=.)&#;*`|\\[]<>~$!\t\r\n", "\u0663", "\xa0", "\u2028", "\x00", "\x1b", "\x85", "\x9f",
     "\u202e", "\u2066", "\u200e", "\u061c", "é", "—", "ß"]), max_size=24)


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_each_escaper_equals_its_every_rule_path(text: str) -> None:
    assert escape.escape_inline(text) == escape._escape_inline(text)
    assert escape.escape_paragraphs(text) == escape._escape_paragraphs(text)
    assert escape._INLINE_SPECIAL.sub(r"\\\g<0>", text) == _SPEC_INLINE_SPECIAL.sub(r"\\\g<0>", text)
    for in_table in (True, False):
        assert escape.code_span(text, in_table) == _spec_code_span(text, in_table)


def _spec_code_span(text: str, in_table: bool) -> str:
    """`code_span` as first written: every substitution, then the fence."""
    if not text:
        return ""
    body = escape.LINE_BREAK.sub("\u2424", escape.show_invisible(text))
    if in_table:
        body = body.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0) if "`" in body else 0
    fence = "`" * (longest + 1)
    pad = body[0] == "`" or body[-1] == "`" or (body[0] == " " and body[-1] == " " and body.strip(" ") != "")
    return f"{fence} {body} {fence}" if pad else f"{fence}{body}{fence}"


@pytest.mark.parametrize("text", ["T12", "in", "über", "\u0663", "Batch Migrate — Manifest", "a b. c, d", "",
                                  "x86-64 (see 1.2)"])
def test_text_that_needs_nothing_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """Guard: words, ids and plain sentences are returned as they are, without the every-rule paths."""
    def refused(text: str) -> str:
        raise AssertionError("the every-rule path served")

    monkeypatch.setattr(escape, "_escape_inline", refused)
    monkeypatch.setattr(escape, "_escape_paragraphs", refused)
    assert escape.escape_inline(text) is text
    assert escape.escape_paragraphs(f"  {text} ") == text.strip()


# --- The sandbox's output -------------------------------------------------------------------------------------


class _JinjaGenerator(sandbox._Generator):
    """The sandbox's generator with Jinja's own output code (`escape(environment.finalize(x))`, one yield per
    piece): the reference the output hook and the merged chunks are tested against."""

    visit_Output = CodeGenerator.visit_Output
    _output_child_pre = CodeGenerator._output_child_pre
    _output_child_post = CodeGenerator._output_child_post


class _JinjaOutput(sandbox.Environment):
    code_generator_class = _JinjaGenerator


class _JinjaMap(sandbox.Environment):
    """The sandbox with Jinja's own `map`."""

    def __init__(self, loader: jinja2.BaseLoader, budget: sandbox.Budget) -> None:
        super().__init__(loader, budget)
        self.filters["map"] = jinja2.filters.FILTERS["map"]


TEMPLATES = {
    "base.md.j2": "# {{ value.title }}\n{% block body %}base {{ value.items | join('|') }}{% endblock %}\nend\n",
    "part.md.j2": "part: {{ value.title }} {{ '\u202e' | raw }}\n",
}
SOURCES = [
    "{{ value.title }} {{ value.items | join(', ') }} {{ value.items | map('upper') | join }}\n"
    "{{ value.items | map('code', in_table=false) | list }} {{ value.items | map('replace', 'a', '*') | join }}\n",
    "{% macro m(x) %}[{{ x }}|{{ '*' }}]{% endmacro %}{{ m('*a*') }} {{ m(value.title) }} {{ m(value.items) }}\n",
    "{% set s %}{{ value.title }}|{{ '<b>' }}\u202e{% endset %}{{ s }} {{ s | length }} {{ s | upper }}\n",
    "{% filter upper %}{{ value.title }} a*b {{ value.items | join }}{% endfilter %}\n",
    "{% macro box() %}({{ caller() }}){% endmacro %}{% call box() %}x{{ '#' }} {{ value.title }}{% endcall %}\n",
    "{% autoescape false %}{{ '*' }} {{ value.title }}{% endautoescape %} {{ '*' }}\n",
    "{{ 'a' ~ value.title ~ ('x|y' | code) }} {{ (value.title | code) ~ '<' }} {{ value.title | raw }}\n",
    "{% for i in value.items %}{{ loop.index }}:{{ i }}{% if not loop.last %}, {% endif %}{% endfor %}\n",
    "{% for k, v in {'b': value.title, 'a': 1}.items() %}{{ k }}={{ v }} {% endfor %}{{ none }}{{ true }}{{ 2.5 }}\n",
    "{% include 'part.md.j2' %}{{ value.items | map(attribute='upper') | list | length }}\n",
    "{% extends 'base.md.j2' %}{% block body %}child {{ super() }} {{ value.title }}{% endblock %}",
    "{% for x in value.items recursive %}{{ x }}{% endfor %}\n{{ value | string }} {{ value.items | reverse | join }}",
]
HOSTILE_TITLES = ["Plain title", "# head | *x* <b> _y_ \u202e\x1b[2J", " -1. x\r\ny", "`tick`", "&amp; \\"]


def _render(env_class: type[sandbox.Environment], folder: Path, source: str, value: Any) -> str:
    env = env_class(sandbox.ConfinedLoader((folder,)), sandbox.Budget(views.Limits()))
    return env.from_string(source).render(value=value)


@pytest.mark.parametrize("source", SOURCES)
def test_the_output_hook_writes_what_jinjas_output_code_writes(tmp_path: Path, source: str) -> None:
    for name, text in TEMPLATES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    schema = fsf.compile_source("shape Note { title: str, items: arr[0..8]<str> }")
    for title in HOSTILE_TITLES:
        value = ModelPlan(schema.ir)(ir.Named("Note"), {"title": title, "items": ["a", title, "-b"]})
        want = _render(_JinjaOutput, tmp_path, source, value)
        assert _render(sandbox.Environment, tmp_path, source, value) == want
        assert _render(_JinjaMap, tmp_path, source, value) == want


def test_output_goes_through_the_hook_in_one_chunk_per_run() -> None:
    """Guard: the code of a template writes every `{{ … }}` through `fsf_emit`, never Jinja's `escape(finalize)`,
    and yields a run of text and values as one chunk."""
    env = sandbox.Environment(jinja2.DictLoader({}), sandbox.Budget(views.Limits()))
    code = env.compile("# {{ value.title }}\n{% for t in value.items %}- {{ t }}: {{ t | code }}\n{% endfor %}",
                       raw=True)
    assert "environment.fsf_emit(" in code and "environment.finalize(" not in code and "escape(" not in code
    assert code.count("yield ''.join(_fsf_out)") == 2
    schema = fsf.load_schema(PLAN_SCHEMA)
    data = schema.encode("ForgePlan", _plan(schema, 4))
    seen: list[int] = []
    original = jinja2.Template.generate

    def counted(self: jinja2.Template, *args: Any, **kwargs: Any) -> Any:
        for chunk in original(self, *args, **kwargs):
            seen.append(len(chunk))
            yield chunk

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jinja2.Template, "generate", counted)
        fsf.render_markdown(schema, data)
    assert len(seen) == 1 + 2 * 4 + 1 + 1  # the head, each task (bullets, description), the table head, a batch


def test_map_of_a_plain_filter_skips_jinjas_per_item_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard: `map('code')` on the ForgePlan view runs the filter directly (Jinja's `map` would look it up per
    item); `map(attribute=…)` and an unknown filter are still Jinja's, with Jinja's message."""
    schema = fsf.load_schema(PLAN_SCHEMA)
    data = schema.encode("ForgePlan", _plan(schema, 2))
    want = fsf.render_markdown(schema, data)
    jinjas = jinja2.filters.sync_do_map
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jinja2.filters, "sync_do_map", lambda *a, **k: pytest.fail("Jinja's map served"))
        assert fsf.render_markdown(schema, data) == want
    assert jinja2.filters.sync_do_map is jinjas
    note = fsf.compile_source("shape Note { items: arr[0..8]<str> }")
    with pytest.raises(views.ViewError, match=r"^t\.md\.j2:1: template error: TemplateRuntimeError: No filter named "
                                              r"'nope'$"):
        _render_note(note, "{{ value.items | map('nope') | join }}")


def _render_note(schema: fsf.Schema, source: str, limits: views.Limits | None = None) -> str:
    folder = Path(views.BUNDLED_DIR)
    choice = views.TemplateChoice(Path("t.md.j2"), (folder,), source)
    return views.render_with(schema.ir, "Note", {"items": ["a", "b", "c"]}, "v", "t", choice, limits or views.Limits())


# --- Budgets --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [
    "{% for x in value.items %}{% endfor %}",
    "{% for x in value.items | map('upper') %}{% endfor %}",
    "{{ value.items | join }}",
    "{{ value.items | map('upper') | join }}",
    "{% for k in {'a': 1, 'b': 2, 'c': 3} %}{% endfor %}",
    "{% for c in 'abc' %}{% endfor %}",
])
def test_a_loop_spends_one_step_per_item_whether_charged_at_once_or_item_by_item(source: str) -> None:
    note = fsf.compile_source("shape Note { items: arr[0..8]<str> }")
    assert _render_note(note, source, views.Limits(max_steps=3)).startswith(views.PROVENANCE_PREFIX)  # 3 items: 3 steps
    with pytest.raises(views.ViewError) as err:
        _render_note(note, source, views.Limits(max_steps=2))
    assert str(err.value) == "t.md.j2:1: template limit: more than 2 loop steps and calls"


def test_a_sequence_is_charged_its_length_and_iterated_as_it_is() -> None:
    """Guard: a tuple, list, dict, str or range is not wrapped in a per-item generator."""
    budget = sandbox.Budget(views.Limits())
    env = sandbox.Environment(jinja2.DictLoader({}), budget)
    for seq in (("a", "b"), ["a"], {"a": 1}, "abc", range(4)):
        assert env.fsf_iterate(seq) is seq
    assert budget.steps == 2 + 1 + 1 + 3 + 4
    assert env.fsf_iterate(iter("ab")) is not None and budget.steps == 11  # a generator: charged as it yields
