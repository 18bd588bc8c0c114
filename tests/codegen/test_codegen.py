"""Code generation: golden output per target, generated Python that type-checks and round-trips values, JSON
Schemas that agree with the codec, TypeScript that the compiler accepts, and hostile names and doc comments."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import fsf
from fsf import ir
from fsf.cli.fsf_tool import app as fsf_app
from fsf.codegen import (
    PY_RESERVED_FIELD,
    TARGETS,
    Code,
    _only_code,
    base64_pattern,
    escape_name,
    int_range_pattern,
    py_docstring,
    python_names,
    ts_doc,
)
from fsf.fsv.jsonform import from_json, to_json
from tests.support.strategies import schema_texts, values

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "codegen"
SHAPES = ROOT / "shapes"
EXAMPLES = SHAPES / "examples"
EVERY = GOLDEN / "every.fsf"
UPDATE = os.environ.get("FSF_UPDATE_GOLDEN") == "1"
EXTENSIONS = {"python": ".py", "jsonschema": ".schema.json", "typescript": ".d.ts"}

HOSTILE = (
    '/// Ends with a quote"\n'
    "/// \"\"\" triple quotes ''' and */ and /* and {{ jinja }} {% raw %} ${x} `tick` <!-- -->\n"
    "/// back\\slash at the end \\\n"
    '/// \\n is not a newline; \\""" neither; tab\there; cr\rhere; sep\u2028here; para\u2029here\n'
    "shape None {\n"
    '  /// "\n'
    "  class: str,\n"
    "  from: str?,\n"
    "  default: u8,\n"
    "  delete: bool,\n"
    "  interface: str,\n"
    "  self: str,\n"
    "  str: str,\n"
    "  typing: str?,\n"
    "  attrs: i8?,\n"
    "  import: True,\n"
    "  /// ends with a backslash \\\n"
    "  map: map[0..2]<True, False>,\n"
    "}\n"
    "/// */ closes a comment\n"
    "enum True { None, class, class_, name, value, mro, False }\n"
    "union False {\n"
    '  /// """\n'
    "  None,\n"
    "  Class { for: None? },\n"
    "  Record { lambda: str },\n"
    "}\n"
)
HOSTILE_VALUE = {
    "class": "c", "from": None, "default": 7, "delete": True, "interface": "i", "self": "s", "str": "t",
    "typing": "x", "attrs": -1, "import": "class_",
    "map": {"None": {"None": {}}, "mro": {"Class": {"for": None}}},
}


def schema_sources() -> dict[str, fsf.Schema]:
    """Every schema with golden output: each file of ``shapes/``, the every-construct schema, the hostile one."""
    found = {p.stem: fsf.load_schema(p) for p in sorted(SHAPES.glob("*.fsf"))}
    found["every"] = fsf.load_schema(EVERY)
    found["hostile"] = fsf.compile_source(HOSTILE, "hostile.fsf")
    return found


SCHEMAS = schema_sources()


def assert_golden(path: Path, text: str) -> None:
    """``text`` equals the golden file (``FSF_UPDATE_GOLDEN=1`` rewrites it instead)."""
    if UPDATE:
        path.write_text(text, encoding="utf-8", newline="")
        return
    assert path.exists(), f"missing golden file {path}; run the tests with FSF_UPDATE_GOLDEN=1 and review the diff"
    assert text == path.read_text(encoding="utf-8")


