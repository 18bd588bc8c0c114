"""`fsf store import-history SCHEMA... [--rev RANGE]`: the versions of a schema in git history recorded in the
store (exactly the closures of those that check), one line per commit, idempotent; exit codes 0 (it ran, even
with versions that did not check), 1 (not a repository, a bad range, no store), 2 (a wrong command line).

The repository is :data:`tests.support.gitrepo.HISTORY`, built under ``tmp_path``, the working folder.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import fsf
from fsf.cli.fsf_tool import app
from fsf.store import init_store, locate_store
from tests.support.gitrepo import CHECKS, HISTORY, SCHEMA_COMMITS, Built, build_history, checkout, hermetic_git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

PLAN = "repo/schemas/plan.fsf"
runner = CliRunner()


def fsf_(*args: object) -> tuple[int, str, str]:
    """Exit code, stdout, stderr of one `fsf` command run in process; a traceback fails the test."""
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Built:
    """The history in ``repo``, an empty store ``st``, ``tmp_path`` the working folder; git without any
    configuration and no repository or store found above ``tmp_path``."""
    if locate_store(cwd=tmp_path, env={}) is not None:
        pytest.skip(f"a `.fsf` folder above {tmp_path} would be found by every command")
    hermetic_git(monkeypatch, tmp_path)
    monkeypatch.delenv("FSF_STORE", raising=False)
    monkeypatch.chdir(tmp_path)
    init_store(tmp_path / "st")
    return build_history(tmp_path / "repo")


def ids_at(built: Built, i: int, tmp: Path) -> set[str]:
    """The type ids of commit ``i``'s plan, compiled from a copy of its files."""
    schema = fsf.load_schema(checkout(built.trees[i], tmp / f"copy{i}") / "schemas" / "plan.fsf")
    return {schema.id(name) for name in schema.shapes}


def stored(tmp_path: Path) -> set[str]:
    return set(fsf.open_store(tmp_path / "st").type_ids())


def report(built: Built, tmp: Path, commits: tuple[int, ...], known: set[str]) -> str:
    """The whole output expected for ``commits`` of the history with ``known`` types already stored."""
    lines, added, failed = [], 0, 0
    for i in commits:
        short, subject = built.shas[i][:12], HISTORY[i][0]
        if i in CHECKS:
            new = ids_at(built, i, tmp) - known
            known |= new
            added += len(new)
            lines.append(f"added {len(new)} type(s) at {short} {subject}")
        elif i == 1:
            failed += 1
            lines.append(f"{short}: does not check: git:{short}/schemas/plan.fsf:3:19: error[F201]: unknown type "
                         "`Lob`")
        else:
            lines.append(f"{short}: {PLAN} not present")
    lines.append(f"{len(commits)} revision(s), {added} type(s) added, {failed} did not check")
    return "\n".join(lines) + "\n"


def test_records_exactly_the_closures_of_the_versions_that_check(built: Built, tmp_path: Path) -> None:
    want = report(built, tmp_path, SCHEMA_COMMITS, set())
    assert fsf_("store", "import-history", PLAN, "--store", "st") == (0, want, "")
    assert stored(tmp_path) == set().union(*(ids_at(built, i, tmp_path) for i in CHECKS))
    assert want.splitlines()[-1] == "5 revision(s), 6 type(s) added, 1 did not check"


def test_a_second_run_adds_nothing(built: Built, tmp_path: Path) -> None:
    assert fsf_("store", "import-history", PLAN, "--store", "st")[0] == 0
    before = stored(tmp_path)
    code, out, err = fsf_("store", "import-history", PLAN, "--store", "st")
    assert (code, err) == (0, "")
    assert out == report(built, tmp_path, SCHEMA_COMMITS, set(before))
    assert [line.split(" at ")[0] for line in out.splitlines() if line.startswith("added")] == ["added 0 type(s)"] * 3
    assert out.splitlines()[-1] == "5 revision(s), 0 type(s) added, 1 did not check"
    assert stored(tmp_path) == before


