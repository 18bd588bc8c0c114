"""Structural merge of FSV values: the library (:func:`fsf.merge.merge`: field by field, arrays of items with ids by
id, maps by key, conflicts at value paths, append-only, the merged value validated), the command `fsv merge` (git's
`%O %A %B` merge driver: OURS replaced atomically or left untouched, the report on stderr, exit 0/1/2), `fsv verify
--append-only-since REV PATH...`, and the whole thing in a throwaway git repository through `fsv git install`.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import fsf
from fsf.cli.fsv_tool import app
from fsf.merge import ABSENT, Conflict, Conflicts, Merged, merge, report
from tests.support import strategies

ROOT = Path(__file__).resolve().parents[2]
PLAN_SCHEMA = ROOT / "shapes" / "forge-plan.fsf"
PLAN = fsf.load_schema(PLAN_SCHEMA)
runner = CliRunner()

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def task(n: int, **changes: Any) -> dict[str, Any]:
    value = {"id": f"T{n}", "title": f"Task {n}", "status": "todo", "category": "core", "dependsOn": [],
             "files": [], "description": ""}
    return {**value, **changes}


def plan(*tasks: dict[str, Any], batches: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"sessionId": "s-1", "title": "A plan", "tasks": list(tasks), "batches": batches or []}


BASE = plan(task(1), task(2), task(3))


def edited(value: dict[str, Any], n: int, **changes: Any) -> dict[str, Any]:
    """``value`` with task ``Tn``'s fields changed."""
    out = copy.deepcopy(value)
    out["tasks"] = [{**t, **changes} if t["id"] == f"T{n}" else t for t in out["tasks"]]
    return out


def merged(base: Any, ours: Any, theirs: Any, **kw: Any) -> Any:
    got = merge(PLAN.ir, "ForgePlan", base, ours, theirs, **kw)
    assert isinstance(got, Merged), got
    return got.value


def conflicts(base: Any, ours: Any, theirs: Any, schema: fsf.Schema = PLAN, name: str = "ForgePlan",
              **kw: Any) -> tuple[Conflict, ...]:
    got = merge(schema.ir, name, base, ours, theirs, **kw)
    assert isinstance(got, Conflicts), got
    return got.conflicts


# -- the library: arrays of items with ids ------------------------------------------------------------------------


def test_two_different_tasks_changed_merge_with_both_changes() -> None:
    ours, theirs = edited(BASE, 1, status="done"), edited(BASE, 2, status="blocked", files=["a.py"])
    got = merged(BASE, ours, theirs)
    assert got == plan(task(1, status="done"), task(2, status="blocked", files=["a.py"]), task(3))
    PLAN.validate("ForgePlan", got)


def test_insertions_from_both_sides_ours_order_then_theirs_new_items() -> None:
    ours = plan(task(3), task(1), task(2), task(4))  # reordered, and T4 added
    theirs = plan(task(1), task(2), task(3), task(6), task(5))
    assert [t["id"] for t in merged(BASE, ours, theirs)["tasks"]] == ["T3", "T1", "T2", "T4", "T6", "T5"]


def test_deletions_are_honoured_and_a_task_deleted_on_both_sides_is_gone() -> None:
    ours = plan(task(1, status="done"), task(3))  # T2 deleted
    theirs = plan(task(1), task(2))  # T3 deleted
    assert merged(BASE, ours, theirs) == plan(task(1, status="done"))


def test_the_same_task_changed_on_both_sides_merges_inside_it() -> None:
    ours, theirs = edited(BASE, 2, status="done"), edited(BASE, 2, description="Now with words")
    assert merged(BASE, ours, theirs)["tasks"][1] == task(2, status="done", description="Now with words")


def test_the_same_change_on_both_sides_is_taken_once() -> None:
    both = edited(plan(task(1), task(2), task(3), task(4)), 1, status="done")
    assert merged(BASE, both, copy.deepcopy(both)) == both


def test_the_same_field_changed_on_both_sides_is_a_conflict_at_its_path() -> None:
    got = conflicts(BASE, edited(BASE, 3, status="done"), edited(BASE, 3, status="blocked"))
    assert got == (Conflict("$.tasks[id=T3].status", "todo", "done", "blocked", "conflict",
                            "changed differently on both sides"),)