@contextlib.contextmanager
def generated_module(schema: fsf.Schema, name: str) -> Iterator[types.ModuleType]:
    """The generated Python of ``schema`` imported as module ``name`` (registered in sys.modules meanwhile)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(fsf.codegen(schema, "python"), f"<{name}>", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[name]


def validator(schema: fsf.Schema, root: str) -> jsonschema.Draft202012Validator:
    document = json.loads(fsf.codegen(schema, "jsonschema"))
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator({**document, "$ref": f"#/$defs/{root}"})


# -- golden files and determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("stem", sorted(SCHEMAS))
def test_golden(stem: str, target: str) -> None:
    assert_golden(GOLDEN / f"{stem}{EXTENSIONS[target]}", fsf.codegen(SCHEMAS[stem], target))


def test_every_shape_file_has_golden_output() -> None:
    expected = {f"{stem}{ext}" for stem in SCHEMAS for ext in EXTENSIONS.values()}
    present = {p.name for p in GOLDEN.iterdir() if p.suffix != ".fsf"}
    assert present == expected


@pytest.mark.parametrize("target", TARGETS)
def test_output_is_deterministic_and_ignores_declaration_order(target: str) -> None:
    text = EVERY.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    shuffled = "\n\n".join([blocks[0], *reversed(blocks[1:])])
    first = fsf.codegen(fsf.compile_source(text), target)
    assert fsf.codegen(fsf.compile_source(text), target) == first
    assert fsf.codegen(fsf.compile_source(shuffled), target) == first


@pytest.mark.parametrize("target", TARGETS)
def test_the_header_names_every_type_id(target: str) -> None:
    schema = SCHEMAS["every"]
    out = fsf.codegen(schema, target)
    if target == "jsonschema":
        header = json.loads(out)["$comment"]
        assert header.startswith("Generated by `fsf codegen --target jsonschema` from FSF schema types; do not edit. ")
        for name in schema.shapes:
            assert f"{name} {schema.id(name)}" in header
        return
    mark = "#" if target == "python" else "//"
    lines = out.splitlines()
    assert lines[0] == f"{mark} Generated by `fsf codegen --target {target}` from FSF schema types; do not edit."
    assert lines[1 : 1 + len(schema.shapes)] == [f"{mark} {name} {schema.id(name)}" for name in schema.shapes]


def test_unknown_target_is_a_usage_error() -> None:
    with pytest.raises(fsf.UsageError) as err:
        fsf.codegen(SCHEMAS["every"], "rust")
    assert str(err.value) == "unknown code generation target `rust`; use `python`, `jsonschema`, `typescript`"


# -- python ------------------------------------------------------------------------------------------------------


def test_generated_python_passes_mypy_strict_and_ruff(tmp_path: Path) -> None:
    files = []
    for stem, schema in SCHEMAS.items():
        path = tmp_path / f"gen_{stem.replace('-', '_')}.py"
        path.write_text(fsf.codegen(schema, "python"), encoding="utf-8")
        files.append(str(path))
    (tmp_path / "use_every.py").write_text(USE_EVERY, encoding="utf-8")
    (tmp_path / "misuse_every.py").write_text(MISUSE_EVERY, encoding="utf-8")
    files.append(str(tmp_path / "use_every.py"))
    mypy_command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
                    str(tmp_path / ".mypy"), "--python-version", "3.10"]
    mypy = subprocess.run([*mypy_command, *files], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    misuse = subprocess.run([*mypy_command, "misuse_every.py", "gen_every.py"], capture_output=True, text=True,
                            cwd=tmp_path, check=False)
    # (line, error code) of each misuse: mypy's wording varies between versions, the verdicts must not
    errors = {(int(line.split(":")[1]), line.rsplit("[", 1)[1].rstrip("]"))
              for line in misuse.stdout.splitlines() if ": error: " in line}
    assert {line for line, _ in errors} == {3, 4, 5, 7, 8}, misuse.stdout
    assert {(3, "arg-type"), (4, "call-arg"), (5, "call-arg"), (7, "misc"), (8, "assignment")} <= errors
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), *files],
        capture_output=True, text=True, cwd=tmp_path, check=False)
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


USE_EVERY = """\
from gen_every import Color, Plan, Plan_Fixed, Plan_NoPlan, Tree


def total(plan: Plan) -> int:
    if isinstance(plan, Plan_Fixed):
        return plan.price
    return 0


tree = Tree(label="root", children=[], tags=["a", None], color=Color.red)
plans: list[Plan] = [Plan_NoPlan(), Plan_Fixed(price=3, currency="EUR")]
print(sum(total(p) for p in plans), tree.color, tree.origin)
"""
MISUSE_EVERY = """\
from gen_every import Plan_Fixed, Tree

