"""Evolution annotations: parse, check (every diagnostic, as golden files), the IR they give, fmt, ids, the table.

Golden cases: ``tests/golden/annotations/NAME.fsf`` checks to ``NAME.out`` (the rendered diagnostics, or ``ok:``
and the type names; ``FSF_UPDATE_GOLDEN=1`` rewrites them). The layout of ``fsf fmt`` has its golden case in
``tests/golden/fmt/annotations.fsf`` (``tests/front/test_fmt.py``). Container round trips are in
``tests/bytecode/test_container.py``, ``to_source`` in ``tests/front/test_ir_source.py``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.errors import Source
from fsf.front import ast
from fsf.front.fmt import canonical_decls, format_source
from fsf.front.parse import parse
from fsf.ir.annotations import ANNOTATIONS, BY_NAME, ORDER, Args, Literal, Place
from fsf.ir.ids import type_ids
from fsf.ir.source import to_source
from tests.support.annotated import annotate_all, annotated, messy
from tests.support.golden import Golden
from tests.support.strategies import schema_texts

ROOT = Path(__file__).parents[2]
GOLDEN = ROOT / "tests" / "golden" / "annotations"
CASES = sorted(p.name for p in GOLDEN.glob("*.fsf"))
SHAPES = sorted((ROOT / "shapes").glob("*.fsf"))
VECTORS = json.loads((ROOT / "tests" / "vectors" / "ids.json").read_text(encoding="utf-8"))


def outcome(case: str) -> str:
    """What ``fsf check`` reports for a case: the rendered diagnostics, or ``ok:`` and the type names."""
    try:
        schema = fsf.compile_source((GOLDEN / case).read_text(encoding="utf-8"), case)
    except fsf.SchemaError as err:
        return err.render() + "\n"
    return " ".join(["ok:", *schema.shapes]) + "\n"


def check(text: str) -> ir.Schema:
    return fsf.compile_source(text).ir


def codes(text: str) -> list[str]:
    with pytest.raises(fsf.SchemaError) as info:
        fsf.compile_source(text)
    return [d.code for d in info.value.diagnostics]


def ids(schema: ir.Schema) -> dict[str, bytes]:
    return type_ids(schema)


def comments(text: str) -> Counter[str]:
    return Counter(c.text.rstrip() for c in parse(Source("<t>", text)).comments)


def field(schema: ir.Schema, decl: str, name: str) -> ir.Field:
    d = schema[decl]
    fields = d.fields if isinstance(d, ir.Shape) else [f for v in d.variants for f in v.fields]  # type: ignore[union-attr]
    return next(f for f in fields if f.name == name)


# -- diagnostics -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_annotation_diagnostics_match_the_golden_file(case: str, golden: Golden) -> None:
    golden.text(GOLDEN / case.replace(".fsf", ".out"), outcome(case))


def test_every_golden_file_belongs_to_a_case() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.out")) == sorted(c.removesuffix(".fsf") for c in CASES)


def test_every_annotation_code_has_a_case_and_a_row_in_the_reference() -> None:
    reference = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    seen = "".join(p.read_text(encoding="utf-8") for p in GOLDEN.glob("*.out"))
    wanted = ["F017", "F207", *(f"F6{n:02d}" for n in range(1, 11))]
    assert [c for c in wanted if f"| `{c}` |" not in reference] == []
    assert [c for c in wanted if f"error[{c}]" not in seen] == []


def test_every_problem_is_reported_at_once() -> None:
    out = outcome("all_at_once.fsf")
    assert re.findall(r"error\[(F\d+)\]", out) == [
        "F601", "F602", "F603", "F604", "F606", "F607", "F608", "F609", "F610", "F201", "F605"]


def test_a_duplicate_declaration_is_judged_too() -> None:
    assert codes("shape A {}\n@wass shape A {}") == ["F601", "F104"]


# -- parse -----------------------------------------------------------------------------------------------------


def test_the_parser_keeps_annotations_as_written() -> None:
    text = ('shape A {\n  @was("a") @was("b", "c",) @fallback() @x @default([ ]) @default({}) @default(-1.5)'
            ' @default(medium) @default("q\\"") f: u8,\n}\n')
    f = parse(Source("a.fsf", text)).decls[0].fields[0]  # type: ignore[union-attr]
    got = [(a.name.text, None if a.args is None else [(x.kind, x.text) for x in a.args]) for a in f.annotations]
    assert got == [
        ("was", [(Literal.STRING, "a")]), ("was", [(Literal.STRING, "b"), (Literal.STRING, "c")]),
        ("fallback", []), ("x", None), ("default", [(Literal.EMPTY_ARR, "[]")]),
        ("default", [(Literal.EMPTY_MAP, "{}")]), ("default", [(Literal.NUMBER, "-1.5")]),
        ("default", [(Literal.NAME, "medium")]), ("default", [(Literal.STRING, 'q"')]),
    ]
    first = f.annotations[0]
    assert first.name.span is not None and (first.name.span.column, first.name.span.length) == (3, 4)
    assert first.args is not None and first.args[0].span is not None
    assert (first.args[0].span.column, first.args[0].span.length) == (8, 3)


def test_the_doc_comment_stands_before_the_annotations() -> None:
    schema = check('/// The shape.\n@was("B")\nshape A {\n  /// The field.\n  @was("old")\n  f: u8,\n}\n')
    assert schema["A"].doc == "The shape."
    assert field(schema, "A", "f").doc == "The field."


def test_an_annotation_is_one_token() -> None:
    assert codes("shape A { @ was(\"x\") f: u8 }") == ["F010"]
    # Between the name and its arguments anything may stand, as between any two tokens.
    assert field(check('shape A { @was // why\n ( "x" ) f: u8 }'), "A", "f").was == ("x",)


def test_keywords_and_literals_are_names_in_arguments() -> None:
    schema = check("enum E { shape, true }\nshape A { @default(shape) a: E, @default(true) b: E, @default(true) c: bool }")
    assert [field(schema, "A", n).default for n in "abc"] == [ir.Default("shape"), ir.Default("true"),
                                                               ir.Default("true")]


# -- the IR ----------------------------------------------------------------------------------------------------


def test_every_annotation_reaches_the_ir() -> None:
    schema = fsf.compile_source((GOLDEN / "valid_every_annotation.fsf").read_text(encoding="utf-8")).ir
    task, priority, outcome_ = schema["Task"], schema["Priority"], schema["Outcome"]
    assert isinstance(task, ir.Shape) and isinstance(priority, ir.Enum) and isinstance(outcome_, ir.Union_)
    assert (task.was, task.reserved, task.deprecated) == (("Job", "Chore"), ("owner", "assignee"), "use `Work`")
    assert field(schema, "Task", "title").was == ("name", "label")
    assert field(schema, "Task", "title").doc == "Its title."
    defaults = {f.name: (f.default.literal if f.default else None) for f in task.fields}
    assert defaults == {"title": None, "priority": "medium", "urgency": "0", "ratio": "-1.5e0", "whole": "7",
                        "note": '"a \\"quoted\\" \\\\ text"', "done": "true", "tags": "[]", "weights": "{}"}
    assert field(schema, "Task", "urgency").deprecated == "use `priority`"
    assert priority.reserved == ("none",)
    assert [(m.name, m.fallback, m.was) for m in priority.members] == [
        ("low", False, ()), ("medium", False, ()), ("high", False, ()), ("unknown", True, ("other",))]
    assert outcome_.was == ("Result",)
    done, other = outcome_.variants
    assert (done.was, done.fallback, other.fallback, other.deprecated) == (("Finished",), False, True, "")
    assert [(f.name, f.default, f.was) for f in done.fields] == [("count", ir.Default("0"), ()),
                                                                 ("reason", None, ("why",))]


@pytest.mark.parametrize(("type_", "written", "literal", "value"), [
    ("u8", "007", "007", 7),
    ("u64", "18446744073709551615", "18446744073709551615", (1 << 64) - 1),
    ("i64", "-9223372036854775808", "-9223372036854775808", -(1 << 63)),
    ("i8", "-0", "-0", 0),
    ("f64", "1e3", "1e3", 1000.0),
    ("f32", "7", "7", 7.0),
    ("f32", "3.4028234663852886e38", "3.4028234663852886e38", 3.4028234663852886e38),
    ("f64[-1..1]", "-1", "-1", -1.0),
    ("str", '"a\\b"', '"ab"', "ab"),
    ("str", '"\\\\ \\""', '"\\\\ \\""', '\\ "'),
    ("str[2..2]", '"éé"', '"éé"', "éé"),
    ("str[1..1]?", '"\U0001f600"', '"\U0001f600"', "\U0001f600"),
    ("bool?", "false", "false", False),
    ("E", "b", "b", "b"),
    ("E?", "a", "a", "a"),
    ("arr[0..3]<E>", "[ ]", "[]", []),
    ("map[0..3]<E, u8>", "{\n}", "{}", {}),
])
def test_a_default_is_kept_in_its_canonical_spelling(type_: str, written: str, literal: str, value: Any) -> None:
    f = field(check(f"enum E {{ a, b }}\nshape A {{ @default({written}) x: {type_} }}"), "A", "x")
    assert f.default == ir.Default(literal)
    got = ir.default_value(f.type, f.default)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(("type_", "written", "code"), [
    ("u8", "256", "F606"), ("i8", "-129", "F606"), ("u8", "1e0", "F606"), ("f32", "3.5e38", "F606"),
    ("f64[0..1]", "-0.5", "F606"), ("str[0..1]", '"ab"', "F606"), ("E", '"a"', "F606"), ("E", "c", "F606"),
    ("arr[1..2]<u8>", "[]", "F606"), ("map[1..2]<str, u8>", "{}", "F606"), ("bool", "True", "F606"),
    ("hash?", "0", "F607"), ("ref<A>", '"x"', "F607"), ("A?", "{}", "F607"), ("U", "V", "F607"),
    ("bytes[0..1]", '""', "F607"), ("time", "0", "F607"), ("u64", "1" * 41, "F207"),
])
def test_a_default_that_does_not_fit(type_: str, written: str, code: str) -> None:
    assert codes(f"enum E {{ a, b }}\nunion U {{ V }}\nshape A {{ @default({written}) x: {type_} }}") == [code]


def test_a_default_of_an_unknown_type_is_not_judged() -> None:
    assert codes("shape A { @default(1) x: Nope }") == ["F201"]


def test_a_rename_chain_keeps_the_written_order() -> None:
    assert field(check('shape A { @was("c") @deprecated("x") @was("a", "b") f: u8 }'), "A", "f").was == (
        "c", "a", "b")


# -- ids -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHAPES, ids=[p.name for p in SHAPES])
def test_annotations_never_change_an_id(path: Path) -> None:
    plain = fsf.load_schema(path).ir
    full = annotate_all(plain)
    assert full != plain
    again = fsf.compile_source(to_source(full))
    assert again.ir == full
    assert {n: again.id(n) for n in again.shapes} == VECTORS[path.name]


def test_the_same_text_with_and_without_annotations_has_the_same_ids() -> None:
    text = (GOLDEN / "valid_every_annotation.fsf").read_text(encoding="utf-8")
    bare = re.sub(r'@\w+(\((?:[^()"]|"(?:[^"\\]|\\.)*")*\))?', "", text)
    assert "@" not in bare
    assert ids(check(text)) == ids(check(bare))
    assert check(text) != check(bare)


def test_the_id_encoder_never_reads_an_annotation() -> None:
    source = (ROOT / "fsf" / "ir" / "ids.py").read_text(encoding="utf-8")
    assert "annotations" not in source.replace("from __future__ import annotations", "")
    assert re.findall(r"\.(was|default|fallback|reserved|deprecated)\b", source) == []


# -- fmt -------------------------------------------------------------------------------------------------------


def test_fmt_orders_and_merges() -> None:
    got = format_source('enum E { @deprecated("d") @was("a") @fallback() @was("b") x }\n'
                        'shape A { @deprecated("d") @default(1) @was("a") f: u8 }\n'
                        '@deprecated("d") @reserved("q") @was("Old") @reserved("r") union U { V }\n')
    assert got == (
        'enum E {\n  @was("a", "b")\n  @fallback\n  @deprecated("d")\n  x,\n}\n\n'
        'shape A {\n  @was("a")\n  @default(1)\n  @deprecated("d")\n  f: u8,\n}\n\n'
        '@was("Old")\n@reserved("q", "r")\n@deprecated("d")\nunion U {\n  V,\n}\n')


def test_fmt_keeps_what_the_checker_refuses() -> None:
    # Formatting needs only the syntax and never hides an error: a bare `@was`, a second `@default` and an
    # unknown annotation are kept (unknown ones last).
    text = 'shape A { @wass @default(2) @was @default(1) @was("a") @was() f: Nope }'
    got = format_source(text)
    assert got == ('shape A {\n  @was\n  @was("a")\n  @was()\n  @default(2)\n  @default(1)\n  @wass\n'
                   '  f: Nope,\n}\n')
    assert format_source(got) == got
    assert sorted(codes(got)) == sorted(codes(text))


def test_fmt_keeps_the_meaning_the_ids_and_the_comments() -> None:
    text = (GOLDEN / "valid_every_annotation.fsf").read_text(encoding="utf-8")
    once = format_source(text)
    assert format_source(once) == once
    assert check(once) == check(text)
    assert comments(once) == comments(text)


def test_fmt_keeps_the_doc_comment_next_to_the_annotations() -> None:
    text = '/// Doc.\n@deprecated("x") // why\n// more\n@was("B") shape A {}\n'
    once = format_source(text)
    assert once == '/// Doc.\n@was("B")\n@deprecated("x") // why\n// more\nshape A {}\n'
    assert check(once)["A"].doc == "Doc."


def test_canonical_declarations_merge_in_written_order() -> None:
    decl = parse(Source("a", 'shape A { @was("a") @deprecated("x") @was("b", "c") f: u8 }')).decls[0]
    (f,) = canonical_decls([decl])[0].fields  # type: ignore[union-attr]
    assert [(a.name.text, [x.text for x in a.args or ()]) for a in f.annotations] == [
        ("was", ["a", "b", "c"]), ("deprecated", ["x"])]


# -- properties ------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_drawn_annotations_round_trip_format_idempotently_and_keep_ids(data: st.DataObject) -> None:
    base = check(data.draw(schema_texts(), label="schema"))
    schema = data.draw(annotated(base), label="annotations")
    text = to_source(schema)
    assert check(text) == schema
    assert ids(schema) == ids(base)
    layout = data.draw(messy(text), label="layout")
    once = format_source(layout)
    assert format_source(once) == once
    assert check(once) == check(layout)
    assert comments(once) == comments(layout)
    assert ids(check(once)) == ids(base)


# -- the table and the reference -------------------------------------------------------------------------------


def _section() -> str:
    reference = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    return reference.split("## 11. Evolution annotations", 1)[1]


def test_the_reference_example_checks_and_reads_as_it_says() -> None:
    example = _section().split("```", 2)[1]
    schema = check(example)
    assert schema["Task"].was == ("Job",) and schema["Task"].reserved == ("owner",)  # type: ignore[union-attr]
    assert field(schema, "Task", "title").was == ("name", "label")
    assert field(schema, "Task", "priority").default == ir.Default("medium")
    assert format_source(format_source(example)) == format_source(example)


def test_the_reference_table_follows_the_table() -> None:
    rows = [line for line in _section().splitlines() if line.startswith("| `@")]
    assert [re.match(r"\| `@(\w+)", r).group(1) for r in rows] == [a.name for a in ANNOTATIONS]  # type: ignore[union-attr]
    assert "`was`, `default`, `fallback`, `reserved`, `deprecated`" in _section()


_CLASSES: dict[Place, type] = {Place.FIELD: ir.Field, Place.MEMBER: ir.Member, Place.UNIT_VARIANT: ir.Variant,
                               Place.VARIANT: ir.Variant, Place.SHAPE: ir.Shape, Place.ENUM: ir.Enum,
                               Place.UNION: ir.Union_}


def test_every_annotation_has_its_attribute_wherever_it_goes() -> None:
    assert list(ORDER) == ["was", "default", "fallback", "reserved", "deprecated"] == list(BY_NAME)
    for a in ANNOTATIONS:
        for place in a.places:
            assert a.attribute in {f.name for f in attrs.fields(_CLASSES[place])}, (a.name, place)
        assert a.repeatable == (a.args is Args.NAMES)


def test_the_ast_carries_annotations_on_every_item() -> None:
    for cls in (ast.Field, ast.Member, ast.Variant, ast.ShapeDecl, ast.EnumDecl, ast.UnionDecl):
        assert "annotations" in {f.name for f in attrs.fields(cls)}
