"""Syntax errors as a user expects them: every error at once, each once, none made up by the recovery, and the
type names of other schema languages answered with the FSF spelling (fsf/front/foreign.py, docs/language.md).

The rendered forms of these cases are golden files too (``tests/golden/diagnostics/syntax_*``,
``unknown_type_other_languages``); here the counts and whole messages are asserted case by case.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fsf
from fsf.errors import Diagnostic, Source
from fsf.front import foreign
from fsf.front.parse import parse
from tests.support.strategies import schema_texts

ROOT = Path(__file__).parents[2]
GOLDEN = ROOT / "tests" / "golden" / "diagnostics"


def syntax(text: str) -> list[Diagnostic]:
    """The syntax diagnostics of ``text`` (none if it parses)."""
    try:
        parse(Source("x.fsf", text))
    except fsf.SchemaError as err:
        return list(err.diagnostics)
    return []


def summary(text: str) -> list[str]:
    return [f"{d.span.line}:{d.span.column} {d.code} {d.message}" for d in syntax(text) if d.span is not None]


def checked(text: str) -> list[Diagnostic]:
    """Every diagnostic of ``text`` as one schema file."""
    try:
        fsf.compile_source(text, "x.fsf")
    except fsf.SchemaError as err:
        return list(err.diagnostics)
    return []


# -- the missing `:` -----------------------------------------------------------------------------------------


def test_a_field_without_its_colon_after_a_line_without_its_comma_names_both() -> None:
    text = "shape Task {\n  id: str\n  title str,\n  done: bool,\n}\n"
    with pytest.raises(fsf.SchemaError) as info:
        parse(Source("task.fsf", text))
    assert info.value.render() == (
        "task.fsf:3:3: error[F013]: missing `,` before `title`\n"
        "  |\n"
        "3 |   title str,\n"
        "  |   ^^^^^ fields, members and variants are separated by `,`\n"
        "\n"
        "task.fsf:3:9: error[F015]: missing `:` before `str`\n"
        "  |\n"
        "3 |   title str,\n"
        "  |         ^^^ expected `:`\n"
        "   = help: a field is written `name: type`"
    )


# -- one mistake, one diagnostic -----------------------------------------------------------------------------

SINGLE = {
    "missing colon": ("shape A {\n  id str,\n  n: u8,\n}\n", "2:6 F015 missing `:` before `str`"),
    "missing comma": ("shape A {\n  id: str\n  n: u8,\n}\n", "3:3 F013 missing `,` before `n`"),
    "semicolon": ("shape A {\n  a: str;\n  n: u8,\n}\n", "2:9 F010 unexpected character `;`"),
    "equals sign": ("shape A {\n  a = str,\n  n: u8,\n}\n", "2:5 F010 unexpected character `=`"),
    "missing gt": ("shape A {\n  a: arr[0..2]<str,\n  n: u8,\n}\n", "2:19 F011 missing `>` after the element type"),
    "map of one type": ("shape A {\n  a: map[0..2]<str>,\n  n: u8,\n}\n",
                        "2:19 F014 a map needs a key type and a value type"),
    "ref not closed": ("shape A {\n  a: ref<A,\n  n: u8,\n}\n", "2:11 F011 missing `>` after the element type"),
    "two commas": ("shape A {\n  a: str,,\n  n: u8,\n}\n", "2:10 F015 unexpected `,`"),
    "bounds not closed": ("shape A {\n  a: u8[0..5,\n  n: u8,\n}\n", "2:13 F015 missing `]` before `,`"),
    "three dots": ("shape A {\n  a: u8[0...5],\n  n: u8,\n}\n", "2:12 F010 unexpected character `.`"),
    "no type": ("shape A {\n  a: ,\n  n: u8,\n}\n", "2:6 F014 expected a type, found `,`"),
    "a lone at sign": ("shape A {\n  a: str @ 3,\n  n: u8,\n}\n", "2:10 F010 unexpected character `@`"),
    "unterminated string": ('shape A {\n  a: "x,\n  n: u8,\n}\n', "2:6 F010 unterminated string"),
    "optional of other languages": ("shape A {\n  a: optional<str>,\n  n: u8,\n}\n", "2:14 F015 unexpected `<`"),
    "member without comma": ("enum E { a b, c }\n", "1:12 F013 missing `,` before `b`"),
    "variant without comma": ("union U { A { a: u8 } B }\n", "1:23 F013 missing `,` before `B`"),
    "struct": ("struct C { d: str }\nshape B { b: u8 }\n", "1:1 F015 unexpected `struct`"),
    "extra brace": ("shape A { x: u8 } }\nshape B { y: u8 }\n", "1:19 F015 unexpected `}`"),
    "missing brace before a declaration": ("shape A {\n  a: str,\n\nshape B { b: u8 }\n",
                                           "4:1 F012 missing `}` before `shape`"),
    "missing brace at the end": ("shape A {\n  a: str,\n", "2:10 F012 missing `}` at end of file"),
    "unclosed annotation": ('shape A {\n  @was("b" a: u8,\n  c: u8,\n}\n', "2:12 F015 unexpected `a`"),
}


@pytest.mark.parametrize("case", sorted(SINGLE))
def test_one_mistake_is_one_diagnostic(case: str) -> None:
    text, expected = SINGLE[case]
    assert summary(text) == [expected]


# -- two mistakes in one declaration: both, in order ---------------------------------------------------------

PAIRS = {
    "comma then colon": ("shape A {\n  id: str\n  title str,\n  n: u8,\n}\n",
                         ["3:3 F013 missing `,` before `title`", "3:9 F015 missing `:` before `str`"]),
    "colon then comma": ("shape A {\n  id str,\n  title: str\n  n: u8,\n}\n",
                         ["2:6 F015 missing `:` before `str`", "4:3 F013 missing `,` before `n`"]),
    "semicolon then colon": ("shape A {\n  a: str;\n  b u8,\n}\n",
                             ["2:9 F010 unexpected character `;`", "3:5 F015 missing `:` before `u8`"]),
    "gt then colon": ("shape A {\n  a: arr[0..2]<str,\n  b str,\n}\n",
                      ["2:19 F011 missing `>` after the element type", "3:5 F015 missing `:` before `str`"]),
    "map then bracket": ("shape A {\n  a: map[0..2]<str>,\n  b: u8[0..5,\n  c: u8,\n}\n",
                         ["2:19 F014 a map needs a key type and a value type", "3:13 F015 missing `]` before `,`"]),
    "two equals signs": ("shape A {\n  a = str,\n  b = u8,\n}\n",
                         ["2:5 F010 unexpected character `=`", "3:5 F010 unexpected character `=`"]),
    "two members without commas": ("enum E { a b c }\n",
                                   ["1:12 F013 missing `,` before `b`", "1:14 F013 missing `,` before `c`"]),
    "stray text then colon": ("shape A {\n  a: str,\n  b: str @ x,\n  c u8,\n}\n",
                              ["3:10 F010 unexpected character `@`", "4:5 F015 missing `:` before `u8`"]),
    "foreign optional then colon": ("shape A {\n  a: optional<str>,\n  b: u8,\n  c str,\n}\n",
                                    ["2:14 F015 unexpected `<`", "4:5 F015 missing `:` before `str`"]),
    "a variant's field and the variants": (
        "union U { A { a u8 } B { b: u8 } C }\n",
        ["1:17 F015 missing `:` before `u8`", "1:22 F013 missing `,` before `B`", "1:34 F013 missing `,` before `C`"]),
}


@pytest.mark.parametrize("case", sorted(PAIRS))
def test_each_mistake_of_one_declaration_is_reported(case: str) -> None:
    text, expected = PAIRS[case]
    assert summary(text) == expected


def test_errors_in_later_declarations_are_found_too() -> None:
    text = "shape A { a str }\nshape B { b: u8[0..] }\nenum C { x y }\nshape D { d: u8 }\n"
    assert summary(text) == ["1:13 F015 missing `:` before `str`", "2:20 F015 unexpected `]`",
                             "3:12 F013 missing `,` before `y`"]


def test_every_field_of_a_declaration_is_judged() -> None:
    text = "shape A {\n" + "".join(f"  f{i} str,\n" for i in range(8)) + "}\n"
    assert summary(text) == [f"{i + 2}:6 F015 missing `:` before `str`" for i in range(8)]


# -- none repeated, none made up -----------------------------------------------------------------------------

SLIPS = {":": "delete", ">": "delete", "]": "delete", ";": "insert", "=": "insert"}


def _slips(text: str) -> list[str]:
    """``text`` with one slip each: one `:`, `>` or `]` deleted, or a `;` or `=` written after a token."""
    out = []
    code = [m for m in re.finditer(r"//[^\n]*|\"(?:[^\"\\\n]|\\.)*\"|[:>\]]|(?<=[\w>\]}]) ", text)
            if not m.group().startswith(("//", '"'))]
    for m in code:
        if m.group() == " ":
            out.extend(text[:m.start()] + f" {slip} " + text[m.end():] for slip in (";", "="))
        else:
            out.append(text[:m.start()] + " " + text[m.end():])
    return out


@pytest.mark.parametrize("name", ["valid_forge_plan.fsf", "valid_every_primitive.fsf", "valid_issue_example.fsf"])
def test_a_single_slip_anywhere_in_a_valid_schema_is_one_diagnostic(name: str) -> None:
    text = (GOLDEN / name).read_text(encoding="utf-8")
    assert syntax(text) == []
    wrong = {t: summary(t) for t in _slips(text)}
    assert len(wrong) > 20
    assert {t: found for t, found in wrong.items() if len(found) != 1} == {}


@settings(max_examples=60, deadline=None)
@given(schema_texts(), st.data())
def test_a_deleted_colon_or_bracket_in_any_schema_is_one_diagnostic(text: str, data: st.DataObject) -> None:
    spots = [m.start() for m in re.finditer(r"[:>\]]", text)]
    at = data.draw(st.sampled_from(spots)) if spots else None
    if at is None:
        return
    assert len(summary(text[:at] + " " + text[at + 1:])) == 1


_SOUP = ["shape", "enum", "union", "import", "A", "b", "str", "u8", "arr", "map", "ref", "{", "}", "<", ">", "[",
         "]", ",", ":", "..", "?", "(", ")", "@was", '"x"', "1", ";", "=", "\n", '"open']


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_SOUP), max_size=40))
def test_any_token_soup_gets_distinct_diagnostics_and_no_traceback(words: list[str]) -> None:
    found = syntax(" ".join(words))
    where = [(d.span, d.message) for d in found]
    assert len(set(where)) == len(where) <= 20


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("syntax_*.fsf")), ids=lambda p: p.name)
def test_no_syntax_error_is_reported_twice(path: Path) -> None:
    found = [(d.span, d.message) for d in syntax(path.read_text(encoding="utf-8"))]
    assert found and len(set(found)) == len(found)


def test_a_file_with_a_syntax_error_in_every_declaration_stops_at_the_limit_once() -> None:
    found = syntax("".join(f"shape S{i} {{ a str, b: u8 }}\n" for i in range(50)))
    assert len(found) == 20 and [n.message for n in found[-1].notes] == ["stopped after 20 syntax errors"]


# -- type names of other schema languages --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(foreign.BY_NAME))
def test_a_type_named_as_another_language_names_it_gets_the_fsf_type(name: str) -> None:
    entry = foreign.BY_NAME[name]
    # `map` in lowercase is FSF's own keyword where a type starts: see the next test.
    for written in sorted({name, name.capitalize(), name.upper()} - {"map"}):
        found = checked(f"shape A {{\n  a: {written},\n}}\n")
        assert [(d.code, d.message, d.label, d.hint) for d in found] == [
            ("F201", f"unknown type `{written}`", entry.label(), entry.hint(written))]


@pytest.mark.parametrize(("field", "hint"), [
    ("a: map", "a map is written `map[lo..hi]<K, V>`"),
    ("a: arr", "an array is written `arr[lo..hi]<T>`"),
    ("a: ref", "a reference is written `ref<T>`"),
])
def test_arr_map_and_ref_alone_say_how_they_are_written(field: str, hint: str) -> None:
    assert [(d.code, d.hint) for d in syntax(f"shape A {{\n  {field},\n  n: u8,\n}}\n")] == [("F015", hint)]


def test_the_hints_read_as_documented() -> None:
    assert foreign.lookup("int") is not None and foreign.lookup("int").hint("int") == (
        "`int` is written `i64` in FSF: a signed 64-bit integer, -9223372036854775808..9223372036854775807 "
        "(a 32-bit `int` of Java, C, Avro or GraphQL is `i32`); narrow it with `i64[lo..hi]`")
    assert foreign.BY_NAME["any"].label() == "no such type in FSF"
    assert foreign.BY_NAME["any"].hint("object") == (
        "FSF has no `object` type: describe the value as a `shape` with its fields, or its alternatives as a `union`")
    assert [foreign.BY_NAME[n].fsf for n in ("int32", "int64", "uint8", "uint32", "float", "double", "string",
                                              "boolean", "timestamp", "datetime", "date", "list", "array", "dict",
                                              "map", "number", "integer", "uuid", "optional")] == [
        "i32", "i64", "u8", "u32", "f32", "f64", "str", "bool", "time", "time", "time", "arr[0..N]<T>",
        "arr[0..N]<T>", "map[0..N]<K, V>", "map[0..N]<K, V>", "f64", "i64", "str[36..36]", "T?"]


def test_a_declared_type_that_differs_only_in_case_is_the_suggestion() -> None:
    found = checked("shape Record { a: u8 }\nshape A {\n  r: record,\n}\n")
    assert [(d.label, d.hint) for d in found] == [
        ("did you mean `Record`?", "type names are PascalCase (declared types) or a primitive such as `str` or `u32`")]


def test_a_ref_to_a_foreign_name_is_an_unknown_declaration() -> None:
    found = checked("shape A {\n  r: ref<Record>,\n}\n")
    assert [(d.code, d.label, d.hint) for d in found] == [("F201", "unknown type", "")]


def test_bytes_and_the_fsf_names_are_types() -> None:
    assert checked("shape A { a: bytes, b: str, c: bool, d: time, e: i64 }\n") == []


def _instance(spelling: str) -> str:
    """An FSF suggestion with its placeholders filled in: ``arr[0..N]<T>`` -> ``arr[0..8]<u8>``."""
    return spelling.replace("T?", "u8?").replace("N", "8").replace("<T>", "<u8>").replace("<K, V>", "<str, u8>")


@pytest.mark.parametrize("entry", [f for f in foreign.FOREIGN if f.fsf], ids=lambda f: f.names[0])
def test_every_suggestion_is_an_fsf_type(entry: foreign.Foreign) -> None:
    assert entry.fsf is not None
    assert checked(f"shape A {{ a: {_instance(entry.fsf)} }}\n") == []


def test_each_name_belongs_to_one_entry_and_is_lowercase() -> None:
    names = [n for f in foreign.FOREIGN for n in f.names]
    assert len(names) == len(set(names)) and all(n == n.lower() for n in names)


GENERICS = {
    "a: optional<str>": "optional", "a: Optional[str]": "Optional", "a: Option<str>": "Option",
    "a: List<Task>": "List", "a: list[str]": "list", "a: Array<u8>": "Array", "a: Vec<u8>": "Vec",
    "a: Set<u8>": "Set", "a: Map<str, u8>": "Map", "a: dict[str, u8]": "dict", "a: Record<str, u8>": "Record",
}


@pytest.mark.parametrize("field", sorted(GENERICS))
def test_a_generic_type_of_another_language_is_one_syntax_error_with_the_fsf_spelling(field: str) -> None:
    found = syntax(f"shape Task {{\n  {field},\n  n: u8,\n}}\n")
    name = GENERICS[field]
    other = foreign.lookup(name)
    assert other is not None
    assert [(d.code, d.hint) for d in found] == [("F015", other.hint(name))]


def test_the_language_reference_shows_the_table() -> None:
    reference = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    rows = [f"| {', '.join(f'`{n}`' for n in f.names)} | {f'`{f.fsf}`' if f.fsf else 'none'} | {f.what} |"
            for f in foreign.FOREIGN]
    assert "| written | FSF | note |\n|---|---|---|\n" + "\n".join(rows) + "\n" in reference