a = Tree(label=1, children=[], tags=[])
b = Tree(label="x", children=[])
c = Tree("x", [], [])
d = Tree(label="x", children=[], tags=[])
d.label = "y"
e: Tree = Plan_Fixed(price=1, currency="EUR")
"""


def test_python_classes_have_the_documented_form() -> None:
    schema = SCHEMAS["every"]
    with generated_module(schema, "gen_every_form") as mod:
        tree = mod.Tree(label="x", children=[], tags=[])
        assert [a.name for a in mod.Tree.__attrs_attrs__] == [f.name for f in schema.ir["Tree"].fields]
        assert tree.note is None and tree.color is None and tree.origin is None
        with pytest.raises(TypeError):
            mod.Tree(label="x")  # required fields have no default
        with pytest.raises(TypeError):
            mod.Tree("x", [])  # keyword-only
        with pytest.raises(AttributeError):
            tree.label = "y"  # type: ignore[misc]  # frozen
        assert not hasattr(tree, "__dict__")  # slotted
        assert mod.Tree.FSF_ID == schema.id("Tree") and mod.Tree.FSF_NAME == "Tree"
        assert mod.Plan_Fixed.FSF_ID == schema.id("Plan") and mod.Plan_Fixed.FSF_VARIANT == "Fixed"
        assert set(mod.Plan.__args__) == {mod.Plan_NoPlan, mod.Plan_Fixed, mod.Plan_Nested}
        assert [(m.name, m.value) for m in mod.Color] == [("red", "red"), ("green", "green"),
                                                           ("blue_ish", "blue_ish")]
        assert mod.Tree.__doc__ == "A recursive shape with optionals and a content reference."
        assert mod.Color.__doc__ == "A colour: an enum with documented members."


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*/*.json"))


@pytest.mark.parametrize("path", example_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_round_trips_through_the_generated_classes(path: Path) -> None:
    schema = SCHEMAS[path.parent.name]
    root = path.name.split(".", 1)[0]
    data = json.loads(path.read_text(encoding="utf-8"))
    encoded = schema.encode(root, from_json(schema, root, data))
    with generated_module(schema, f"gen_{path.parent.name.replace('-', '_')}") as mod:
        cls = getattr(mod, python_names(schema.ir).types[root])
        obj = schema.decode(encoded, into=mod)
        assert isinstance(obj, cls)
        assert schema.encode(root, obj) == encoded
        assert schema.decode(encoded, into=cls) == obj
        assert to_json(schema, root, schema.decode(schema.encode(root, obj))) == to_json(
            schema, root, schema.decode(encoded))


@pytest.mark.parametrize("path", example_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_is_valid_under_the_generated_json_schema(path: Path) -> None:
    schema = SCHEMAS[path.parent.name]
    root = path.name.split(".", 1)[0]
    data = json.loads(path.read_text(encoding="utf-8"))
    check = validator(schema, root)
    check.validate(data)
    check.validate(to_json(schema, root, schema.decode(schema.encode(root, from_json(schema, root, data)))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_random_schemas_and_values_round_trip_through_classes_and_json_schema(data: st.DataObject) -> None:
    schema = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    name = data.draw(st.sampled_from(schema.shapes), label="type")
    value = data.draw(values(schema.ir, name), label="value")
    encoded = schema.encode(name, value)
    with generated_module(schema, "gen_random") as mod:
        obj = schema.decode(encoded, into=mod)
        assert schema.encode(name, obj) == encoded
    validator(schema, name).validate(to_json(schema, name, value))
    assert fsf.codegen(schema, "typescript").startswith("// Generated by `fsf codegen --target typescript`")


def test_objects_and_dicts_mix_and_times_may_be_datetimes() -> None:
    schema = fsf.compile_source("shape Event { at: time, inner: Inner?, many: arr[0..3]<Inner> }\n"
                                "shape Inner { n: u8 }")
    import datetime as dt

    with generated_module(schema, "gen_mix") as mod:
        at = dt.datetime(2026, 11, 22, 0, 46, 54, 500000, tzinfo=dt.timezone.utc)
        as_dict = {"at": 1795308414500000000, "inner": None, "many": [{"n": 1}, {"n": 2}]}
        mixed = mod.Event(at=at, many=[mod.Inner(n=1), {"n": 2}])
        assert schema.encode("Event", mixed) == schema.encode("Event", as_dict)
        back = schema.decode(schema.encode("Event", mixed), into=mod.Event)
        assert back == mod.Event(at=1795308414500000000, inner=None, many=[mod.Inner(n=1), mod.Inner(n=2)])


def test_objects_of_the_wrong_class_are_refused_by_the_validator() -> None:
    schema = fsf.compile_source("shape A { x: u8 }\nshape B { x: u8 }\nshape Holder { a: A }")
    with generated_module(schema, "gen_wrong") as mod:
        with pytest.raises(fsf.ValidationError) as err:
            schema.encode("Holder", mod.Holder(a=mod.B(x=1)))
        assert err.value.path == "$.a"
        assert schema.encode("Holder", mod.Holder(a=mod.A(x=1))) == schema.encode("Holder", {"a": {"x": 1}})


def test_enum_keys_may_be_members_or_names_but_not_both_for_one_member() -> None:
    schema = fsf.compile_source("enum C { red, blue }\nshape A { m: map[0..3]<C, u8> }")
    with generated_module(schema, "gen_keys") as mod:
        mixed = mod.A(m={mod.C.red: 1, "blue": 2})
        assert schema.encode("A", mixed) == schema.encode("A", {"m": {"red": 1, "blue": 2}})
        with pytest.raises(fsf.ValidationError) as err:
            schema.encode("A", mod.A(m={mod.C.red: 1, "red": 2}))
        assert err.value.path.startswith("$.m[")


def test_decoding_into_a_module_from_another_schema_is_refused() -> None:
    old = fsf.compile_source("shape Task { id: str }")
    new = fsf.compile_source("shape Task { id: str, note: str? }")
    encoded = new.encode("Task", {"id": "T1"})
    with generated_module(old, "gen_old") as mod:
        with pytest.raises(fsf.UsageError) as err:
            new.decode(encoded, into=mod)
        assert str(err.value) == (f"`gen_old.Task` was generated from another schema: its id is {old.id('Task')}, "
                                  f"`Task` here is {new.id('Task')}")
    other = fsf.compile_source("shape Other { id: str }\nshape Task { id: str, note: str? }")
    with generated_module(other, "gen_other") as mod:
        with pytest.raises(fsf.UsageError) as err:
            new.decode(encoded, into=mod.Other)
        assert str(err.value) == "class `Other` is not a type of this schema"
        with pytest.raises(fsf.UsageError) as err:
            other.decode(other.encode("Task", {"id": "T1"}), "Task", into=mod.Other)
        assert str(err.value) == "`into` stands for `Other`, but `Task` was asked for"
        with pytest.raises(fsf.DecodeError) as derr:
            other.decode(other.encode("Task", {"id": "T1"}), into=mod.Other)
        assert derr.value.code == "schema_mismatch"
    empty = types.ModuleType("gen_empty")
    with pytest.raises(fsf.UsageError) as err:
        new.decode(encoded, into=empty)
    assert str(err.value) == ("module `gen_empty` has no class `Task` for `Task`; "
                              "regenerate it with `fsf codegen --target python`")
    with pytest.raises(fsf.UsageError) as err:
        new.decode(encoded, into=42)
    assert str(err.value) == "`into` must be a generated module or class, not int"


def test_decoding_into_a_union_alias_or_variant_class() -> None:
    schema = SCHEMAS["every"]
    value = {"Fixed": {"price": 3, "currency": "EUR"}}
    encoded = schema.encode("Plan", value)
    with generated_module(schema, "gen_every_union") as mod:
        expected = mod.Plan_Fixed(price=3, currency="EUR")
        assert schema.decode(encoded, into=mod.Plan) == expected
        assert schema.decode(encoded, into=mod.Plan_NoPlan) == expected
        assert schema.encode("Plan", expected) == encoded
        assert schema.encode("Plan", mod.Plan_NoPlan()) == schema.encode("Plan", {"NoPlan": {}})
        assert schema.decode(schema.encode("Color", "green"), into=mod.Color) is mod.Color.green
        assert schema.encode("Color", mod.Color.green) == schema.encode("Color", "green")


# -- hostile names and doc comments ------------------------------------------------------------------------------


def test_hostile_names_are_escaped_and_docs_survive_in_python() -> None:
    schema = SCHEMAS["hostile"]
    names = python_names(schema.ir)
    assert names.types == {"False": "False_", "None": "None_", "True": "True_"}
    assert names.fields["None", None] == ("class_", "from_", "default", "delete", "interface", "self_", "str_",
                                          "typing_", "attrs_", "import_", "map")
    assert names.members["True"] == ("None_", "class_", "class__", "name_", "value_", "mro_", "False_")
    assert names.variants["False", "Class"] == "False_Class"
    with generated_module(schema, "gen_hostile") as mod:
        assert mod.None_.__doc__.replace("\n    ", "\n") == schema.ir["None"].doc + "\n"
        assert mod.True_.__doc__ == "*/ closes a comment"
        assert mod.False_None.__doc__ == '"""'
        assert [m.value for m in mod.True_] == ["None", "class", "class_", "name", "value", "mro", "False"]
        encoded = schema.encode("None", HOSTILE_VALUE)
        obj = schema.decode(encoded, into=mod)
        assert obj.class_ == "c" and obj.import_ is mod.True_.class__ and obj.map[mod.True_.mro_] == mod.False_Class()
        assert schema.encode("None", obj) == encoded
    source = fsf.codegen(schema, "python")
    assert "{{" not in source.replace("{{ jinja }}", "")  # the doc text is there once, as text