def test_every_conflict_is_found() -> None:
    ours = edited(edited(BASE, 1, title="One"), 3, status="done")
    theirs = edited(edited(BASE, 1, title="Uno"), 3, status="blocked")
    theirs["title"] = "Their plan"
    ours["title"] = "Our plan"
    assert [c.path for c in conflicts(BASE, ours, theirs)] == [
        "$.title", "$.tasks[id=T1].title", "$.tasks[id=T3].status"]


def test_removed_on_one_side_and_changed_on_the_other_is_a_conflict() -> None:
    ours = plan(task(1), task(3))
    theirs = edited(BASE, 2, status="done")
    (got,) = conflicts(BASE, ours, theirs)
    assert (got.path, got.base, got.ours, got.theirs, got.message) == (
        "$.tasks[id=T2]", task(2), ABSENT, task(2, status="done"), "removed on our side, changed on theirs")
    (got,) = conflicts(BASE, theirs, ours)
    assert got.message == "changed on our side, removed on theirs"


def test_the_same_id_added_on_both_sides_conflicts_where_the_two_differ() -> None:
    ours = plan(task(1), task(2), task(3), task(4, title="Ours"))
    theirs = plan(task(1), task(2), task(3), task(4, status="done"))
    assert conflicts(BASE, ours, theirs) == (
        Conflict("$.tasks[id=T4].title", ABSENT, "Ours", "Task 4", "conflict", "added differently on both sides"),
        Conflict("$.tasks[id=T4].status", ABSENT, "todo", "done", "conflict", "added differently on both sides"))
    assert merged(BASE, ours, copy.deepcopy(ours)) == ours


def test_arrays_without_ids_are_one_value() -> None:
    ours, theirs = edited(BASE, 1, dependsOn=["T2"]), edited(BASE, 1, files=["a"])
    assert merged(BASE, ours, theirs)["tasks"][0] == task(1, dependsOn=["T2"], files=["a"])
    assert merged(BASE, ours, edited(BASE, 1, dependsOn=["T2"]))["tasks"][0]["dependsOn"] == ["T2"]
    got = conflicts(BASE, ours, edited(BASE, 1, dependsOn=["T3"]))
    assert got == (Conflict("$.tasks[id=T1].dependsOn", [], ["T2"], ["T3"], "conflict",
                            "changed differently on both sides"),)


def test_an_array_whose_ids_repeat_is_one_value() -> None:
    base = plan(task(1), task(1, title="again"))
    ours, theirs = plan(task(1), task(1, title="again"), task(2)), plan(task(1, status="x"), task(1, title="again"))
    (got,) = conflicts(base, ours, theirs)
    assert got.path == "$.tasks"


def test_an_id_that_is_not_plain_text_is_quoted_in_the_path() -> None:
    odd = "a ]\u202e"
    base = plan(task(1, id=odd))
    (got,) = conflicts(base, plan(task(1, id=odd, status="x")), plan(task(1, id=odd, status="y")))
    assert got.path == '$.tasks[id="a ]\\u202e"].status'


def test_no_base_merges_two_ways() -> None:
    ours, theirs = plan(task(1), task(2)), plan(task(1), task(3))
    assert [t["id"] for t in merged(None, ours, theirs)["tasks"]] == ["T1", "T2", "T3"]


# -- the library: other kinds --------------------------------------------------------------------------------------

KINDS = fsf.compile_source("""
enum Level { low, mid, high }
shape Owner { name: str, mail: str }
union Outcome { Pending, Done { by: str, at: u32 }, Failed { reason: str } }
shape Item { id: u32, n: u8 }
shape Record {
  owner: Owner?,
  scores: map[0..3]<str, u32>,
  levels: map[0..3]<Level, bool>,
  outcome: Outcome,
  items: arr[0..3]<Item>,
  log: arr[0..4]<u8>
}
""")
REC = {"owner": None, "scores": {"a": 1}, "levels": {}, "outcome": {"Pending": {}},
       "items": [{"id": 1, "n": 0}, {"id": 2, "n": 0}], "log": [1]}


def rec(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(REC), **changes}


def merge_rec(base: Any, ours: Any, theirs: Any, **kw: Any) -> Merged | Conflicts:
    return merge(KINDS.ir, "Record", base, ours, theirs, **kw)


