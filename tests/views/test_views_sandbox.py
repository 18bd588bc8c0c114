"""Views: templates are code from users; every escape attempt and every resource abuse ends in a clean ViewError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fsf
from fsf import views
from fsf.cli.fsv_tool import app
from fsf.render import render_value

SCHEMA = "shape Note { text: str, items: arr[0..8]<str> }"
VALUE = {"text": "hi", "items": ["a", "b"]}

ESCAPES = {
    "{{ value.text.__class__ }}": "unsafe template: access to attribute '__class__' of 'str' object is unsafe",
    "{{ ''.__class__.__mro__ }}": "unsafe template: access to attribute '__class__' of 'str' object is unsafe",
    "{{ range.__globals__ }}": "unsafe template: access to attribute '__globals__' of 'method' object is unsafe",
    "{{ cycler.__init__.__globals__ }}": "unsafe template: access to attribute '__init__' of 'type' object is unsafe",
    "{{ value | attr('__class__') }}": "unsafe template: access to attribute '__class__' of 'Record' object is unsafe",
    "{{ value.items | attr('__class__') }}":
        "unsafe template: access to attribute '__class__' of 'tuple' object is unsafe",
    "{{ '{0.__class__}'.format(value) }}":
        "unsafe template: `str.format` is not available in views; use `~` and filters",
    "{{ '{:>999999999}'.format('x') }}": "unsafe template: `str.format` is not available in views; use `~` and filters",
    "{{ '%999999999s' % 'x' }}": "unsafe template: `%` formatting of strings is not available; use `~`",
    "{% set d = {} %}{{ d.update(a=1) }}": "unsafe template: access to attribute 'update' of 'dict' object is unsafe",
    "{{ (1).to_bytes(1000000000, 'big') }}":
        "unsafe template: access to attribute 'to_bytes' of 'int' object is unsafe",
    "{{ 'x'.center(1000000000) }}": "unsafe template: access to attribute 'center' of 'str' object is unsafe",
    "{{ 'x' | center(1000000000) }}": "unsafe template: the `center` filter is not available in views",
    "{{ value | tojson }}": "unsafe template: the `tojson` filter is not available in views",
    "{{ [1, 2] | random }}": "unsafe template: the `random` filter is not available in views",
    "{{ lipsum(1000000) }}": "template error: 'lipsum' is undefined",
}

_NOT_DATA = "(only text, numbers, booleans, none, values of the schema, and lists and dicts of them)"
NOT_DATA = {  # each would print a repr, most with a memory address: rendering would not be deterministic
    "{{ 'x' | map(attribute='format') | list }}": "function",
    "{{ 'x'.upper }}": "builtin_function_or_method",
    "{{ {}.items }}": "builtin_function_or_method",
    "{{ value.items.index }}": "builtin_function_or_method",
    "{{ (1.5).is_integer }}": "builtin_function_or_method",
    "{{ range }}": "method",
    "{{ range(3) }}": "range",
    "{{ cycler }}": "type",
    "{{ dict }}": "type",
    "{{ cycler('a', 'b') }}": "Cycler",
    "{{ joiner(',') }}": "Joiner",
    "{{ namespace(a=1) }}": "Namespace",
    "{% for x in value.items %}{{ loop }}{% endfor %}": "LoopContext",
    "{% for x in value.items %}{{ loop.cycle }}{% endfor %}": "method",
    "{{ self }}": "TemplateReference",
    "{% macro m() %}{% endmacro %}{{ m }}": "Macro",
    "{{ value.items | map('upper') }}": "generator",
    "{{ value.items | reverse }}": "reversed",
    "{{ {'a': 1}.items() }}": "dict_items",
    "{{ outline }}": "_LazyOutline",
    "{{ outline.root }}": "Section",
    "{{ [1, [2, [range]]] }}": "method",
    "{{ dict(a=cycler) }}": "type",
    "{{ {range: 1} }}": "method",
    # every way to text: `~`, the text filters, `join`, `raw`, `code`, `paragraphs`, `replace`, `indent`
    "{{ '' ~ cycler }}": "type",
    "{{ ('' ~ ''.upper) | length }}": "builtin_function_or_method",
    "{{ cycler | string }}": "type",
    "{{ cycler | upper }}": "type",
    "{{ cycler | truncate(5) }}": "type",
    "{{ [('a', range)] | urlencode }}": "method",
    "{{ [cycler] | join }}": "type",
    "{{ value.items | join(cycler) }}": "type",
    "{{ cycler | raw }}": "type",
    "{{ cycler | code }}": "type",
    "{{ cycler | paragraphs }}": "type",
    "{{ 'a' | replace('a', range) }}": "method",
    "{{ range | indent }}": "method",
    "{{ value.items | map('string') | join }}": None,  # data: allowed
}

ABUSE = {
    "{{ 10 ** 10000000 }}": "template limit: `**` result above 4096 bits",
    "{{ (2 ** 4000) * (2 ** 4000) }}": "template limit: `*` result above 4096 bits",
    "{{ 'x' * 100000000 }}": "template limit: repetition longer than 8388608",
    "{{ [1] * 100000000 }}": "template limit: repetition longer than 100000",
    "{% for i in range(100000000) %}{% endfor %}": "template limit: `range` of more than 100000 items",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}":
        "template limit: more than 1000000 loop steps and calls",
    "{% for a in value.items %}{% for b in range(100000) %}{% for c in range(100000) %}{% endfor %}{% endfor %}"
    "{% endfor %}": "template limit: more than 1000000 loop steps and calls",
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}":
        "template limit: calls nested deeper than 96 (runaway recursion?)",
    "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}":
        "template limit: calls nested deeper than 96 (runaway recursion?)",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}":
        "template limit: a string above 8388608 characters",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}":
        "template limit: `+` result longer than 8388608",
    "{{ ('x' * 1000) | replace('', 'x' * 1000) | replace('', 'x' * 1000) }}":
        "template limit: `replace` result above 8388608 characters",
    "{{ range(100000) | join('x' * 1000) }}": "template limit: `join` result above 8388608 characters",
    "{{ 'a' | indent(1000000000) }}": "template limit: `indent` wider than 64",
    "{% for b in value.items | batch(1000000000, 'x') %}{% endfor %}": "template limit: `batch` of more than 100000",
}


@pytest.fixture(scope="module")
def schema() -> fsf.Schema:
    return fsf.compile_source(SCHEMA)


def render(schema: fsf.Schema, folder: Path, source: str, name: str = "t.md.j2",
           limits: views.Limits | None = None) -> str:
    path = folder / name
    path.write_text(source, encoding="utf-8")
    return render_value(schema, "Note", VALUE, path, limits=limits)


@pytest.mark.parametrize("source", sorted(ESCAPES))
def test_escape_attempts_end_in_a_located_view_error(schema: fsf.Schema, tmp_path: Path, source: str) -> None:
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, "\n" + source)
    assert str(err.value) == f"{tmp_path / 't.md.j2'}:2: {ESCAPES[source]}"
    assert isinstance(err.value, fsf.FsfError)


@pytest.mark.parametrize("source", sorted(NOT_DATA))
def test_only_data_reaches_the_output(schema: fsf.Schema, tmp_path: Path, source: str) -> None:
    kind = NOT_DATA[source]
    if kind is None:
        assert render(schema, tmp_path, source).split("\n", 1)[1] == "ab\n"
        return
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, "\n" + source)
    assert str(err.value) == f"{tmp_path / 't.md.j2'}:2: unsafe template: cannot print a `{kind}` {_NOT_DATA}"


def test_data_prints_and_constants_are_escaped_like_values(schema: fsf.Schema, tmp_path: Path) -> None:
    source = ("{{ value }} {{ value.items }} {{ [1, 2.5, none, true, 'a'] | list }} {{ dict(a=value.items) }} "
              "{{ value.items | map('upper') | list }} {{ 'a' ~ 1 ~ none }}")
    assert render(schema, tmp_path, source).split("\n", 1)[1] == (
        "Note ('a', 'b') \\[1, 2.5, None, True, 'a'\\] {'a': ('a', 'b')} \\['A', 'B'\\] a1None\n")


@pytest.mark.parametrize("source", sorted(ABUSE))
def test_resource_abuse_ends_in_a_located_view_error(schema: fsf.Schema, tmp_path: Path, source: str) -> None:
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, source)
    assert str(err.value) == f"{tmp_path / 't.md.j2'}:1: {ABUSE[source]}"


def test_output_budget(schema: fsf.Schema, tmp_path: Path) -> None:
    source = "{% for i in range(1000) %}{{ 'x' * 100 }}\n{% endfor %}"
    assert render(schema, tmp_path, source).count("x" * 100) == 1000
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, source, limits=views.Limits(max_output=50_000))
    assert str(err.value) == f"{tmp_path / 't.md.j2'}: template limit: output above 50000 characters"


def test_runaway_include_recursion_is_caught(schema: fsf.Schema, tmp_path: Path) -> None:
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, "{% include 't.md.j2' %}")
    assert str(err.value).endswith(": template limit: recursion too deep (runaway macro or include?)")


def test_syntax_errors_name_the_template_file_and_line(schema: fsf.Schema, tmp_path: Path) -> None:
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, "line one\n{{ value.text }\n")
    assert str(err.value) == f"{tmp_path / 't.md.j2'}:2: template syntax error: unexpected '}}'"
    (tmp_path / "part.md.j2").write_text("ok\n\n{% if %}\n", encoding="utf-8")
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, "{% include 'part.md.j2' %}")
    assert str(err.value) == f"{tmp_path / 'part.md.j2'}:3: template syntax error: Expected an expression, got 'end of statement block'"


def test_strict_undefined_names_the_missing_field(schema: fsf.Schema, tmp_path: Path) -> None:
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, "\n\n{{ value.nope }}")
    assert str(err.value) == (f"{tmp_path / 't.md.j2'}:3: template error: `Note` has no field `nope`; "
                              "its fields are `text`, `items`")


def test_values_are_immutable_in_templates(schema: fsf.Schema, tmp_path: Path) -> None:
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, "{{ value.items.append(1) }}")
    assert str(err.value) == f"{tmp_path / 't.md.j2'}:1: template error: 'tuple object' has no attribute 'append'"


@pytest.mark.parametrize("name", ["../secret.md.j2", "/etc/passwd", "sub/../../secret.md.j2", "a\\..\\b", "C:x"])
def test_the_loader_is_confined_to_the_template_folders(schema: fsf.Schema, tmp_path: Path, name: str) -> None:
    inner = tmp_path / "templates"
    inner.mkdir()
    (tmp_path / "secret.md.j2").write_text("secret\n", encoding="utf-8")
    with pytest.raises(views.ViewError) as err:
        render(schema, inner, f"{{% include {name!r} %}}")
    assert str(err.value) == (f"{inner / 't.md.j2'}:1: unsafe template: template name `{name}` is not a relative "
                              "name inside the template folders (no `..`, no absolute names)")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_a_symlink_out_of_the_template_folder_is_refused(schema: fsf.Schema, tmp_path: Path) -> None:
    inner = tmp_path / "templates"
    inner.mkdir()
    (tmp_path / "secret.md.j2").write_text("secret\n", encoding="utf-8")
    (inner / "link.md.j2").symlink_to(tmp_path / "secret.md.j2")
    with pytest.raises(views.ViewError) as err:
        render(schema, inner, "{% include 'link.md.j2' %}")
    assert str(err.value) == (f"{inner / 't.md.j2'}:1: unsafe template: `link.md.j2` resolves outside the "
                              "template folders")


def test_includes_and_imports_inside_the_folders_work(schema: fsf.Schema, tmp_path: Path) -> None:
    (tmp_path / "macros.md.j2").write_text("{% macro item(x) %}- {{ x }}{% endmacro %}", encoding="utf-8")
    source = "{% import 'macros.md.j2' as m %}{% for x in value.items %}{{ m.item(x) }}\n{% endfor %}"
    assert render(schema, tmp_path, source).splitlines()[1:] == ["- a", "- b"]


def test_a_missing_template_is_a_clean_error(schema: fsf.Schema, tmp_path: Path) -> None:
    with pytest.raises(views.ViewError) as err:
        render_value(schema, "Note", VALUE, tmp_path / "nope.md.j2")
    assert str(err.value) == f"{tmp_path / 'nope.md.j2'}: cannot read template: no such file or directory"


def test_the_cli_exits_1_for_a_hostile_template(schema: fsf.Schema, tmp_path: Path) -> None:
    (tmp_path / "note.fsf").write_text(SCHEMA, encoding="utf-8")
    (tmp_path / "note.fsv").write_bytes(schema.encode("Note", VALUE))
    (tmp_path / "evil.md.j2").write_text("{{ 10 ** 10000000 }}", encoding="utf-8")
    result = CliRunner().invoke(app, ["render", "--schema", str(tmp_path / "note.fsf"), str(tmp_path / "note.fsv"),
                                      "--template", str(tmp_path / "evil.md.j2")], catch_exceptions=False)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: {tmp_path / 'evil.md.j2'}:1: template limit: `**` result above 4096 bits\n"


@pytest.mark.parametrize(("source", "message"), [
    ("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", ": template limit: template nested too deeply to compile"),
    ("{% if 1 %}" * 3000 + "x" + "{% endif %}" * 3000, ": template limit: template nested too deeply to compile"),
    ("{% extends 't.md.j2' %}", ":1: template limit: recursion too deep (runaway macro or include?)"),
    ("{% block a %}{{ self.a() }}{% endblock %}", ":1: template limit: calls nested deeper than 96 (runaway recursion?)"),
])
def test_deep_templates_and_self_reference_are_caught(schema: fsf.Schema, tmp_path: Path, source: str,
                                                      message: str) -> None:
    with pytest.raises(views.ViewError) as err:
        render(schema, tmp_path, source)
    assert str(err.value) == f"{tmp_path / 't.md.j2'}{message}"


def test_a_template_that_is_not_utf8_is_a_clean_error(schema: fsf.Schema, tmp_path: Path) -> None:
    (tmp_path / "t.md.j2").write_bytes(b"ok\n\xff\xfe")
    with pytest.raises(views.ViewError) as err:
        render_value(schema, "Note", VALUE, tmp_path / "t.md.j2")
    assert str(err.value) == f"{tmp_path / 't.md.j2'}: cannot read template: not UTF-8 (byte 3)"


def test_compiled_templates_are_cached_but_every_render_has_its_own_budget(schema: fsf.Schema,
                                                                           tmp_path: Path) -> None:
    source = "{% for i in range(50) %}{{ i }}{% endfor %}\n"
    tight = views.Limits(max_steps=20)
    hits = views._compiled.cache_info().hits
    for _ in range(2):  # the second render reuses the code, and still starts from an empty budget
        with pytest.raises(views.ViewError, match="more than 20 loop steps"):
            render(schema, tmp_path, source, limits=tight)
    assert views._compiled.cache_info().hits > hits
    assert render(schema, tmp_path, source).endswith("".join(str(i) for i in range(50)) + "\n")
    # An edited template is compiled anew (the cache is keyed by its text).
    assert render(schema, tmp_path, source.replace("50", "3")).endswith("012\n")