def test_hostile_docs_survive_in_json_schema() -> None:
    schema = SCHEMAS["hostile"]
    document = json.loads(fsf.codegen(schema, "jsonschema"))
    assert document["$defs"]["None"]["description"] == schema.ir["None"].doc
    assert document["$defs"]["None"]["properties"]["class"]["description"] == '"'
    validator(schema, "None").validate(to_json(schema, "None", schema.decode(schema.encode("None", HOSTILE_VALUE))))


def test_docstring_escaping_round_trips_any_text() -> None:
    samples = ['"', '""', '"""', "\\", 'a"""b', '\\"""', "x\ny", "\r\x00\x7f\u2028\ud800", "{{ x }}", "'''", "end\\"]
    for doc in samples:
        literal = py_docstring(doc, 4)
        assert literal.startswith('"""') and literal.endswith('"""')
        assert _evaluate(literal, 4) == doc


def _evaluate(literal: str, indent: int) -> str:
    """The text of a generated docstring literal without the indentation and final line break we add."""
    text = eval(literal)
    if "\n" not in text:
        return text
    return text.replace("\n" + " " * indent, "\n").removesuffix("\n")


def test_ts_doc_never_closes_early() -> None:
    for doc in ["*/", "a */ b", "**/", "*\n/", "x\u2028y", "/*"]:
        comment = ts_doc(doc, 0)
        assert comment.startswith("/**") and comment.endswith("*/")
        assert "*/" not in comment[3:-2]


