"""The embedded API (façade): every error of a value with its `.loc`, the JSON form in and out, generated classes as
type names."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import fsf
from fsf.bytecode import vm
from tests.support import strategies

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "api"
SMALL_PLAN = ROOT / "shapes" / "examples" / "forge-plan" / "ForgePlan.small.json"

SCHEMA = fsf.compile_source("""
enum Color { red, green, blue }
union Outcome { Pending, Failed { reason: str[1..40] }, Done { at: time, digest: hash? } }
shape Step { id: str[1..8], dependsOn: arr[0..4]<str[1..8]>, outcome: Outcome }
shape Plan {
  title: str[1..20],
  steps: arr[0..3]<Step>,
  byName: map[0..2]<str, u8>,
  byNumber: map[0..4]<u16, Color>,
  byColor: map[0..3]<Color, bool>,
  blob: bytes?,
  color: Color,
}
""")

GOOD: dict[str, Any] = {
    "title": "Plan",
    "steps": [{"id": "S1", "dependsOn": [], "outcome": {"Pending": {}}},
              {"id": "S2", "dependsOn": ["S1"], "outcome": {"Done": {"at": 0, "digest": None}}}],
    "byName": {"a": 1}, "byNumber": {7: "red"}, "byColor": {"blue": True}, "blob": None, "color": "green",
}


def with_(**changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(GOOD)
    out.update(changes)
    return out


def listing(err: fsf.ValidationError) -> list[tuple[str, str, tuple[Any, ...]]]:
    return [(e.message, e.path, e.loc) for e in err.errors]


def all_errors(name: str, value: Any, schema: fsf.Schema = SCHEMA) -> list[tuple[str, str, tuple[Any, ...]]]:
    with pytest.raises(fsf.ValidationError) as info:
        schema.validate(name, value, all_errors=True)
    return listing(info.value)


# -- every error of a value ------------------------------------------------------------------------------------


SEVERAL = {
    "title": "",
    "steps": [{"id": "S1", "dependsOn": ["S2", 7, ""], "outcome": "Pending"},
              {"id": "far too long", "dependsOn": "S1", "outcome": {"Failed": {"reason": 3}}, "extra": 1},
              {"dependsOn": []}],
    "byName": {"a": 300, "b": 1, "c": -1},
    "byNumber": {70000: "red", 2: "purple", 3: "Blue"},
    "byColor": {"red": 1, "grey": True},
    "blob": "AA==",
    "color": {"green": {}},
    "colour": "red",
}
SEVERAL_ERRORS = [
    ('Unknown field "colour" in `Plan`', "$", ()),
    ("Expected `str` of length 1..20, got length 0", "$.title", ("title",)),
    ("Expected `str`, got `int`", "$.steps[0].dependsOn[1]", ("steps", 0, "dependsOn", 1)),
    ("Expected `str` of length 1..8, got length 0", "$.steps[0].dependsOn[2]", ("steps", 0, "dependsOn", 2)),
    ('Expected `Outcome`, got `str`; write a unit variant as {"Pending": {}}', "$.steps[0].outcome",
     ("steps", 0, "outcome")),
    ('Unknown field "extra" in `Step`', "$.steps[1]", ("steps", 1)),
    ("Expected `str` of length 1..8, got length 12", "$.steps[1].id", ("steps", 1, "id")),
    ("Expected `arr`, got `str`", "$.steps[1].dependsOn", ("steps", 1, "dependsOn")),
    ("Expected `str`, got `int`", "$.steps[1].outcome.Failed.reason", ("steps", 1, "outcome", "Failed", "reason")),
    ("Missing required field `id` in `Step`", "$.steps[2]", ("steps", 2)),
    ("Missing required field `outcome` in `Step`", "$.steps[2]", ("steps", 2)),
    ("Expected `map` of length 0..2, got length 3", "$.byName", ("byName",)),
    ("Expected `u8` in 0..255, got 300", '$.byName["a"]', ("byName", "a")),
    ("Expected `u8` in 0..255, got -1", '$.byName["c"]', ("byName", "c")),
    ("Expected `u16` in 0..65535, got 70000", "$.byNumber[70000]", ("byNumber", 70000)),
    ('Expected a member of `Color`, got "purple"', "$.byNumber[2]", ("byNumber", 2)),
    ('Expected a member of `Color`, got "Blue"; did you mean `blue`?', "$.byNumber[3]", ("byNumber", 3)),
    ("Expected `bool`, got `int`", '$.byColor["red"]', ("byColor", "red")),
    ('Expected a member of `Color`, got "grey"; did you mean `green`?', '$.byColor["grey"]', ("byColor", "grey")),
    ("Expected `bytes`, got `str`", "$.blob", ("blob",)),
    ('Expected `Color`, got `dict`; write a member as "green"', "$.color", ("color",)),
]


def test_every_error_of_a_value_in_the_order_of_the_value() -> None:
    """A container's own problems come first (unknown fields in the dict's order, then missing ones in the
    schema's), then those inside it: fields in schema order, items by index, map entries in the dict's order. A
    map of the wrong length and a shape with unknown or missing fields are still walked."""
    expected = SEVERAL_ERRORS
    for engine in ("fast", "vm"):
        with pytest.raises(fsf.ValidationError) as info:
            SCHEMA.validate("Plan", SEVERAL, engine=engine, all_errors=True)
        assert listing(info.value) == expected
    err = info.value
    assert (err.message, err.path, err.loc) == expected[0]
    assert str(err) == "\n".join(f"{m} - at `{p}`" for m, p, _ in expected)
    assert isinstance(err, ValueError)
    assert all(type(e) is fsf.ValidationError and e.errors == (e,) for e in err.errors)


def test_the_first_of_all_errors_is_the_default_error() -> None:
    value = copy.deepcopy(SEVERAL)
    for engine in ("fast", "vm"):
        with pytest.raises(fsf.ValidationError) as info:
            SCHEMA.validate("Plan", value, engine=engine)
        first = info.value
        assert (first.message, first.path, first.loc) == SEVERAL_ERRORS[0]
        assert first.errors == (first,)
        assert str(first) == 'Unknown field "colour" in `Plan` - at `$`'
    del value["colour"]
    assert all_errors("Plan", value)[0] == SEVERAL_ERRORS[1]


def test_a_valid_value_has_no_errors_and_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    SCHEMA.validate("Plan", GOOD, all_errors=True)
    SCHEMA.validate("Plan", GOOD, engine="vm", all_errors=True)
    assert vm.errors(SCHEMA.program, "Plan", GOOD) == []

    def refuse(*args: Any) -> None:
        raise AssertionError("the collecting VM ran")

    monkeypatch.setattr(vm, "errors", refuse)
    SCHEMA.validate("Plan", GOOD, all_errors=True)  # accepted by the codec's fast path, as by default
    with pytest.raises(fsf.ValidationError, match="title"):  # the default never collects
        SCHEMA.validate("Plan", with_(title=""))


def test_what_the_walk_does_not_look_into() -> None:
    """A container of the wrong type, nested too deep, a union without one known variant: nothing inside is
    judged (there is nothing to judge it as); a missing field's checks are skipped."""
    assert all_errors("Step", {"id": 1, "dependsOn": {"x": 1}, "outcome": {"Done": {}, "Failed": {}}}) == [
        ("Expected `str`, got `int`", "$.id", ("id",)),
        ("Expected `arr`, got `dict`", "$.dependsOn", ("dependsOn",)),
        ("Expected `Outcome` as a one-key dict, got 2 keys", "$.outcome", ("outcome",)),
    ]
    assert all_errors("Step", {"id": "S", "dependsOn": [], "outcome": {"Don": {"at": "x"}}}) == [
        ('Expected a variant of `Outcome`, got "Don"; did you mean `Done`?', "$.outcome", ("outcome",)),
    ]
    assert all_errors("Step", {"outcome": {"Done": {"digest": b"", "at": "now"}}}) == [
        ("Missing required field `id` in `Step`", "$", ()),
        ("Missing required field `dependsOn` in `Step`", "$", ()),
        ("Expected `time`, got `str`", "$.outcome.Done.at", ("outcome", "Done", "at")),
        ("Expected `hash` of length 32, got length 0", "$.outcome.Done.digest", ("outcome", "Done", "digest")),
    ]
    deep = fsf.compile_source("shape Node { name: str, kids: arr[0..2]<Node> }")
    node: dict[str, Any] = {"name": 1, "kids": []}
    node["kids"].append(node)  # a cycle: the walk stops at the depth limit, as the first-error walk does
    found = all_errors("Node", node, deep)
    assert found[:2] == [("Expected `str`, got `int`", "$.name", ("name",)),
                         ("Expected `str`, got `int`", "$.kids[0].name", ("kids", 0, "name"))]
    node["name"] = "loop"
    with pytest.raises(fsf.ValidationError) as info:
        deep.validate("Node", node)
    assert found[-1] == (info.value.message, info.value.path, info.value.loc)
    assert found[-1][0] == "Value nested deeper than 64 levels"
    assert len(found) == 1 + len(info.value.loc) // 2


