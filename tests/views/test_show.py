"""Views, the text form (`fsv show`): golden text for every type of the language, the committed FSV vectors and a
value whose schema is missing; one changed scalar changes one line; hostile strings stay on their line; the
command's outputs and exit codes (with and without `--textconv`)."""

from __future__ import annotations

import copy
import difflib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import fsf
from fsf import ir
from fsf.cli.fsf_tool import app as fsf_app
from fsf.cli.fsv_tool import app as fsv_app
from fsf.fsv.header import HEADER_SIZE, read_header
from fsf.ir.kinds import Kind, decl_kind
from fsf.views.show import show, show_lines, show_unknown
from tests.support.golden import Golden
from tests.views.test_views import EVERY_TYPE, GENERIC_CASES, everything, forge_plan

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "show"
VECTORS = ROOT / "tests" / "vectors"
PLAN_SCHEMA = ROOT / "shapes" / "forge-plan.fsf"
SMALL_PLAN = ROOT / "shapes" / "examples" / "forge-plan" / "ForgePlan.small.fsv"

runner = CliRunner()


@pytest.fixture(scope="module")
def every_type() -> fsf.Schema:
    return fsf.compile_source(EVERY_TYPE, "every-type.fsf")


def _shown(schema: fsf.Schema, name: str, value: Any) -> str:
    data = schema.encode(name, value)
    return show(schema.ir, name, schema.decode(data), type_id=schema.id(name), content_id=fsf.content_id(data))


@pytest.mark.parametrize("case", sorted(GENERIC_CASES))
def test_show_every_type(every_type: fsf.Schema, case: str, golden: Golden) -> None:
    name, value = GENERIC_CASES[case]
    golden.text(GOLDEN / case.replace("generic-", "").replace(".md", ".txt"), _shown(every_type, name, value))


def test_show_the_fsv_vectors(golden: Golden) -> None:
    vectors = json.loads((VECTORS / "fsv-vectors.json").read_text("utf-8"))
    schema = fsf.compile_source((VECTORS / "every.fsf").read_text("utf-8"))
    parts = []
    for vector in vectors["valid"]:
        if vector["schema"] != "every":
            continue
        data = bytes.fromhex(vector["fsv"])
        name = schema.name_of(read_header(data).root_id)
        assert name is not None and name == vector["type"]
        text = show(schema.ir, name, schema.decode(data), type_id=schema.id(name), content_id=fsf.content_id(data))
        parts.append(f"==> {vector['name']} <==\n{text}")
    golden.text(GOLDEN / "vectors-every.txt", "\n".join(parts))


def test_show_a_value_whose_schema_is_missing(golden: Golden) -> None:
    golden.text(GOLDEN / "unknown.txt",
                show_unknown(type_id="blake3:" + "ab" * 32, content_id="blake3:" + "cd" * 32, payload_size=349))


def test_show_lines_indents_one_value(every_type: fsf.Schema) -> None:
    value = {"name": "Bob", "email": None, "age": 7}
    assert show_lines(every_type.ir, ir.Named("Person"), value, 4) == [
        '    name: "Bob"', "    email: null", "    age: 7"]
    assert show_lines(every_type.ir, ir.Named("Outcome"), {"Failed": {"reason": "x", "retries": 1}}, 2) == [
        "  Failed", '    reason: "x"', "    retries: 1"]
    assert show_lines(every_type.ir, ir.Named("Outcome"), {"Waiting": {}}, 0) == ["Waiting"]
    assert show_lines(every_type.ir, ir.Array(0, 3, ir.Str()), [], 2) == ["  []"]
    assert show_lines(every_type.ir, ir.Optional(ir.Named("Person")), None, 0) == ["null"]


HOSTILE = {
    "newline": "one\ntwo\r\nthree\rfour",
    "escape sequence": "\x1b[2J\x1b]0;title\x07",
    "bidi override": "invoice\u202egnp.exe",
    "line separators": "a\u2028b\u2029c\x85d\x0be\x0cf\x1c\x1d\x1e",
    "quotes and backslashes": 'say "hi" \\u{202E} \\',
    "delete and C1": "\x7f\x80\x9f",
    "nul": "\x00",
}