@given(st.text(max_size=40))
def test_docstring_escaping_round_trips_random_text(doc: str) -> None:
    doc = "\n".join(line.rstrip() for line in doc.split("\n"))
    assert _evaluate(py_docstring(doc, 2), 2) == doc


def test_names_that_are_not_identifiers_are_refused() -> None:
    bad_ir = ir.Schema((ir.Shape("Bad", (ir.Field('x"); import os; ("', ir.Bool()),)),))
    for target in TARGETS:
        with pytest.raises(fsf.UsageError) as err:
            fsf.codegen(fsf.Schema(bad_ir), target)
        assert str(err.value) == ("cannot generate code for `'x\"); import os; (\"'`: "
                                  "names must be ASCII identifiers")
    bad_enum = ir.Schema((ir.Enum("E", (ir.Member("a b"),)),))
    for target in TARGETS:
        with pytest.raises(fsf.UsageError):
            fsf.codegen(fsf.Schema(bad_enum), target)
    nan = ir.Schema((ir.Shape("A", (ir.Field("x", ir.Float(64, float("nan"), 1.0)),)),))
    with pytest.raises(fsf.UsageError) as err:
        fsf.codegen(fsf.Schema(nan), "jsonschema")
    assert str(err.value) == "cannot generate code for `f64[nan..1.0]`: float bounds must be finite"


def test_escape_rule() -> None:
    assert escape_name("class", PY_RESERVED_FIELD) == "class_"
    assert escape_name("id", PY_RESERVED_FIELD) == "id"
    taken = {"class_"}
    assert escape_name("class", PY_RESERVED_FIELD, taken) == "class__"
    assert "class__" in taken


def test_only_escaped_text_reaches_a_template() -> None:
    assert _only_code(Code("x")) == "x"
    assert _only_code(3) == 3
    with pytest.raises(TypeError):
        _only_code("plain text")
    with pytest.raises(TypeError):
        _only_code(True)


