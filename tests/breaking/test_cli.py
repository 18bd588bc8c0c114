"""`fsf breaking`: its outputs (text, JSON, GitHub annotations; golden files under ``tests/golden/breaking/``),
exit codes (0 nothing breaks, 1 something does or the input is wrong, 2 a wrong command line), `--category`,
the accept file, `--corpus` on a store of values written under three successive schema versions, and `--against
git:REV` in a temporary repository whose imported file moved.

Every test runs in its own folder under ``tmp_path`` (the working folder, so the accept file is looked up from
there and every name in the output is relative).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import fsf
from fsf.cli.fsf_tool import app
from fsf.store import init_store
from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "breaking"

OLD = """\
enum Status { todo, doing, done }

shape Task {
  id: str[1..64],
  retries: u8,
  status: Status,
  note: str?,
}
"""
NEW = """\
enum Status { todo, done }

shape Task {
  id: str[1..128],
  retries: u8[0..5],
  status: Status,
  @was("note") comment: str?,
  owner: str,
}
"""
READ_OLD = [("ENUM_MEMBER_REMOVED_NO_FALLBACK", "Status.doing"), ("FIELD_ADDED_REQUIRED", "Task.owner"),
            ("RANGE_NARROWED", "Task.retries")]

runner = CliRunner()


def breaking(*args: object) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `fsf breaking ARGS`, run in process; a traceback fails the test."""
    result = runner.invoke(app, ["breaking", *(str(a) for a in args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def as_json(*args: object) -> tuple[int, dict[str, Any]]:
    code, out, err = breaking(*args, "--format", "json")
    assert err == ""
    return code, json.loads(out)


def statuses(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(f["rule"], f["path"]): f["status"] for f in doc["findings"]}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding ``old.fsf`` and ``new.fsf``."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "old.fsf").write_text(OLD, encoding="utf-8")
    (folder / "new.fsf").write_text(NEW, encoding="utf-8")
    monkeypatch.chdir(folder)
    return folder


# -- outputs --------------------------------------------------------------------------------------------------


def test_text(work: Path, golden: Golden) -> None:
    code, out, err = breaking("new.fsf", "--against", "old.fsf")
    assert (code, err) == (1, "")
    assert "\x1b[" not in out  # colour only on a terminal
    golden.text(GOLDEN / "text.out", out)


def test_json(work: Path, golden: Golden) -> None:
    code, doc = as_json("new.fsf", "--against", "old.fsf")
    assert code == 1 and doc["failed"] is True and doc["stale"] == [] and "corpus" not in doc
    assert [(f["rule"], f["path"]) for f in doc["findings"] if f["status"] == "error"] == READ_OLD
    assert {f["category"] for f in doc["findings"] if f["status"] == "info"} == {"READ_NEW", "JSON", "SOURCE"}
    golden.json(GOLDEN / "findings.json", doc, lambda d: json.dumps(d, indent=2, sort_keys=True) + "\n")


def test_github(work: Path, golden: Golden) -> None:
    code, out, err = breaking("new.fsf", "--against", "old.fsf", "--format", "github")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::error"] * 3 + ["::notice"] * 6
    assert all("%0A" not in line and "\n" not in line for line in lines)
    golden.text(GOLDEN / "github.out", out)


def test_nothing_breaks(work: Path) -> None:
    assert breaking("old.fsf", "--against", "old.fsf") == (0, "0 breaking, 0 information, 0 accepted, 0 ok\n", "")
    (work / "safe.fsf").write_text(OLD.replace("note: str?,", "note: str?,\n  owner: str?,"), encoding="utf-8")
    assert breaking("safe.fsf", "--against", "old.fsf", "--category", "READ_OLD,READ_NEW,JSON,SOURCE") == (
        0, "0 breaking, 0 information, 0 accepted, 0 ok\n", "")


def test_a_folder_of_schemas_and_a_compiled_one(work: Path) -> None:
    (work / "v1").mkdir()
    shutil.copy(work / "old.fsf", work / "v1" / "task.fsf")
    assert fsf.load_schema(work / "old.fsf")  # compiles
    assert runner.invoke(app, ["compile", "old.fsf", "-o", "old.fsb"]).exit_code == 0
    code, expected = as_json("new.fsf", "--against", "old.fsf")
    for old in ("v1", "old.fsb"):
        code, doc = as_json("new.fsf", "--against", old)
        assert (code, statuses(doc)) == (1, statuses(expected))
        assert [f["old_location"] for f in doc["findings"]] == [
            None if old == "old.fsb" or f["old_location"] is None else f["old_location"].replace("old.fsf", "v1/task.fsf")
            for f in expected["findings"]]


def test_a_wrong_command_line_exits_2(work: Path) -> None:
    code, _, err = breaking("new.fsf")
    assert code == 2 and "give --against OLD, --corpus PATH, or both" in err
    code, _, err = breaking("new.fsf", "--against", "old.fsf", "--format", "xml")
    assert code == 2 and "`xml`: use text, json or github" in err
    assert breaking("new.fsf", "--against", "old.fsf", "--nope")[0] == 2
    (work / "value.fsv").write_bytes(fsf.load_schema("old.fsf").encode("Status", "todo"))
    code, _, err = breaking("value.fsv", "--against", "old.fsf")
    assert code == 2 and err.startswith("error: `value.fsv` is an FSV value")
    code, _, err = breaking("new.fsf", "--corpus", "value.fsv")
    assert (code, err) == (2, "error: --corpus needs a store for the values' writer schemas (--store, $FSF_STORE or "
                              "a `.fsf` folder)\n")


def test_a_problem_with_the_input_exits_1(work: Path) -> None:
    (work / "bad.fsf").write_text("shape A { a: Nope }\n", encoding="utf-8")
    code, out, err = breaking("new.fsf", "--against", "bad.fsf")
    assert (code, out) == (1, "") and "error[F201]: unknown type `Nope`" in err
    code, out, err = breaking("new.fsf", "--against", "missing.fsf")
    assert (code, out) == (1, "") and "missing.fsf" in err


# -- categories -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", [["--category", "READ_NEW", "--category", "json"], ["--category", "read_new,JSON"],
                                   ["--category", " READ_NEW , JSON ,"]])
def test_categories_repeated_or_comma_separated(work: Path, given: list[str]) -> None:
    code, doc = as_json("new.fsf", "--against", "old.fsf", *given)
    assert code == 1
    assert {f["category"] for f in doc["findings"] if f["status"] == "error"} == {"READ_NEW", "JSON"}
    assert {f["category"] for f in doc["findings"] if f["status"] == "info"} == {"READ_OLD", "SOURCE"}


def test_every_category_can_fail_the_run(work: Path) -> None:
    for category in ("READ_OLD", "READ_NEW", "JSON", "SOURCE"):
        code, doc = as_json("new.fsf", "--against", "old.fsf", "--category", category)
        assert code == 1
        assert {f["category"] for f in doc["findings"] if f["status"] == "error"} == {category}


@pytest.mark.parametrize(("given", "message"), [
    ("READ_OLDER", "`READ_OLDER`: the categories are READ_OLD, READ_NEW, JSON, SOURCE"),
    ("READ_OLD,SORCE", "`SORCE`: the categories are READ_OLD, READ_NEW, JSON, SOURCE"),
    (",", "name at least one category"),
])
def test_an_unknown_category_exits_2(work: Path, given: str, message: str) -> None:
    code, out, err = breaking("new.fsf", "--against", "old.fsf", "--category", given)
    assert (code, out) == (2, "")
    assert message in " ".join(err.replace("│", " ").split())


# -- the accept file ------------------------------------------------------------------------------------------

ACCEPT_ALL = """\
[[accept]]
rule = "RANGE_NARROWED"
path = "Task.retries"
reason = "retries above 5 never happened"

[[accept]]
rule = "FIELD_ADDED_REQUIRED"
path = "Task"
reason = "every writer sets the owner since release 3"

[[accept]]
rule = "ENUM_MEMBER_REMOVED_NO_FALLBACK"
path = "Status.doing"
reason = "`doing` was never written"
"""
STALE = """
[[accept]]
rule = "LENGTH_NARROWED"
path = "Task.id"
reason = "ids are short"
"""


def test_the_accept_file_of_a_parent_folder(work: Path, monkeypatch: pytest.MonkeyPatch, golden: Golden) -> None:
    (work / "fsf-breaking.toml").write_text(ACCEPT_ALL + STALE, encoding="utf-8")
    (work / "deeper" / "still").mkdir(parents=True)
    monkeypatch.chdir(work / "deeper" / "still")
    code, out, err = breaking("../../new.fsf", "--against", "../../old.fsf")
    assert (code, err) == (0, "")
    golden.text(GOLDEN / "accepted.out", out)
    code, doc = as_json("../../new.fsf", "--against", "../../old.fsf")
    assert code == 0 and doc["failed"] is False
    accepted = {(f["rule"], f["path"]): f["accepted"] for f in doc["findings"] if f["status"] == "accepted"}
    assert accepted == {("RANGE_NARROWED", "Task.retries"): "retries above 5 never happened",
                        ("FIELD_ADDED_REQUIRED", "Task.owner"): "every writer sets the owner since release 3",
                        ("ENUM_MEMBER_REMOVED_NO_FALLBACK", "Status.doing"): "`doing` was never written"}
    assert doc["stale"] == [{"rule": "LENGTH_NARROWED", "path": "Task.id", "reason": "ids are short"}]
    out = breaking("../../new.fsf", "--against", "../../old.fsf", "--format", "github")[1]
    assert out.splitlines()[-1] == "::warning title=stale accept entry::LENGTH_NARROWED at Task.id matches no finding"


def test_an_accept_entry_accepts_only_its_rule_at_its_path(work: Path) -> None:
    (work / "fsf-breaking.toml").write_text(ACCEPT_ALL.split("\n\n")[0] + "\n", encoding="utf-8")
    code, doc = as_json("new.fsf", "--against", "old.fsf")
    assert code == 1
    assert [k for k, s in statuses(doc).items() if s in ("error", "accepted")] == READ_OLD
    assert statuses(doc)[("RANGE_NARROWED", "Task.retries")] == "accepted"
    assert statuses(doc)[("FIELD_ADDED_REQUIRED", "Task.owner")] == "error"


def test_accept_file_given_and_found(work: Path) -> None:
    (work / "elsewhere.toml").write_text(ACCEPT_ALL, encoding="utf-8")
    (work / "fsf-breaking.toml").write_text("", encoding="utf-8")  # found, and accepts nothing
    assert breaking("new.fsf", "--against", "old.fsf")[0] == 1
    code, out, _ = breaking("new.fsf", "--against", "old.fsf", "--accept", "elsewhere.toml")
    assert code == 0
    assert out.splitlines()[-1] == "0 breaking, 6 information, 3 accepted, 0 ok"
    assert "   = accepted: retries above 5 never happened" in out.splitlines()


@pytest.mark.parametrize(("text", "message"), [
    ("[[accept]\nrule = 1", "`fsf-breaking.toml`: not TOML: "),
    ("[[accept]]\nrule = \"RANGE_NAROWED\"\npath = \"Task.retries\"\nreason = \"r\"\n",
     "`fsf-breaking.toml`: [[accept]] number 1: unknown rule `RANGE_NAROWED`; did you mean `RANGE_NARROWED`?"),
    ("[[accept]]\nrule = \"RANGE_NARROWED\"\npath = \"Task.retries\"\n",
     "`fsf-breaking.toml`: [[accept]] number 1: `reason` must be a non-empty string"),
    ("[[accept]]\nrule = \"RANGE_NARROWED\"\npath = \"Task.retries\"\nreason = \" \"\n",
     "`fsf-breaking.toml`: [[accept]] number 1: `reason` must be a non-empty string"),
    ("[[accept]]\nrule = \"RANGE_NARROWED\"\npath = \"Task\"\nreason = \"r\"\nwhy = \"x\"\n",
     "`fsf-breaking.toml`: [[accept]] number 1: unknown key `why` (keys: rule, path, reason)"),
    ("[accept]\nrule = \"RANGE_NARROWED\"\n",
     "`fsf-breaking.toml`: `accept` must be an array of tables (`[[accept]]`)"),
    ("[[allow]]\nrule = \"RANGE_NARROWED\"\n", "`fsf-breaking.toml`: unknown key `allow` (only `[[accept]]` tables)"),
    ("[[accept]]\nrule = \"NO_SUCH_THING_AT_ALL\"\npath = \"x\"\nreason = \"r\"\n",
     "`fsf-breaking.toml`: [[accept]] number 1: unknown rule `NO_SUCH_THING_AT_ALL` (docs/breaking.md lists them)"),
], ids=["not-toml", "unknown-rule", "missing-reason", "blank-reason", "unknown-key", "not-an-array",
        "unknown-table", "unknown-rule-nothing-close"])
def test_a_bad_accept_file_exits_1(work: Path, text: str, message: str) -> None:
    (work / "fsf-breaking.toml").write_text(text, encoding="utf-8")
    code, out, err = breaking("new.fsf", "--against", "old.fsf")
    assert (code, out) == (1, "")
    named = f"`{(work / 'fsf-breaking.toml').resolve()}`"  # found: named by its whole path
    assert err.startswith(f"error: {message.replace('`fsf-breaking.toml`', named)}"), err
    assert err.count("\n") == 1 and err.endswith("\n")


def test_an_accept_file_that_is_not_utf8_or_missing(work: Path) -> None:
    (work / "latin.toml").write_bytes(b"# caf\xe9\n")
    assert breaking("new.fsf", "--against", "old.fsf", "--accept", "latin.toml") == (
        1, "", "error: `latin.toml`: not UTF-8 (byte 5)\n")
    assert breaking("new.fsf", "--against", "old.fsf", "--accept", "nowhere.toml") == (
        1, "", "error: cannot read `nowhere.toml`: no such file or directory\n")


# -- the corpus -----------------------------------------------------------------------------------------------

VERSIONS = (
    "shape Task { id: str, retries: u8 }\n",
    "shape Task { id: str, retries: u8, note: str? }\n",
    "shape Task { id: str, retries: u16, note: str? }\n",
)
V4_NARROW = "shape Task { id: str[1..32], retries: u8[0..5], note: str? }\n"
V4_SAFE = "shape Task { id: str[1..32], retries: u16, note: str? }\n"


@pytest.fixture
def corpus(work: Path) -> dict[str, list[str]]:
    """A store ``st`` with two values of each of three versions (each version's schema with them): one retried
    at most 5 times, one more often. Returns the content ids of each kind."""
    store = init_store(work / "st")
    ids: dict[str, list[str]] = {"few": [], "many": []}
    for n, (text, many) in enumerate(zip(VERSIONS, (7, 9, 300), strict=True), 1):
        schema = fsf.compile_source(text)
        (work / f"v{n}.fsf").write_text(text, encoding="utf-8")
        ids["few"].append(store.put(schema.encode("Task", {"id": f"few-{n}", "retries": n}), schema))
        ids["many"].append(store.put(schema.encode("Task", {"id": f"many-{n}", "retries": many}), schema))
    assert len(set(store.type_ids())) == 3
    (work / "v4.fsf").write_text(V4_NARROW, encoding="utf-8")
    (work / "v4-safe.fsf").write_text(V4_SAFE, encoding="utf-8")
    return ids


def test_a_narrowing_names_the_values_it_breaks(work: Path, corpus: dict[str, list[str]], golden: Golden) -> None:
    code, doc = as_json("v4.fsf", "--corpus", "st")
    assert code == 1 and doc["corpus"] == {"values": 6, "writer_types": 3}
    lines = {(f["rule"], f["path"]): f for f in doc["findings"]}
    assert set(lines) == {("RANGE_NARROWED", "Task.retries"), ("LENGTH_NARROWED", "Task.id")}
    retries, ids = lines[("RANGE_NARROWED", "Task.retries")], lines[("LENGTH_NARROWED", "Task.id")]
    assert (retries["status"], retries["values"]["broken"], retries["values"]["total"]) == ("error", 3, 6)
    assert sorted(retries["values"]["examples"]) == sorted(corpus["many"])
    assert (ids["status"], ids["values"]) == ("ok", {"broken": 0, "total": 6, "examples": []})
    code, out, err = breaking("v4.fsf", "--corpus", "st")
    assert (code, err) == (1, "")
    golden.text(GOLDEN / "corpus.out", out)


def test_a_narrowing_that_breaks_no_value_passes(work: Path, corpus: dict[str, list[str]]) -> None:
    code, out, err = breaking("v4-safe.fsf", "--corpus", "st")
    assert (code, err) == (0, "")
    assert "ok[LENGTH_NARROWED] READ_OLD: Task.id: " in out
    assert "   = values: ok (0 of 6 value(s))" in out.splitlines()
    assert out.splitlines()[-1] == "0 breaking, 0 information, 0 accepted, 1 ok; 6 stored value(s) of 3 writer type(s)"


def test_the_corpus_with_against(work: Path, corpus: dict[str, list[str]]) -> None:
    """The schemas' findings and the values' counts in one report: the first version's findings are counted on
    all the values of the writer types they apply to."""
    code, doc = as_json("v4.fsf", "--against", "v1.fsf", "--corpus", "st")
    assert code == 1
    counted = {(f["rule"], f["path"]): (f["status"], f.get("values", {}).get("broken"))
               for f in doc["findings"] if f["category"] == "READ_OLD"}
    assert counted == {("RANGE_NARROWED", "Task.retries"): ("error", 3), ("LENGTH_NARROWED", "Task.id"): ("ok", 0)}


def test_a_value_whose_writer_schema_is_missing(work: Path, corpus: dict[str, list[str]]) -> None:
    lost = fsf.compile_source("shape Task { id: str, retries: u32 }")
    (work / "values").mkdir()
    (work / "values" / "lost.fsv").write_bytes(lost.encode("Task", {"id": "lost", "retries": 1}))
    shutil.copy(work / "values" / "lost.fsv", work / "values" / "again.fsv")  # the same value twice
    (work / "values" / "note.txt").write_text("not a value", encoding="utf-8")
    code, doc = as_json("v4-safe.fsf", "--corpus", "values", "--corpus", "st")
    assert code == 1 and doc["corpus"] == {"values": 8, "writer_types": 4}
    (missing,) = [f for f in doc["findings"] if f["rule"] == "SCHEMA_MISSING"]
    assert missing == {
        "rule": "SCHEMA_MISSING", "category": "READ_OLD", "status": "error", "path": lost.id("Task"),
        "message": f"the writer schema of {lost.id('Task')} is not in the store",
        "hint": "add it with `fsf store add` or `fsf store import-history`", "location": None,
        "old_location": None,
        "values": {"broken": 2, "total": 2, "examples": [fsf.content_id(lost.encode("Task", {"id": "lost",
                                                                                          "retries": 1}))] * 2},
    }
    # a finding like any other: accepted by its path (the type id)
    (work / "fsf-breaking.toml").write_text(f'[[accept]]\nrule = "SCHEMA_MISSING"\npath = "{lost.id("Task")}"\n'
                                            'reason = "a test value"\n', encoding="utf-8")
    assert breaking("v4-safe.fsf", "--corpus", "values", "--store", "st")[0] == 0


def test_fsv_files_and_folders_with_a_store(work: Path, corpus: dict[str, list[str]]) -> None:
    store = fsf.open_store(work / "st")
    (work / "files").mkdir()
    for ident in corpus["many"] + corpus["few"]:
        (work / "files" / f"{ident.removeprefix('blake3:')}.fsv").write_bytes(store.get(ident))
    one = work / "files" / f"{corpus['many'][0].removeprefix('blake3:')}.fsv"
    code, doc = as_json("v4.fsf", "--corpus", one, "--store", "st")
    assert code == 1 and doc["corpus"] == {"values": 1, "writer_types": 1}
    code, doc = as_json("v4.fsf", "--corpus", "files", "--store", "st")
    assert code == 1 and doc["corpus"] == {"values": 6, "writer_types": 3}


# -- git revisions --------------------------------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with its own configuration and identity (nothing from the caller's environment)."""
    top = tmp_path / "repo"
    top.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("GIT_"):
            monkeypatch.delenv(key)
    for key, value in {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                       "GIT_CONFIG_GLOBAL": str(home / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
                       "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
                       "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(top)
    git("init", "-q", "-b", "main")
    return top


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def write(files: dict[str, str]) -> None:
    for name, text in files.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text, encoding="utf-8")


@needs_git
def test_against_a_revision_whose_import_moved(repo: Path) -> None:
    write({"schemas/plan.fsf": 'import "common.fsf"\nshape Plan { id: str, owner: Person }\n',
           "schemas/common.fsf": "shape Person { name: str, age: u8 }\n"})
    git("add", "-A")
    git("commit", "-q", "-m", "one")
    (repo / "schemas" / "lib").mkdir()
    git("mv", "schemas/common.fsf", "schemas/lib/people.fsf")
    write({"schemas/plan.fsf": 'import "lib/people.fsf"\nshape Plan { id: str, owner: Person }\n',
           "schemas/lib/people.fsf": "shape Person { name: str, age: u8[0..150] }\n"})
    git("add", "-A")
    git("commit", "-q", "-m", "two: the import moved, and a range narrowed")
    assert not (repo / "schemas" / "common.fsf").exists()  # HEAD~1's import is read from HEAD~1 alone
    code, doc = as_json("schemas/plan.fsf", "--against", "git:HEAD~1")
    assert code == 1
    assert [(f["rule"], f["path"], f["status"]) for f in doc["findings"]] == [
        ("RANGE_NARROWED", "Person.age", "error")]
    assert as_json("schemas/plan.fsf", "--against", "git:HEAD") == (0, {"failed": False, "findings": [],
                                                                         "stale": []})
    code, _, err = breaking("schemas/plan.fsf", "--against", "git:nope")
    assert (code, err.endswith("[bad_revision]\n")) == (1, True)


@needs_git
def test_the_old_revision_reads_its_own_imports(repo: Path) -> None:
    """At the old revision `common.fsf` holds another `Person` than the working tree's file of that name."""
    write({"schemas/plan.fsf": 'import "common.fsf"\nshape Plan { owner: Person }\n',
           "schemas/common.fsf": "shape Person { name: str, age: u8 }\n"})
    git("add", "-A")
    git("commit", "-q", "-m", "one")
    write({"schemas/plan.fsf": 'import "lib/people.fsf"\nshape Plan { owner: Person }\n',
           "schemas/lib/people.fsf": "shape Person { name: str, age: u8 }\n",
           "schemas/common.fsf": "shape Person { name: str }\n"})
    assert as_json("schemas/plan.fsf", "--against", "git:HEAD") == (0, {"failed": False, "findings": [],
                                                                         "stale": []})


@needs_git
@pytest.mark.parametrize("rev", ["--output=x", "HEAD:../x", "HEAD..main", "main;id", ""])
def test_a_hostile_revision_runs_no_git(repo: Path, rev: str, monkeypatch: pytest.MonkeyPatch) -> None:
    write({"plan.fsf": "shape Plan { id: str }\n"})
    calls: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    code, out, err = breaking("plan.fsf", f"--against=git:{rev}")
    assert (code, out, calls) == (1, "", [])
    assert err.startswith(f"error: revision `{rev}` ") and err.endswith(" [bad_revision]\n"), err
    assert not (repo / "x").exists()


@needs_git
def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    write({"plan.fsf": "shape Plan { id: str }\n"})
    code, out, err = breaking("plan.fsf", "--against", "git:HEAD")
    assert (code, out) == (1, "") and err.endswith("[not_a_repo]\n"), err


def test_run_as_a_program(work: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "fsf.cli.fsf_tool", "breaking", "new.fsf", "--against",
                           "old.fsf", "--format", "json"], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and json.loads(done.stdout)["failed"] is True