def test_maps_merge_by_key_in_canonical_order() -> None:
    got = merge_rec(REC, rec(scores={"a": 1, "z": 2}, levels={"mid": True}),
                    rec(scores={"b": 3}, levels={"low": False, "high": True}))
    assert got == Merged(rec(scores={"b": 3, "z": 2}, levels={"low": False, "mid": True, "high": True}))
    assert isinstance(got, Merged) and list(got.value["levels"]) == ["low", "mid", "high"]
    assert list(got.value["scores"]) == ["b", "z"]
    got = merge_rec(REC, rec(scores={"a": 2}), rec(scores={"a": 3}))
    assert got == Conflicts((Conflict('$.scores["a"]', 1, 2, 3, "conflict", "changed differently on both sides"),))


def test_a_union_of_one_variant_merges_inside_it_and_another_variant_conflicts() -> None:
    base = rec(outcome={"Done": {"by": "ann", "at": 1}})
    got = merge_rec(base, rec(outcome={"Done": {"by": "bob", "at": 1}}), rec(outcome={"Done": {"by": "ann", "at": 2}}))
    assert got == Merged(rec(outcome={"Done": {"by": "bob", "at": 2}}))
    got = merge_rec(base, rec(outcome={"Failed": {"reason": "x"}}), rec(outcome={"Done": {"by": "ann", "at": 2}}))
    assert isinstance(got, Conflicts) and [c.path for c in got] == ["$.outcome"]


def test_an_optional_held_on_both_sides_merges_inside_it() -> None:
    base = rec(owner={"name": "ann", "mail": "a@x"})
    got = merge_rec(base, rec(owner={"name": "bob", "mail": "a@x"}), rec(owner={"name": "ann", "mail": "b@x"}))
    assert got == Merged(rec(owner={"name": "bob", "mail": "b@x"}))
    got = merge_rec(base, rec(owner=None), rec(owner={"name": "ann", "mail": "b@x"}))
    assert got == Conflicts((Conflict("$.owner", base["owner"], None, {"name": "ann", "mail": "b@x"}, "conflict",
                                      "changed differently on both sides"),))
    got = merge_rec(REC, rec(owner={"name": "bob", "mail": "m"}), rec(owner={"name": "bob", "mail": "n"}))
    assert isinstance(got, Conflicts)
    assert got.conflicts == (Conflict("$.owner.mail", ABSENT, "m", "n", "conflict", "added differently on both sides"),)


def test_a_merge_past_an_array_bound_is_an_invalid_conflict_at_the_array() -> None:
    ours = rec(items=[*REC["items"], {"id": 3, "n": 0}])
    theirs = rec(items=[*REC["items"], {"id": 4, "n": 0}])
    got = merge_rec(REC, ours, theirs)
    assert got == Conflicts((Conflict("$.items", REC["items"], ours["items"], theirs["items"], "invalid",
                                      "the merged value is invalid: Expected `arr` of length 0..3, got length 4"),))
    got = merge_rec(REC, rec(scores={"a": 1, "b": 1, "c": 1}), rec(scores={"a": 1, "d": 1}))
    assert isinstance(got, Conflicts) and [(c.path, c.kind) for c in got] == [("$.scores", "invalid")]


def test_integer_ids_are_shown_as_numbers() -> None:
    got = merge_rec(REC, rec(items=[{"id": 1, "n": 1}, {"id": 2, "n": 0}]),
                    rec(items=[{"id": 1, "n": 2}, {"id": 2, "n": 0}]))
    assert isinstance(got, Conflicts) and [c.path for c in got] == ["$.items[id=1].n"]


# -- the library: append-only ---------------------------------------------------------------------------------------


def test_append_only_keeps_additions_from_both_sides() -> None:
    ours = plan(task(1), task(2), task(3), task(4))
    theirs = plan(task(1), task(2), task(3), task(5))
    assert [t["id"] for t in merged(BASE, ours, theirs, append_only=True)["tasks"]] == ["T1", "T2", "T3", "T4", "T5"]
    got = merge_rec(REC, rec(log=[1, 2], owner={"name": "a", "mail": "m"}), rec(log=[1, 3], scores={"a": 1, "b": 2}),
                    append_only=True)
    assert got == Merged(rec(log=[1, 2, 3], owner={"name": "a", "mail": "m"}, scores={"a": 1, "b": 2}))
    assert merged(BASE, BASE, BASE, append_only=True) == BASE