# -- .loc for every path form ----------------------------------------------------------------------------------


LOCS = [
    ("root", "Color", "black", "$", ()),
    ("field", "Plan", with_(title=5), "$.title", ("title",)),
    ("index", "Plan", with_(steps=[GOOD["steps"][0], 5]), "$.steps[1]", ("steps", 1)),
    ("nested index", "Plan", with_(steps=[{"id": "S", "dependsOn": ["a", "b", 3], "outcome": {"Pending": {}}}]),
     "$.steps[0].dependsOn[2]", ("steps", 0, "dependsOn", 2)),
    ("variant field", "Plan", with_(steps=[{"id": "S", "dependsOn": [], "outcome": {"Failed": {"reason": ""}}}]),
     "$.steps[0].outcome.Failed.reason", ("steps", 0, "outcome", "Failed", "reason")),
    ("str key", "Plan", with_(byName={'we"ird': -1}), '$.byName["we\\"ird"]', ("byName", 'we"ird')),
    ("int key", "Plan", with_(byNumber={-1: "red"}), "$.byNumber[-1]", ("byNumber", -1)),
    ("int key, bad value", "Plan", with_(byNumber={9: "rad"}), "$.byNumber[9]", ("byNumber", 9)),
    ("enum key", "Plan", with_(byColor={"red": None}), '$.byColor["red"]', ("byColor", "red")),
    ("key of another type", "Plan", with_(byName={1.5: 1}), "$.byName[<float>]", ("byName", 1.5)),
    ("optional", "Plan", with_(blob=1), "$.blob", ("blob",)),
]