# -- json schema ---------------------------------------------------------------------------------------------------

TREE = {"label": "root", "children": [{"label": "leaf", "children": [], "origin": None, "note": None, "color": None,
                                       "tags": []}],
        "origin": "blake3:" + "ab" * 32, "note": "n", "color": "green", "tags": ["a", None]}
EVERY_VALUE: dict[str, Any] = {
    "plan": {"Nested": {"inner": {"Fixed": {"price": 10, "currency": "EUR"}}, "trees": [TREE],
                        "colors": {"red": {"NoPlan": {}}}}},
    "tree": TREE,
    "primitives": {"flag": True, "tiny": -128, "short": 32767, "medium": -(2**31), "long": 2**63 - 1, "byte": 255,
                   "word": 0, "dword": 2**32 - 1, "qword": 2**64 - 1, "single": 1.5, "double": -0.25,
                   "text": "héllo", "blob": "AAEC", "digest": "00" * 32, "at": "2026-11-22T00:46:54.5Z"},
    "bounded": {"small": -5, "count": 10, "ratio": 1, "half": -1.5, "code": "ABCDEFGH", "blob": "AQIDBA==",
                "items": [1], "byKey": {"a": 1, "abc": 2}, "byNumber": {"-3": True, "200": False},
                "byColor": {"blue_ish": "b"}},
    "plans": [{"NoPlan": {}}],
}
DROP = object()

# (path, new value, JSON Schema accepts, codec accepts)
CASES: list[tuple[tuple[str, ...], Any, bool, bool]] = [
    (("bounded", "small"), 12, True, True),
    (("bounded", "small"), 13, False, False),
    (("bounded", "small"), -6, False, False),
    (("bounded", "small"), "1", False, False),
    (("bounded", "count"), 2**64 - 1, True, True),
    (("bounded", "count"), 9, False, False),
    (("bounded", "count"), 2**64, False, False),
    (("bounded", "ratio"), 0, True, True),
    (("bounded", "ratio"), 1.0001, False, False),
    (("bounded", "ratio"), -0.001, False, False),
    (("bounded", "half"), 1.5, True, True),
    (("bounded", "half"), 1.75, False, False),
    (("primitives", "single"), 3.5e38, False, False),
    (("primitives", "tiny"), -129, False, False),
    (("primitives", "qword"), -1, False, False),
    (("primitives", "qword"), 2**64, False, False),
    (("primitives", "flag"), 1, False, False),
    (("bounded", "code"), "", False, False),
    (("bounded", "code"), "ABCDEFGHI", False, False),
    (("bounded", "code"), "ÀÉÎÕÜßçñ", True, True),  # code points, not bytes
    (("bounded", "blob"), "AQ==", True, True),
    (("bounded", "blob"), "AQI=", True, True),
    (("bounded", "blob"), "AQID", True, True),
    (("bounded", "blob"), "", False, False),
    (("bounded", "blob"), "AQIDBAU=", False, False),
    (("bounded", "blob"), "AR==", False, False),  # non-canonical padding bits
    (("bounded", "blob"), "AQ", False, False),
    (("bounded", "items"), [], False, False),
    (("bounded", "items"), [1, 2, 3, 4], False, False),
    (("bounded", "items"), [256], False, False),
    (("bounded", "byKey"), {"": 1}, False, False),
    (("bounded", "byKey"), {"abcd": 1}, False, False),
    (("bounded", "byKey"), {k: 1 for k in "abcde"}, False, False),
    (("bounded", "byNumber"), {"0": True, "-1": False, "99": True, "5": True, "-3": False}, True, True),
    (("bounded", "byNumber"), {}, False, False),
    (("bounded", "byNumber"), {"-4": True}, False, False),
    (("bounded", "byNumber"), {"201": True}, False, False),
    (("bounded", "byNumber"), {"007": True}, False, False),
    (("bounded", "byNumber"), {"+1": True}, False, False),
    (("bounded", "byNumber"), {"-0": True}, False, False),
    (("bounded", "byNumber"), {"1.0": True}, False, False),
    (("bounded", "byColor"), {"purple": "x"}, False, False),
    (("bounded",), None, True, True),
    (("bounded",), DROP, True, True),
    (("tree", "color"), "purple", False, False),
    (("tree", "note"), DROP, True, True),
    (("tree", "label"), DROP, False, False),
    (("tree", "label"), "x" * 33, False, False),
    (("tree", "extra"), 1, False, False),
    (("tree", "origin"), "blake3:" + "AB" * 32, False, False),
    (("tree", "origin"), "sha256:" + "ab" * 32, False, False),
    (("primitives", "digest"), "0" * 63, False, False),
    (("primitives", "digest"), "0" * 64, True, True),
    (("primitives", "at"), "1970-01-01T00:00:00Z", True, True),
    (("primitives", "at"), "2026-11-22 00:46:54Z", False, False),
    (("primitives", "at"), "2026-11-22T00:46:54.1234567890Z", False, False),
    (("plan",), {"Fixed": {"price": 1, "currency": "EUR"}, "NoPlan": {}}, False, False),
    (("plan",), {"NoPlan": {"x": 1}}, False, False),
    (("plan",), {"Unknown": {}}, False, False),
    (("plan",), {"Fixed": {"price": 1}}, False, False),
    (("plan",), "NoPlan", False, False),
    (("plans",), [{"NoPlan": {}}] * 4, False, False),
    # Where JSON Schema is stricter than the codec's JSON reader: only the documented output spelling.
    (("primitives", "at"), "2026-11-22T01:46:54+01:00", False, True),
    # Where JSON Schema cannot say as much as the codec (docs/codegen.md, "Limits").
    (("bounded", "small"), 1.0, True, False),
    (("primitives", "single"), 0.1, True, False),
]