def test_append_only_refuses_any_change_of_an_existing_value() -> None:
    got = conflicts(BASE, edited(BASE, 1, status="done"), plan(task(1), task(2), task(3), task(4)), append_only=True)
    assert got == (Conflict("$.tasks[id=T1].status", "todo", "done", "todo", "append-only",
                            "an existing value was changed on our side"),)
    same = edited(BASE, 2, title="Renamed")
    got = conflicts(BASE, same, copy.deepcopy(same), append_only=True)
    assert [(c.path, c.message) for c in got] == [
        ("$.tasks[id=T2].title", "an existing value was changed on both sides")]
    got = conflicts(BASE, BASE, plan(task(1), task(3)), append_only=True)
    assert [(c.path, c.message) for c in got] == [("$.tasks[id=T2]", "an existing value was removed on their side")]


def test_append_only_arrays_without_ids_may_only_grow_at_their_end() -> None:
    got = merge_rec(REC, rec(log=[0, 1]), REC, append_only=True)
    assert got == Conflicts((Conflict("$.log", [1], [0, 1], [1], "append-only", "an existing value was changed on "
                                      "our side (an append-only array may only grow at its end)"),))
    got = merge_rec(rec(owner={"name": "a", "mail": "m"}), REC, REC, append_only=True)
    assert isinstance(got, Conflicts) and [(c.path, c.message) for c in got] == [
        ("$.owner", "an existing value was removed on both sides")]


# -- the library: properties ----------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_change_on_one_side_only_is_that_side(data: st.DataObject) -> None:
    schema = fsf.compile_source(data.draw(strategies.schema_texts()))
    base, other = (strategies.normalise(schema.ir, "Root", data.draw(strategies.values(schema.ir, "Root")))
                   for _ in range(2))
    assert merge(schema.ir, "Root", base, other, base) == Merged(other)
    assert merge(schema.ir, "Root", base, base, other) == Merged(other)
    assert merge(schema.ir, "Root", base, other, other) == Merged(other)
    assert merge(schema.ir, "Root", base, base, base, append_only=True) == Merged(base)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_merging_is_valid_and_the_sides_conflict_at_the_same_paths(data: st.DataObject) -> None:
    schema = fsf.compile_source(data.draw(strategies.schema_texts()))
    base, ours, theirs = (strategies.normalise(schema.ir, "Root", data.draw(strategies.values(schema.ir, "Root")))
                          for _ in range(3))
    for append_only in (False, True):
        one = merge(schema.ir, "Root", base, ours, theirs, append_only=append_only)
        two = merge(schema.ir, "Root", base, theirs, ours, append_only=append_only)
        if isinstance(one, Merged):
            schema.validate("Root", one.value)
            assert isinstance(two, Merged)
        else:
            assert isinstance(two, Conflicts)
            assert sorted(c.path for c in one) == sorted(c.path for c in two)


# -- the report -------------------------------------------------------------------------------------------------------


def test_the_report_shows_each_path_and_the_three_versions() -> None:
    ours = plan(task(1, status="done"), task(3))
    theirs = edited(edited(BASE, 1, status="blocked"), 2, files=["a.py"])
    assert report(PLAN.ir, conflicts(BASE, ours, theirs)) == [
        "conflict at `$.tasks[id=T1].status`: changed differently on both sides",
        "  base:",
        '    "todo"',
        "  ours:",
        '    "done"',
        "  theirs:",
        '    "blocked"',
        "conflict at `$.tasks[id=T2]`: removed on our side, changed on theirs",
        "  base:",
        '    id: "T2"',
        '    title: "Task 2"',
        '    status: "todo"',
        '    category: "core"',
        "    dependsOn: []",
        "    files: []",
        '    description: ""',
        "  ours: (absent)",
        "  theirs:",
        '    id: "T2"',
        '    title: "Task 2"',
        '    status: "todo"',
        '    category: "core"',
        "    dependsOn: []",
        "    files:",
        '      - "a.py"',
        '    description: ""',
    ]


# -- fsv merge ----------------------------------------------------------------------------------------------------------