@pytest.mark.parametrize(("name", "value", "path", "loc"), [c[1:] for c in LOCS], ids=[c[0] for c in LOCS])
def test_loc_for_every_path_form(name: str, value: Any, path: str, loc: tuple[Any, ...]) -> None:
    for engine in ("fast", "vm"):
        with pytest.raises(fsf.ValidationError) as info:
            SCHEMA.validate(name, value, engine=engine)
        assert (info.value.path, info.value.loc) == (path, loc)
    assert [(p, lc) for _, p, lc in all_errors(name, value)] == [(path, loc)]


@seed(20261123)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_all_errors_agrees_with_the_first_error(data: st.DataObject) -> None:
    """On generated schemas and near-miss values: no errors exactly when the value is valid, and the first of
    them is the error both default engines raise, with the same path and loc."""
    schema = fsf.compile_source(data.draw(strategies.schema_texts()))
    value = data.draw(strategies.values(schema.ir, "Root"))
    assert vm.errors(schema.program, "Root", value) == []
    for _ in range(data.draw(st.integers(1, 3))):
        value = data.draw(strategies.near_misses(copy.deepcopy(value)))
    found = vm.errors(schema.program, "Root", value)
    firsts = []
    for engine in ("fast", "vm"):
        try:
            schema.validate("Root", value, engine=engine)
            firsts.append(None)
        except fsf.ValidationError as err:
            firsts.append((err.message, err.path, err.loc))
    assert firsts[0] == firsts[1]
    assert firsts[0] == ((found[0].message, found[0].path, found[0].loc) if found else None)


# -- JSON in the API -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan_schema() -> fsf.Schema:
    return fsf.load_schema(ROOT / "shapes" / "forge-plan.fsf")