def test_hostile_strings_stay_on_their_line(every_type: fsf.Schema, golden: Golden) -> None:
    person = {"name": "Mallory", "email": None, "age": 1}
    value = {**everything(), "tags": list(HOSTILE.values()),
             "scores": {text: i for i, text in enumerate(HOSTILE.values())}, "people": [], "byStatus": {}}
    text = _shown(every_type, "Everything", {**value, "owner": person})
    assert text.splitlines() == text.split("\n")[:-1]  # no character that any reader takes for a line break
    for line in text.splitlines():
        for bad in "\x1b\u202e\x7f\x80\x9f\x00\x85\u2028\u2029":
            assert bad not in line
    golden.text(GOLDEN / "hostile-strings.txt", text)


def _leaves(schema: ir.Schema, t: Any, value: Any, path: tuple[Any, ...] = ()) -> Iterator[
        tuple[tuple[Any, ...], ir.Type, Any]]:
    """Every scalar in ``value`` with its path (keys and indices) and type."""
    kind = decl_kind(schema, t)
    if kind is Kind.OPTIONAL:
        if value is not None:
            yield from _leaves(schema, t.inner, value, path)
    elif kind is Kind.ARRAY:
        for i, item in enumerate(value):
            yield from _leaves(schema, t.item, item, (*path, i))
    elif kind is Kind.MAP:
        for key, item in value.items():
            yield from _leaves(schema, t.value, item, (*path, key))
    elif kind is Kind.SHAPE:
        decl = schema[t.name]
        for f in decl.fields:
            yield from _leaves(schema, f.type, value[f.name], (*path, f.name))
    elif kind is Kind.UNION:
        ((vname, body),) = value.items()
        variant = next(v for v in schema[t.name].variants if v.name == vname)
        for f in variant.fields:
            yield from _leaves(schema, f.type, body[f.name], (*path, vname, f.name))
    elif kind in (Kind.STR, Kind.BOOL, Kind.INT):
        yield path, t, value


def _changed(t: ir.Type, value: Any) -> Any:
    if isinstance(t, ir.Str):
        return value + "x" if t.hi is None or len(value) < t.hi else value[:-1]
    if isinstance(t, ir.Bool):
        return not value
    assert isinstance(t, ir.Int)
    return value + 1 if value < t.hi else value - 1


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(value)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


@pytest.mark.parametrize("root", ["Everything", "ForgePlan"])
def test_one_changed_scalar_changes_one_line(every_type: fsf.Schema, root: str) -> None:
    schema = every_type if root == "Everything" else fsf.load_schema(PLAN_SCHEMA)
    value = schema.decode(schema.encode(root, everything() if root == "Everything" else forge_plan(8)))  # unshared
    before = _shown(schema, root, value).splitlines()[2:]  # after the header (the content id changes too)
    count = 0
    for path, t, leaf in _leaves(schema.ir, ir.Named(root), value):
        after = _shown(schema, root, _set(value, path, _changed(t, leaf))).splitlines()[2:]
        changes = [line for line in difflib.ndiff(before, after) if line[:1] in ("+", "-")]
        assert len(changes) == 2, (path, changes)
        count += 1
    assert count > 20


# -- the command ----------------------------------------------------------------------------------------------