def fsv(*args: object) -> tuple[int, str, str]:
    """Exit code, stdout, stderr of one `fsv` command run in process; a traceback fails the test."""
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def sides(tmp_path: Path) -> tuple[Path, Path, Path]:
    """base.fsv, ours.fsv, theirs.fsv: two different tasks changed."""
    out = []
    for name, value in (("base", BASE), ("ours", edited(BASE, 1, status="done")),
                        ("theirs", edited(BASE, 2, status="blocked"))):
        path = tmp_path / f"{name}.fsv"
        path.write_bytes(PLAN.encode("ForgePlan", value))
        out.append(path)
    return out[0], out[1], out[2]


def test_fsv_merge_replaces_ours_with_the_canonical_merged_value(sides: tuple[Path, Path, Path]) -> None:
    base, ours, theirs = sides
    code, out, err = fsv("merge", "-s", PLAN_SCHEMA, base, ours, theirs)
    assert (code, err) == (0, "")
    data = ours.read_bytes()
    assert out == f"{fsf.content_id(data)}  {ours}\n"
    assert data == PLAN.encode("ForgePlan", plan(task(1, status="done"), task(2, status="blocked"), task(3)))
    assert [p.name for p in ours.parent.iterdir()] == ["base.fsv", "ours.fsv", "theirs.fsv"]  # no temp file left


def test_fsv_merge_output_leaves_ours_untouched(sides: tuple[Path, Path, Path], tmp_path: Path) -> None:
    base, ours, theirs = sides
    before = ours.read_bytes()
    code, _, _ = fsv("merge", "-s", PLAN_SCHEMA, base, ours, theirs, "-o", tmp_path / "out.fsv")
    assert code == 0 and ours.read_bytes() == before
    assert PLAN.decode((tmp_path / "out.fsv").read_bytes())["tasks"][1]["status"] == "blocked"


def test_fsv_merge_conflict_reports_on_stderr_and_leaves_ours_untouched(sides: tuple[Path, Path, Path]) -> None:
    base, ours, theirs = sides
    theirs.write_bytes(PLAN.encode("ForgePlan", edited(BASE, 1, status="blocked")))
    before = ours.read_bytes()
    code, out, err = fsv("merge", "-s", PLAN_SCHEMA, base, ours, theirs, "-o", ours)
    assert (code, out) == (1, "")
    assert err == ("conflict at `$.tasks[id=T1].status`: changed differently on both sides\n"
                   '  base:\n    "todo"\n  ours:\n    "done"\n  theirs:\n    "blocked"\n'
                   f"error: {ours}: 1 conflict(s) merging `ForgePlan`; it is left as it was\n")
    assert ours.read_bytes() == before


def test_fsv_merge_append_only(sides: tuple[Path, Path, Path]) -> None:
    base, ours, theirs = sides
    code, _, err = fsv("merge", "--append-only", "-s", PLAN_SCHEMA, base, ours, theirs)
    assert code == 1
    assert err.splitlines()[0] == "append-only at `$.tasks[id=T1].status`: an existing value was changed on our side"
    ours.write_bytes(PLAN.encode("ForgePlan", plan(task(1), task(2), task(3), task(4))))
    theirs.write_bytes(PLAN.encode("ForgePlan", plan(task(1), task(2), task(3), task(5))))
    assert fsv("merge", "--append-only", "-s", PLAN_SCHEMA, base, ours, theirs)[0] == 0
    assert [t["id"] for t in PLAN.decode(ours.read_bytes())["tasks"]] == ["T1", "T2", "T3", "T4", "T5"]


def test_fsv_merge_an_empty_base_is_none(sides: tuple[Path, Path, Path]) -> None:
    base, ours, theirs = sides
    base.write_bytes(b"")
    ours.write_bytes(PLAN.encode("ForgePlan", plan(task(1))))
    theirs.write_bytes(PLAN.encode("ForgePlan", plan(task(2))))
    assert fsv("merge", "-s", PLAN_SCHEMA, base, ours, theirs)[0] == 0
    assert PLAN.decode(ours.read_bytes()) == plan(task(1), task(2))