def test_a_json_loaded_dict_is_validated_encoded_and_back(plan_schema: fsf.Schema) -> None:
    obj = json.loads(SMALL_PLAN.read_text("utf-8"))
    value = plan_schema.from_json("ForgePlan", obj)
    data = plan_schema.encode("ForgePlan", value)
    assert plan_schema.to_json("ForgePlan", plan_schema.decode(data)) == obj
    assert data == (SMALL_PLAN.with_suffix(".fsv")).read_bytes()
    obj["tasks"][1]["dependsOn"] = "T1"
    with pytest.raises(fsf.ValidationError) as info:
        plan_schema.from_json("ForgePlan", obj)
    assert str(info.value) == "Expected `arr`, got `str` - at `$.tasks[1].dependsOn`"
    assert info.value.loc == ("tasks", 1, "dependsOn")


def test_from_json_rewrites_what_json_cannot_spell() -> None:
    obj = {"title": "T", "steps": [{"id": "S", "dependsOn": [],
                                    "outcome": {"Done": {"at": "2026-11-22T00:00:00.5Z", "digest": "ab" * 32}}}],
           "byName": {}, "byNumber": {"7": "red"}, "byColor": {}, "blob": "AAE=", "color": "red"}
    value = SCHEMA.from_json("Plan", obj)
    assert value["steps"][0]["outcome"] == {"Done": {"at": 1795305600500000000, "digest": b"\xab" * 32}}
    assert (value["byNumber"], value["blob"]) == ({7: "red"}, b"\x00\x01")
    assert SCHEMA.to_json("Plan", value) == {**obj, "steps": [{**obj["steps"][0], "outcome": {"Done": {
        "at": "2026-11-22T00:00:00.500Z", "digest": "ab" * 32}}}]}
    with pytest.raises(fsf.ValidationError) as info:
        SCHEMA.from_json("Plan", {**obj, "byNumber": {"07": "red"}})
    assert (info.value.path, info.value.loc) == ('$.byNumber["07"]', ("byNumber", "07"))
    with pytest.raises(fsf.ValidationError, match=r"^Expected a member of `Color`, got \"purple\" - at `\$\.color`$"):
        SCHEMA.to_json("Plan", {**value, "color": "purple"})
    with pytest.raises(fsf.UsageError, match="schema has no type `Pla`"):
        SCHEMA.from_json("Pla", obj)


def test_from_json_all_errors_includes_the_wrong_spellings() -> None:
    obj = {"title": "", "steps": [{"id": "S", "dependsOn": [], "outcome": {"Done": {"at": 5, "digest": "AB"}}}],
           "byName": {}, "byNumber": {"+1": "red", "2": "reed"}, "byColor": {}, "blob": "AAE", "color": "Pending"}
    expected = [
        ("Expected `str` of length 1..20, got length 0", "$.title", ("title",)),
        ("Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got `int`", "$.steps[0].outcome.Done.at",
         ("steps", 0, "outcome", "Done", "at")),
        ('Expected `hash` as 64 lowercase hex digits, got "AB"', "$.steps[0].outcome.Done.digest",
         ("steps", 0, "outcome", "Done", "digest")),
        ('Expected an integer map key as a decimal string (no `+`, leading zeros or `-0`), got "+1"',
         '$.byNumber["+1"]', ("byNumber", "+1")),
        ('Expected a member of `Color`, got "reed"; did you mean `red`?', "$.byNumber[2]", ("byNumber", 2)),
        ('Expected `bytes` as standard padded base64, got "AAE"', "$.blob", ("blob",)),
        ('Expected a member of `Color`, got "Pending"', "$.color", ("color",)),
    ]
    with pytest.raises(fsf.ValidationError) as info:
        SCHEMA.from_json("Plan", obj, all_errors=True)
    assert listing(info.value) == expected
    with pytest.raises(fsf.ValidationError) as info:  # the first wrong spelling, before validation
        SCHEMA.from_json("Plan", obj)
    assert listing(info.value) == [expected[1]]