def _mutate(value: dict[str, Any], path: tuple[str, ...], new: Any) -> dict[str, Any]:
    out = copy.deepcopy(value)
    where = out
    for key in path[:-1]:
        where = where[key]
    if new is DROP:
        del where[path[-1]]
    else:
        where[path[-1]] = new
    return out


def _codec_accepts(schema: fsf.Schema, value: Any) -> bool:
    try:
        schema.validate("Holder", from_json(schema, "Holder", value))
    except fsf.ValidationError:
        return False
    return True


def test_the_every_construct_value_is_valid_for_both() -> None:
    schema = SCHEMAS["every"]
    assert validator(schema, "Holder").is_valid(EVERY_VALUE)
    assert _codec_accepts(schema, EVERY_VALUE)


@pytest.mark.parametrize(("path", "new", "schema_ok", "codec_ok"), CASES,
                         ids=[f"{'.'.join(c[0])}={str(c[1])[:24]}" for c in CASES])
def test_json_schema_bounds_agree_with_the_codec(path: tuple[str, ...], new: Any, schema_ok: bool,
                                                 codec_ok: bool) -> None:
    schema = SCHEMAS["every"]
    value = _mutate(EVERY_VALUE, path, new)
    assert validator(schema, "Holder").is_valid(value) is schema_ok
    assert _codec_accepts(schema, value) is codec_ok