def test_rev_limits_the_walk(built: Built, tmp_path: Path) -> None:
    code, out, err = fsf_("store", "import-history", PLAN, "--store", "st", "--rev", f"{built.shas[1]}..HEAD~1")
    assert (code, out, err) == (0, report(built, tmp_path, (2, 4), set()), "")
    assert stored(tmp_path) == ids_at(built, 2, tmp_path) | ids_at(built, 4, tmp_path)
    code, out, _ = fsf_("store", "import-history", PLAN, "--store", "st", "--rev", "HEAD~4")
    assert out.splitlines()[-1] == "2 revision(s), 2 type(s) added, 1 did not check"
    assert fsf_("store", "import-history", PLAN, "--store", "st", "--rev", "HEAD..")[1] == (
        "0 revision(s), 0 type(s) added, 0 did not check\n")


def test_the_working_tree_is_not_read(built: Built, tmp_path: Path) -> None:
    checkout({"schemas/plan.fsf": "shape Plan { nothing: Like }\n", "schemas/lib.fsf": "not a schema"}, built.top)
    assert fsf_("store", "import-history", PLAN, "--store", "st")[1] == report(built, tmp_path, SCHEMA_COMMITS,
                                                                                set())


def test_several_schemas_each_under_its_name(built: Built, tmp_path: Path) -> None:
    code, out, err = fsf_("store", "import-history", PLAN, "repo/schemas/other.fsf", "--store", "st")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{PLAN}:"
    assert lines[6] == "repo/schemas/other.fsf:"
    assert lines[7:] == [f"{built.shas[i][:12]}: repo/schemas/other.fsf not present" for i in (0, 1, 2)] + [
        f"added 0 type(s) at {built.shas[4][:12]} {HISTORY[4][0]}",  # Other came with the plan, just before
        f"added 0 type(s) at {built.shas[5][:12]} {HISTORY[5][0]}",
        "10 revision(s), 6 type(s) added, 1 did not check"]


def test_user_errors_exit_1(built: Built, tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    code, out, err = fsf_("store", "import-history", "plain/plan.fsf", "--store", "st")
    assert (code, out) == (1, "")
    assert err.startswith("error: `plain/plan.fsf` is not in a git working tree: ")
    assert err.endswith(" [not_a_repo]\n")
    assert fsf_("store", "import-history", PLAN, "--store", "st", "--rev", "nope..HEAD") == (
        1, "", f"error: `nope` is not a commit in `{built.top}` [bad_revision]\n")
    assert fsf_("store", "import-history", PLAN, "--store", "nowhere")[0] == 1
    assert stored(tmp_path) == set()


@pytest.mark.parametrize("rev", ["--output=/tmp/x", "HEAD:../../etc/passwd", "main;rm -rf /", "$(id)"])
def test_a_hostile_range_runs_no_git(rev: str, built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    code, out, err = fsf_("store", "import-history", PLAN, "--store", "st", f"--rev={rev}")
    assert (code, out, calls) == (1, "", [])
    assert err.startswith("error: range `") and err.endswith(" [bad_revision]\n")


def test_a_wrong_command_line_exits_2(built: Built, tmp_path: Path) -> None:
    assert fsf_("store", "import-history", "--store", "st")[0] == 2
    assert fsf_("store", "import-history", PLAN, "--store", "st", "--nope")[0] == 2
    code, _, err = fsf_("store", "import-history", "repo/x.fsv", "--store", "st")
    assert (code, err) == (2, "error: `repo/x.fsv` is an FSV value (canonical binary, the source of truth for "
                              "data), not a schema source read from git history; expected `.fsf`\n")
    (built.top / "elsewhere").mkdir()
    assert fsf_("store", "import-history", PLAN, "--store", "st", "--root", "repo/elsewhere") == (
        2, "", f"error: schema `{PLAN}` is outside the root `repo/elsewhere`\n")
    assert stored(tmp_path) == set()