def _run(app: typer.Typer, *args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a copy of the small plan and no store above it."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(SMALL_PLAN, tmp_path / "plan.fsv")
    return tmp_path


def _store_with_plan_schema() -> None:
    assert _run(fsf_app, "store", "init")[0] == 0
    assert _run(fsf_app, "store", "add", PLAN_SCHEMA)[0] == 0


def test_show_command_without_a_schema_never_fails(here: Path) -> None:
    data = SMALL_PLAN.read_bytes()
    plan = fsf.load_schema(PLAN_SCHEMA)
    expected = show_unknown(type_id=plan.id("ForgePlan"), content_id=fsf.content_id(data),
                            payload_size=len(data) - HEADER_SIZE)
    for flags in ((), ("--textconv",)):
        assert _run(fsv_app, "show", *flags, "plan.fsv") == (0, expected, "")


def test_show_command_with_the_store_and_with_s(here: Path) -> None:
    plan = fsf.load_schema(PLAN_SCHEMA)
    data = SMALL_PLAN.read_bytes()
    expected = show(plan.ir, "ForgePlan", plan.decode(data), type_id=plan.id("ForgePlan"),
                    content_id=fsf.content_id(data))
    assert _run(fsv_app, "show", "-s", PLAN_SCHEMA, "plan.fsv") == (0, expected, "")
    _store_with_plan_schema()
    assert _run(fsv_app, "show", "plan.fsv") == (0, expected, "")
    assert _run(fsv_app, "show", "--textconv", "plan.fsv") == (0, expected, "")
    code, out, _ = _run(fsv_app, "show", "plan.fsv", "plan.fsv")
    assert (code, out) == (0, f"==> plan.fsv <==\n{expected}\n==> plan.fsv <==\n{expected}")


def test_show_command_reads_an_old_value_as_the_reader_type(here: Path) -> None:
    _store_with_plan_schema()
    newer = here / "plan2.fsf"
    newer.write_text(PLAN_SCHEMA.read_text("utf-8").replace("  status: str,\n", "  status: str,\n  reviewer: str?,\n"),
                     "utf-8")
    reader = fsf.load_schema(newer)
    data = SMALL_PLAN.read_bytes()
    code, out, err = _run(fsv_app, "show", "-s", newer, "plan.fsv")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [f"# ForgePlan {reader.id('ForgePlan')}", f"# {fsf.content_id(data)}",
                         f"# written as {fsf.load_schema(PLAN_SCHEMA).id('ForgePlan')}"]
    assert lines.count("    reviewer: null") == 2


def test_show_command_problems(here: Path) -> None:
    (here / "text.fsv").write_text("not a value\n", "utf-8")
    (here / "cut.fsv").write_bytes(SMALL_PLAN.read_bytes()[:-3])
    _store_with_plan_schema()
    not_fsv = "not an FSV value: starts with `6e 6f 74 20`, expected `89 46 53 56` - at byte 0 [bad_magic]"
    assert _run(fsv_app, "show", "text.fsv") == (1, "", f"error: text.fsv: {not_fsv}\n")
    assert _run(fsv_app, "show", "--textconv", "text.fsv") == (0, f"# {not_fsv}\n", "")
    code, out, err = _run(fsv_app, "show", "cut.fsv")
    assert (code, out) == (1, "") and err.startswith("error: cut.fsv: ") and "[length_exceeds_input]" in err
    code, out, err = _run(fsv_app, "show", "--textconv", "cut.fsv")
    plan = fsf.load_schema(PLAN_SCHEMA)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"# ? {plan.id('ForgePlan')}"
    assert out.splitlines()[2].startswith("# cannot show: ") and len(out.splitlines()) == 3
    assert _run(fsv_app, "show", "--textconv", "gone.fsv") == (0, "# cannot read: no such file or directory\n", "")
    assert _run(fsv_app, "show", "gone.fsv")[0] == 1
    code, out, err = _run(fsv_app, "show", "text.fsv", "plan.fsv")
    assert code == 1 and out.startswith("==> text.fsv <==\n\n==> plan.fsv <==\n# ForgePlan ")
    code, _, err = _run(fsv_app, "show", PLAN_SCHEMA)
    assert code == 2 and "not shown as an FSV value" in err
    assert _run(fsv_app, "show", "--textconv", "--store", "nowhere", "plan.fsv")[:2] == (
        0, "# cannot show: `nowhere` is not a store (no FSF-STORE file); make one with `fsf store init nowhere` "
        "[not_a_store]\n")