@given(st.integers(-(2**65), 2**65), st.integers(-(2**65), 2**65), st.integers(-(2**66), 2**66))
def test_int_range_pattern_matches_exactly_the_range(a: int, b: int, n: int) -> None:
    import re

    lo, hi = min(a, b), max(a, b)
    pattern = re.compile(int_range_pattern(lo, hi))
    for x in (n, lo, hi, lo - 1, hi + 1, (lo + hi) // 2, 0, -1, 1):
        assert bool(pattern.search(str(x))) is (lo <= x <= hi), (lo, hi, x)
    assert not pattern.search("-0") and not pattern.search("+1") and not pattern.search("01")


def test_int_range_pattern_small_ranges_exhaustively() -> None:
    import re

    for lo in range(-25, 26):
        for hi in range(lo, 130):
            pattern = re.compile(int_range_pattern(lo, hi))
            assert [x for x in range(-40, 150) if pattern.search(str(x))] == list(range(lo, hi + 1))


@given(st.binary(max_size=20), st.integers(0, 12), st.one_of(st.none(), st.integers(0, 12)))
def test_base64_pattern_matches_canonical_base64_of_allowed_lengths(raw: bytes, lo: int, hi: int | None) -> None:
    import re

    if hi is not None and hi < lo:
        lo, hi = hi, lo
    pattern = re.compile(base64_pattern(lo, hi))
    text = base64.b64encode(raw).decode()
    assert bool(pattern.search(text)) is (lo <= len(raw) and (hi is None or len(raw) <= hi))
    if text.endswith("=") and text[-2] != "=":  # flip a padding bit: no longer canonical
        bad = text[:-2] + chr(ord(text[-2]) ^ 1) + "="
        assert not pattern.search(bad)


# -- typescript ----------------------------------------------------------------------------------------------------


def _tsc() -> list[str] | None:
    if os.environ.get("FSF_SKIP_TSC") == "1":
        return None
    if shutil.which("tsc"):
        return ["tsc"]
    if shutil.which("npx"):
        command = ["npx", "-y", "-p", "typescript", "tsc"]
        try:  # the first run downloads the compiler from npm; without a network it fails or hangs
            probe = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if probe.returncode == 0:
            return command
    return None


def test_generated_typescript_compiles_and_types_every_example(tmp_path: Path) -> None:
    tsc = _tsc()
    if tsc is None:
        pytest.skip("no TypeScript compiler (tsc, or npx with network access)")
    files = []
    for stem, schema in SCHEMAS.items():
        (tmp_path / f"{stem}.d.ts").write_text(fsf.codegen(schema, "typescript"), encoding="utf-8")
        files.append(f"{stem}.d.ts")
    lines = []
    for i, path in enumerate(example_files()):
        root = path.name.split(".", 1)[0]
        data = json.loads(path.read_text(encoding="utf-8"))
        lines.append(f'import type {{ {root} as T{i} }} from "./{path.parent.name}";')
        lines.append(f"export const v{i}: T{i} = {json.dumps(data)};")
    lines.append('import type { Holder } from "./every";')
    lines.append(f"export const every: Holder = {json.dumps(EVERY_VALUE)};")
    lines.append('import type { None as Hostile } from "./hostile";')
    lines.append(f"export const hostile: Hostile = {json.dumps(HOSTILE_VALUE)};")
    (tmp_path / "examples.ts").write_text("\n".join(lines) + "\n", encoding="utf-8")
    wrong = 'import type { Holder } from "./every";\nexport const bad: Holder = {"plan": {"Nope": {}}};\n'
    (tmp_path / "wrong.ts").write_text(wrong, encoding="utf-8")
    options = ["--noEmit", "--strict", "--module", "esnext", "--moduleResolution", "bundler", "--target", "es2022"]
    good = subprocess.run([*tsc, *options, "examples.ts", *files], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run([*tsc, *options, "wrong.ts", *files], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, check=False)
    assert bad.returncode != 0 and "wrong.ts" in bad.stdout


# -- the command ---------------------------------------------------------------------------------------------------


def test_cli_prints_or_writes_atomically(tmp_path: Path) -> None:
    runner = CliRunner()
    schema_path = SHAPES / "forge-plan.fsf"
    result = runner.invoke(fsf_app, ["codegen", "--target", "typescript", str(schema_path)])
    assert result.exit_code == 0
    assert result.stdout == fsf.codegen(fsf.load_schema(schema_path), "typescript")
    out = tmp_path / "plan.py"
    result = runner.invoke(fsf_app, ["codegen", "--target", "python", str(schema_path), "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == fsf.codegen(fsf.load_schema(schema_path), "python")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.py"]


def test_cli_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(fsf_app, ["codegen", "--target", "rust", str(SHAPES / "forge-plan.fsf")])
    assert result.exit_code == 2
    missing = tmp_path / "missing.fsf"
    result = runner.invoke(fsf_app, ["codegen", "--target", "python", str(missing)])
    assert result.exit_code == 1
    assert result.stderr == f"error[F000]: cannot read schema `{missing}`: no such file or directory\n"
    bad = tmp_path / "bad.fsf"
    bad.write_text("shape A { x: Nope }\n", encoding="utf-8")
    result = runner.invoke(fsf_app, ["codegen", "--target", "python", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{bad}:1:14: error[F201]: unknown type `Nope`")
    result = runner.invoke(fsf_app, ["codegen", "--target", "python", str(SHAPES / "forge-plan.fsf"),
                                     "-o", str(tmp_path / "no" / "such" / "dir.py")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot access")
    assert "Traceback" not in result.stderr