def test_fsv_merge_usage_errors_exit_2(sides: tuple[Path, Path, Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    base, ours, theirs = sides
    monkeypatch.chdir(tmp_path)  # no store here or above (the tests' own tmp folder)
    assert fsv("merge", "-s", PLAN_SCHEMA, base, ours)[0] == 2
    code, _, err = fsv("merge", "-s", PLAN_SCHEMA, base, ours, theirs, "-o", tmp_path / "view.md")
    assert code == 2 and "is a Markdown view" in err
    if fsf.store.locate_store(cwd=tmp_path, env={}) is None:
        code, _, err = fsv("merge", base, ours, theirs)
        assert (code, err) == (2, "error: give --schema/-s SCHEMA, or keep the values' schemas in a store "
                                  "(`fsf store init`, then `fsf store add SCHEMA`)\n")


def test_fsv_merge_bad_input_exits_1(sides: tuple[Path, Path, Path]) -> None:
    base, ours, theirs = sides
    theirs.write_bytes(b"\x89FSV")
    before = ours.read_bytes()
    code, _, err = fsv("merge", "-s", PLAN_SCHEMA, base, ours, theirs)
    assert code == 1 and err.startswith("error: ") and "[truncated]" in err
    assert ours.read_bytes() == before


V1 = (PLAN_SCHEMA.read_text(encoding="utf-8"))
V2 = V1.replace("  title: str,\n  tasks:", "  title: str,\n  owner: str?,\n  tasks:")


def test_fsv_merge_reads_every_side_as_ours_writer_type_through_the_store(tmp_path: Path) -> None:
    assert V2 != V1
    fsf.init_store(tmp_path / "st")
    versions = {}
    for tag, text in (("v1", V1), ("v2", V2)):
        (tmp_path / tag).mkdir()
        (tmp_path / tag / "forge-plan.fsf").write_text(text, encoding="utf-8")
        versions[tag] = fsf.load_schema(tmp_path / tag / "forge-plan.fsf")
        assert fsf.open_store(tmp_path / "st").add_schema(versions[tag])
    v1, v2 = versions["v1"], versions["v2"]
    base, ours, theirs = tmp_path / "base.fsv", tmp_path / "ours.fsv", tmp_path / "theirs.fsv"
    base.write_bytes(v1.encode("ForgePlan", BASE))
    ours.write_bytes(v2.encode("ForgePlan", {**edited(BASE, 1, status="done"), "owner": "ann"}))
    theirs.write_bytes(v1.encode("ForgePlan", edited(BASE, 2, status="blocked")))
    code, _, err = fsv("merge", "--store", tmp_path / "st", base, ours, theirs)
    assert code == 0, err
    assert err == (f"note: {base}: written as {v1.id('ForgePlan')}, read as `ForgePlan` {v2.id('ForgePlan')}\n"
                   f"note: {theirs}: written as {v1.id('ForgePlan')}, read as `ForgePlan` {v2.id('ForgePlan')}\n")
    got = v2.decode(ours.read_bytes())  # OURS's writer type
    assert got == {**plan(task(1, status="done"), task(2, status="blocked"), task(3)), "owner": "ann"}
    # The other way round: OURS written with v1, so the merged value is a v1 value (their owner is dropped).
    ours.write_bytes(v1.encode("ForgePlan", edited(BASE, 1, status="done")))
    theirs.write_bytes(v2.encode("ForgePlan", {**edited(BASE, 2, status="blocked"), "owner": "bob"}))
    assert fsv("merge", "--store", tmp_path / "st", base, ours, theirs)[0] == 0
    assert v1.decode(ours.read_bytes()) == plan(task(1, status="done"), task(2, status="blocked"), task(3))


# -- git: fsv git install, a real merge, --append-only-since ------------------------------------------------------------

LEDGER = """shape Entry { id: str, note: str }

shape Ledger { name: str, entries: arr[0..64]<Entry> }
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository (no user or system configuration; HOME is ``tmp_path``) with a store, the plan schema
    and the ledger schema in it, `fsv git install` run there, and `audit/` merged append-only, all committed."""
    home = tmp_path / "home"
    home.mkdir()
    env = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.invalid", "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(home), "GIT_CEILING_DIRECTORIES": str(tmp_path),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(key, raising=False)
    top = tmp_path / "repo"
    top.mkdir()
    monkeypatch.chdir(top)
    git("init", "-q", "-b", "main")
    code, out, err = fsv("git", "install")
    assert code == 0, out + err
    with open(".gitattributes", "a", encoding="utf-8") as fh:  # later lines win: the ledger folder is append-only
        fh.write("audit/*.fsv merge=fsv-append-only\n")
    fsf.init_store(top / ".fsf")
    shutil.copyfile(PLAN_SCHEMA, top / "forge-plan.fsf")
    (top / "ledger.fsf").write_text(LEDGER, encoding="utf-8")
    store = fsf.open_store(top / ".fsf")
    for name in ("forge-plan.fsf", "ledger.fsf"):
        store.add_schema(fsf.load_schema(top / name))
    git("add", "-A")
    git("commit", "-q", "-m", "attributes, schemas and their store")
    return top


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    return done.stdout


def git_merge(branch: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "merge", "--no-edit", branch], capture_output=True, text=True, check=False)


def commit_value(path: str, schema: fsf.Schema, name: str, value: Any, message: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(schema.encode(name, value))
    git("add", "-A")
    git("commit", "-q", "-m", message)


LEDGER_SCHEMA = fsf.compile_source(LEDGER)


def ledger(*entries: tuple[str, str]) -> dict[str, Any]:
    return {"name": "ops", "entries": [{"id": i, "note": n} for i, n in entries]}


@needs_git
def test_git_merges_two_branches_that_changed_two_different_tasks(repo: Path) -> None:
    commit_value("plan.fsv", PLAN, "ForgePlan", BASE, "base")
    git("checkout", "-q", "-b", "theirs")
    commit_value("plan.fsv", PLAN, "ForgePlan", edited(BASE, 2, status="blocked"), "theirs")
    git("checkout", "-q", "main")
    commit_value("plan.fsv", PLAN, "ForgePlan", edited(BASE, 1, status="done"), "ours")
    done = git_merge("theirs")
    assert done.returncode == 0, done.stdout + done.stderr
    data = (repo / "plan.fsv").read_bytes()
    assert PLAN.decode(data) == plan(task(1, status="done"), task(2, status="blocked"), task(3))
    assert data == PLAN.encode("ForgePlan", PLAN.decode(data))  # canonical
    assert fsv("verify", "plan.fsv")[0] == 0  # valid, through the store found here
    assert git("status", "--porcelain") == ""


@needs_git
def test_git_a_value_added_on_both_branches_merges_two_ways(repo: Path) -> None:
    git("checkout", "-q", "-b", "theirs")
    commit_value("plan.fsv", PLAN, "ForgePlan", plan(task(1), task(3)), "theirs adds the plan")
    git("checkout", "-q", "main")
    commit_value("plan.fsv", PLAN, "ForgePlan", plan(task(1), task(2)), "ours adds the plan")
    done = git_merge("theirs")  # add/add: git gives the driver an empty base
    assert done.returncode == 0, done.stdout + done.stderr
    assert PLAN.decode((repo / "plan.fsv").read_bytes()) == plan(task(1), task(2), task(3))


@needs_git
def test_git_the_same_field_on_both_branches_is_a_conflict_with_ours_untouched(repo: Path) -> None:
    commit_value("plan.fsv", PLAN, "ForgePlan", BASE, "base")
    git("checkout", "-q", "-b", "theirs")
    commit_value("plan.fsv", PLAN, "ForgePlan", edited(BASE, 3, status="blocked"), "theirs")
    git("checkout", "-q", "main")
    ours = edited(BASE, 3, status="done")
    commit_value("plan.fsv", PLAN, "ForgePlan", ours, "ours")
    done = git_merge("theirs")
    assert done.returncode == 1
    assert ("conflict at `$.tasks[id=T3].status`: changed differently on both sides\n"
            '  base:\n    "todo"\n  ours:\n    "done"\n  theirs:\n    "blocked"\n') in done.stdout + done.stderr
    assert "CONFLICT" in done.stdout
    assert (repo / "plan.fsv").read_bytes() == PLAN.encode("ForgePlan", ours)
    assert git("diff", "--name-only", "--diff-filter=U") == "plan.fsv\n"


@needs_git
def test_git_an_append_only_folder_refuses_a_change_of_a_committed_record(repo: Path) -> None:
    commit_value("audit/ledger.fsv", LEDGER_SCHEMA, "Ledger", ledger(("E1", "opened")), "base")
    git("checkout", "-q", "-b", "theirs")
    commit_value("audit/ledger.fsv", LEDGER_SCHEMA, "Ledger", ledger(("E1", "opened"), ("E3", "theirs")), "theirs")
    git("checkout", "-q", "-b", "appends", "main")
    commit_value("audit/ledger.fsv", LEDGER_SCHEMA, "Ledger", ledger(("E1", "opened"), ("E2", "ours")), "ours")
    done = git_merge("theirs")  # both only appended: both entries kept, ours first
    assert done.returncode == 0, done.stdout + done.stderr
    assert LEDGER_SCHEMA.decode((repo / "audit/ledger.fsv").read_bytes()) == ledger(
        ("E1", "opened"), ("E2", "ours"), ("E3", "theirs"))
    git("checkout", "-q", "-b", "rewrites", "main")
    rewritten = ledger(("E1", "closed"), ("E2", "ours"))
    commit_value("audit/ledger.fsv", LEDGER_SCHEMA, "Ledger", rewritten, "rewrites history")
    done = git_merge("theirs")
    assert done.returncode == 1
    assert "append-only at `$.entries[id=E1].note`: an existing value was changed on our side\n" in (
        done.stdout + done.stderr)
    assert (repo / "audit/ledger.fsv").read_bytes() == LEDGER_SCHEMA.encode("Ledger", rewritten)


@needs_git
def test_verify_append_only_since_a_revision(repo: Path) -> None:
    commit_value("audit/2026/r1.fsv", LEDGER_SCHEMA, "Ledger", ledger(("E1", "a")), "r1")
    commit_value("audit/r2.fsv", LEDGER_SCHEMA, "Ledger", ledger(("E2", "b")), "r2")
    commit_value("plans/p.fsv", PLAN, "ForgePlan", BASE, "a plan")
    code, out, err = fsv("verify", "--append-only-since", "HEAD", "audit")
    assert (code, out, err) == (0, "ok  2 committed value(s) unchanged since HEAD\n", "")
    Path("audit/r3.fsv").write_bytes(LEDGER_SCHEMA.encode("Ledger", ledger(("E3", "c"))))  # new: fine
    Path("plans/p.fsv").write_bytes(PLAN.encode("ForgePlan", plan()))  # not under audit/
    assert fsv("verify", "--append-only-since", "HEAD", "audit")[0] == 0
    Path("audit/2026/r1.fsv").write_bytes(LEDGER_SCHEMA.encode("Ledger", ledger(("E1", "A"))))
    Path("audit/r2.fsv").unlink()
    sha = git("rev-parse", "HEAD").strip()[:12]
    code, out, err = fsv("verify", "--append-only-since", "HEAD", "audit")
    assert (code, out) == (1, "")
    assert err == (f"error: audit/2026/r1.fsv: changed since HEAD ({sha}): committed values are append-only\n"
                   f"error: audit/r2.fsv: removed since HEAD ({sha}): committed values are append-only\n"
                   "2 of 2 committed value(s) changed or removed\n")
    # A file as the PATH, a revision further back, and the whole tree.
    assert fsv("verify", "--append-only-since", "HEAD~1", "audit/2026/r1.fsv")[0] == 1
    assert fsv("verify", "--append-only-since", "HEAD~2", "audit/r2.fsv")[0] == 0  # r2 came later
    code, _, err = fsv("verify", "--append-only-since", "HEAD", ".")
    assert code == 1 and err.splitlines()[-1] == "3 of 3 committed value(s) changed or removed"


@needs_git
def test_verify_append_only_since_refuses_bad_revisions_and_places(repo: Path, tmp_path: Path) -> None:
    commit_value("audit/r1.fsv", LEDGER_SCHEMA, "Ledger", ledger(("E1", "a")), "r1")
    code, _, err = fsv("verify", "--append-only-since", "--upload-pack=x", "audit")
    assert code == 1 and "[bad_revision]" in err
    code, _, err = fsv("verify", "--append-only-since", "nosuch", "audit")
    assert (code, err) == (1, f"error: `nosuch` is not a commit in `{repo.resolve()}` [bad_revision]\n")
    code, _, err = fsv("verify", "--append-only-since", "HEAD", tmp_path / "home")
    assert code == 1 and "[not_a_repo]" in err