def test_a_unit_variant_or_an_enum_error_says_how_the_value_is_written() -> None:
    cases = [
        ("Outcome", "Pending", 'Expected `Outcome`, got `str`; write a unit variant as {"Pending": {}}'),
        ("Outcome", "Done", "Expected `Outcome`, got `str`"),  # a variant with fields has no one spelling
        ("Outcome", {"pending": {}}, 'Expected a variant of `Outcome`, got "pending"; did you mean `Pending`?'),
        ("Outcome", {"Later": {}}, 'Expected a variant of `Outcome`, got "Later"'),
        ("Color", "gren", 'Expected a member of `Color`, got "gren"; did you mean `green`?'),
        ("Color", "RED", 'Expected a member of `Color`, got "RED"; did you mean `red`?'),
        ("Color", "black", 'Expected a member of `Color`, got "black"'),
        ("Color", {"blue": {}}, 'Expected `Color`, got `dict`; write a member as "blue"'),
        ("Color", 1, "Expected `Color`, got `int`"),
    ]
    for name, value, message in cases:
        for engine in ("fast", "vm"):
            with pytest.raises(fsf.ValidationError) as info:
                SCHEMA.validate(name, value, engine=engine)
            assert info.value.message == message
        with pytest.raises(fsf.ValidationError) as info:
            SCHEMA.from_json(name, value)
        assert info.value.message == message
        with pytest.raises(fsf.ValidationError) as info:
            SCHEMA.encode(name, value)
        assert info.value.message == message


def test_the_all_errors_listing_of_a_broken_plan(plan_schema: fsf.Schema, golden: Any) -> None:
    obj = json.loads(SMALL_PLAN.read_text("utf-8"))
    obj["tasks"][0]["dependsOn"] = ["T2", 3]
    del obj["tasks"][1]["status"]
    obj["tasks"][1]["state"] = "pending"
    obj["tasks"].append("T9")
    obj["batches"][0]["taskIds"] = {"T1": True}
    with pytest.raises(fsf.ValidationError) as info:
        plan_schema.from_json("ForgePlan", obj, all_errors=True)
    text = "\n".join(f"{e}\n    loc={e.loc!r}" for e in info.value.errors) + "\n"
    golden.text(GOLDEN / "forge-plan.all-errors.txt", text)


# -- generated classes as type names ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    path = tmp_path_factory.mktemp("gen") / "api_plan.py"
    path.write_text(fsf.codegen(SCHEMA, "python"), "utf-8")
    spec = importlib.util.spec_from_file_location("api_plan", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_plan"] = module
    spec.loader.exec_module(module)
    return module


def test_a_generated_class_names_its_type(generated: Any) -> None:
    plan = SCHEMA.decode(SCHEMA.encode("Plan", GOOD), into=generated.Plan)
    assert type(plan) is generated.Plan
    data = SCHEMA.encode(generated.Plan, plan)
    assert data == SCHEMA.encode("Plan", GOOD) == SCHEMA.encode(generated.Plan, GOOD)
    assert SCHEMA.verify(data, generated.Plan) == "Plan"
    assert SCHEMA.decode(data, generated.Plan) == GOOD
    assert SCHEMA.read(data, generated.Plan).name == "Plan"
    assert SCHEMA.to_json(generated.Plan, plan) == SCHEMA.to_json("Plan", GOOD)
    assert SCHEMA.from_json(generated.Plan, SCHEMA.to_json("Plan", GOOD)) == GOOD
    SCHEMA.validate(generated.Color, "red")
    SCHEMA.validate(generated.Outcome, {"Pending": {}})  # the union's alias
    SCHEMA.validate(generated.Outcome_Failed, {"Pending": {}})  # a variant's class stands for its union
    with pytest.raises(fsf.ValidationError, match="got `str`; write a unit variant"):
        SCHEMA.validate(generated.Outcome, "Pending", all_errors=True)
    with pytest.raises(fsf.DecodeError) as info:
        SCHEMA.decode(data, generated.Step)
    assert info.value.code == "schema_mismatch"


def test_a_class_of_another_schema_or_no_class_is_refused(generated: Any) -> None:
    other = fsf.compile_source("shape Plan { title: str }")
    with pytest.raises(fsf.UsageError, match=r"^class `Plan` was not generated from this schema's `Plan` \(its id "):
        other.validate(generated.Plan, {"title": "x"})
    with pytest.raises(fsf.UsageError, match="class `Color` is not a type of this schema"):
        other.encode(generated.Color, "red")
    recolored = fsf.compile_source("enum Color { red, green }")
    with pytest.raises(fsf.UsageError, match="class `Color` was not generated from this schema's `Color`"):
        recolored.validate(generated.Color, "red")
    with pytest.raises(fsf.UsageError, match="not `int`"):
        SCHEMA.validate(3, {})  # type: ignore[arg-type]
    with pytest.raises(fsf.UsageError, match="not `module`"):
        SCHEMA.encode(generated, GOOD)  # type: ignore[arg-type]
