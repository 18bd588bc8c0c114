"""fsf.gitrev: schemas read at a git commit (imports at the same commit, confined to the root like the working tree,
nothing read from the working tree), the commits that changed a folder's schemas, and every hostile revision and
path refused before git runs.

Each test builds a throwaway repository under ``tmp_path`` (:mod:`tests.support.gitrepo`); every git call (the
tests' and the library's) runs without the user's or the system's git configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fsf
from fsf import gitrev
from fsf.gitrev import GitError
from fsf.limits import MAX_SOURCE_BYTES
from tests.support.gitrepo import (
    HISTORY,
    LIB_1,
    PLAN_1,
    SCHEMA_COMMITS,
    Built,
    build_history,
    checkout,
    commit,
    git,
    hermetic_git,
    init,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def expected(built: Built, i: int, tmp: Path, root: str | None = None) -> fsf.Schema:
    """Commit ``i``'s plan compiled from a copy of its files in the working tree."""
    copy = checkout(built.trees[i], tmp / f"copy{i}")
    return fsf.load_schema(copy / "schemas" / "plan.fsf", root=None if root is None else copy / root)


def codes(err: fsf.SchemaError) -> list[tuple[str, str, int, int]]:
    """What a schema error says, without the file names (the same text at two places)."""
    return [(d.code, d.message, d.span.line if d.span else 0, d.span.column if d.span else 0)
            for d in err.diagnostics]


@pytest.fixture(autouse=True)
def _hermetic_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The library's git calls see no configuration and no repository above ``tmp_path``."""
    hermetic_git(monkeypatch, tmp_path)


@pytest.fixture
def built(tmp_path: Path) -> Built:
    return build_history(tmp_path / "repo")


@pytest.fixture
def no_git(built: Built, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Record every attempt to run a program (once the repository is built); the test asserts there was none."""
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError(f"git was run: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)
    yield calls
    assert calls == []


# -- schemas at a commit -----------------------------------------------------------------------------------------


def test_each_commit_loads_as_its_own_text_compiles(built: Built, tmp_path: Path) -> None:
    for i in SCHEMA_COMMITS:
        if "schemas/plan.fsf" not in built.trees[i]:
            with pytest.raises(GitError) as gone:
                gitrev.load_schema_at(built.plan, built.shas[i])
            assert gone.value.code == "no_such_path"
            assert gone.value.message == f"`schemas/plan.fsf` is not in commit {built.shas[i][:12]}"
            continue
        try:
            want = expected(built, i, tmp_path)
        except fsf.SchemaError as err:
            with pytest.raises(fsf.SchemaError) as got:
                gitrev.load_schema_at(built.plan, built.shas[i])
            assert codes(got.value) == codes(err)
            continue
        got_schema = gitrev.load_schema_at(built.plan, built.shas[i])
        assert got_schema.ir == want.ir
        assert {n: got_schema.id(n) for n in got_schema.shapes} == {n: want.id(n) for n in want.shapes}
    assert [i for i in SCHEMA_COMMITS if "schemas/plan.fsf" in built.trees[i]] == [0, 1, 2, 4]


def test_revisions_by_any_name(built: Built) -> None:
    by_sha = gitrev.load_schema_at(built.plan, built.shas[2])
    assert gitrev.load_schema_at(built.plan, "HEAD~3").ir == by_sha.ir
    assert gitrev.load_schema_at(str(built.plan), built.shas[2][:8]).ir == by_sha.ir
    assert gitrev.resolve(built.top, "HEAD") == built.shas[-1]


def test_diagnostics_name_the_commit_and_the_path_from_the_top(built: Built) -> None:
    with pytest.raises(fsf.SchemaError) as err:
        gitrev.load_schema_at(built.plan, built.shas[1])
    first = err.value.render().splitlines()[0]
    assert first == f"git:{built.shas[1][:12]}/schemas/plan.fsf:3:19: error[F201]: unknown type `Lob`"


def test_imports_are_read_at_the_commit_not_from_the_working_tree(built: Built, tmp_path: Path) -> None:
    want = gitrev.load_schema_at(built.plan, built.shas[0])
    # A working tree that would compile to something else, and then none at all.
    checkout({"schemas/plan.fsf": 'import "lib.fsf"\nshape Plan { lib: Lib, x: bool }\n',
              "schemas/lib.fsf": "shape Lib { z: f64 }\n"}, built.top)
    assert fsf.load_schema(built.plan).ir != want.ir
    assert gitrev.load_schema_at(built.plan, built.shas[0]).ir == want.ir
    assert gitrev.load_schema_at(built.plan, built.shas[0]).ir == expected(built, 0, tmp_path).ir
    shutil.rmtree(built.top / "schemas")
    assert gitrev.load_schema_at(built.plan, built.shas[2]).ir == expected(built, 2, tmp_path).ir


def test_an_import_absent_at_the_commit_is_f301(tmp_path: Path) -> None:
    top = init(tmp_path / "repo")
    sha = commit(top, "one", {"s/plan.fsf": PLAN_1})
    (top / "s" / "lib.fsf").write_text(LIB_1)  # in the working tree only: never read
    with pytest.raises(fsf.SchemaError) as err:
        gitrev.load_schema_at(top / "s" / "plan.fsf", sha)
    assert [(d.code, d.message, d.label) for d in err.value.diagnostics] == [
        ("F301", "cannot find imported file `lib.fsf`", f"looked for `git:{sha[:12]}/s/lib.fsf`")]


def test_an_import_leaving_the_root_is_f304_as_in_the_working_tree(tmp_path: Path) -> None:
    top = init(tmp_path / "repo")
    sha = commit(top, "escape", {"outside.fsf": "shape Outside { a: str }\n",
                                 "s/plan.fsf": 'import "../outside.fsf"\nshape Plan { o: Outside }\n'})
    plan = top / "s" / "plan.fsf"
    with pytest.raises(fsf.SchemaError) as tree:
        fsf.load_schema(plan)
    with pytest.raises(fsf.SchemaError) as at:
        gitrev.load_schema_at(plan, sha)
    assert codes(at.value) == codes(tree.value)
    assert [d.code for d in at.value.diagnostics] == ["F304"]
    assert at.value.diagnostics[0].message == f"import `../outside.fsf` leaves the schema root `{top / 's'}`"
    # A wider root lets it in, at the commit as in the working tree.
    assert gitrev.load_schema_at(plan, sha, root=top).ir == fsf.load_schema(plan, root=top).ir
    # Leaving the repository itself is leaving the root, whatever the root.
    commit(top, "further", {"s/plan.fsf": 'import "../../../etc/x.fsf"\nshape Plan { a: str }\n'})
    with pytest.raises(fsf.SchemaError) as out:
        gitrev.load_schema_at(plan, "HEAD", root=top)
    assert [d.message for d in out.value.diagnostics] == [
        f"import `../../../etc/x.fsf` leaves the schema root `{top}`"]


def test_the_root_must_hold_the_schema_and_be_in_the_repository(built: Built, tmp_path: Path) -> None:
    (built.top / "elsewhere").mkdir()
    with pytest.raises(fsf.UsageError, match=r"^schema `.*plan.fsf` is outside the root `.*elsewhere`$"):
        gitrev.load_schema_at(built.plan, "HEAD~1", root=built.top / "elsewhere")
    with pytest.raises(GitError) as err:
        gitrev.load_schema_at(built.plan, "HEAD~1", root=tmp_path)
    assert err.value.code == "no_such_path"
    assert err.value.message == (f"root `{tmp_path}` is outside the repository `{built.top}` "
                                 "(files are read from its commits)")


symlinks = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="needs symbolic links")


@symlinks
def test_a_symbolic_link_in_the_commit_is_refused(tmp_path: Path) -> None:
    top = init(tmp_path / "repo")
    commit(top, "files", {"s/lib.fsf": LIB_1, "s/plan.fsf": 'import "alias.fsf"\nshape Plan { lib: Lib }\n',
                          "secret.txt": "shape Secret { a: str }\n"})
    os.symlink("lib.fsf", top / "s" / "alias.fsf")
    os.symlink("plan.fsf", top / "s" / "link.fsf")
    os.symlink("..", top / "s" / "up")
    sha = commit(top, "links", {})
    with pytest.raises(GitError) as entry:
        gitrev.load_schema_at(top / "s" / "link.fsf", sha)
    assert (entry.value.code, entry.value.message) == (
        "not_a_file", f"`s/link.fsf` is a symbolic link at commit {sha[:12]}, not a regular file")
    with pytest.raises(GitError) as raw:
        gitrev.read_at(top, sha, "s/alias.fsf")
    assert raw.value.code == "not_a_file"
    # An imported link is a located F301; git never follows a link, so `up/...` names no file at the commit.
    with pytest.raises(fsf.SchemaError) as imported:
        gitrev.load_schema_at(top / "s" / "plan.fsf", sha)
    assert [(d.code, d.message) for d in imported.value.diagnostics] == [
        ("F301", "cannot read imported file `alias.fsf`: a symbolic link at this commit, not a regular file")]
    assert gitrev.read_at(top, sha, "s/up/secret.txt") is None
    assert gitrev.read_at(top, sha, "secret.txt") == b"shape Secret { a: str }\n"


def test_a_submodule_entry_is_not_a_file(tmp_path: Path) -> None:
    top = init(tmp_path / "repo")
    first = commit(top, "one", {"s/plan.fsf": LIB_1})
    git(top, "update-index", "--add", "--cacheinfo", f"160000,{first},s/sub.fsf")
    git(top, "commit", "-q", "-m", "submodule")
    with pytest.raises(GitError) as err:
        gitrev.read_at(top, gitrev.resolve(top, "HEAD"), "s/sub.fsf")
    assert err.value.message.startswith("`s/sub.fsf` is a submodule at commit ")
    with pytest.raises(GitError) as folder:
        gitrev.read_at(top, first, "s")
    assert folder.value.message == f"`s` is a folder at commit {first[:12]}, not a regular file"


def test_sources_over_the_size_limit_are_f001_unread(tmp_path: Path) -> None:
    top = init(tmp_path / "repo")
    big = "// " + "x" * MAX_SOURCE_BYTES + "\n"
    sha = commit(top, "big", {"s/big.fsf": big, "s/plan.fsf": 'import "big.fsf"\nshape Plan { a: str }\n'})
    size = len(big.encode())
    for path in ("big.fsf", "plan.fsf"):
        with pytest.raises(fsf.SchemaError) as err:
            gitrev.load_schema_at(top / "s" / path, sha)
        assert [(d.code, d.message) for d in err.value.diagnostics] == [
            ("F001", f"schema file is {size} bytes; the limit is {MAX_SOURCE_BYTES}")]
    with pytest.raises(GitError) as raw:
        gitrev.read_at(top, sha, "s/big.fsf")
    assert (raw.value.code, raw.value.message) == (
        "too_large", f"`s/big.fsf` is {size} bytes at commit {sha[:12]}; the limit is {MAX_SOURCE_BYTES}")
    assert gitrev.read_at(top, sha, "s/big.fsf", limit=size) == big.encode()


def test_a_schema_that_is_not_utf8_is_f000(tmp_path: Path) -> None:
    top = init(tmp_path / "repo")
    (top / "bad.fsf").write_bytes(b"shape \xff {}\n")
    git(top, "add", "bad.fsf")
    git(top, "commit", "-q", "-m", "bad")
    sha = gitrev.resolve(top, "HEAD")
    with pytest.raises(fsf.SchemaError) as err:
        gitrev.load_schema_at(top / "bad.fsf", "HEAD")
    assert [d.message for d in err.value.diagnostics] == [
        f"cannot read schema `git:{sha[:12]}/bad.fsf`: not UTF-8 (byte 6)"]


# -- history ---------------------------------------------------------------------------------------------------


def test_history_lists_the_commits_that_changed_a_schema_oldest_first(built: Built) -> None:
    schema_shas = [built.shas[i] for i in SCHEMA_COMMITS]
    assert gitrev.history(built.top, ["schemas"]) == schema_shas
    assert gitrev.history(built.top, [""]) == schema_shas
    assert gitrev.history(built.top, ["."]) == schema_shas
    assert gitrev.history(built.top, ["docs"]) == []
    assert gitrev.history(built.top, ["schemas"], f"{built.shas[1]}..{built.shas[4]}") == [built.shas[2],
                                                                                            built.shas[4]]
    assert gitrev.history(built.top, ["schemas"], "HEAD~2..") == [built.shas[4], built.shas[5]]
    assert gitrev.history(built.top, ["schemas"], "HEAD~4") == schema_shas[:2]


def test_history_globs_only_fsf_files_and_takes_folder_names_literally(tmp_path: Path) -> None:
    top = init(tmp_path / "repo")
    a = commit(top, "a", {"we[ir]d*/a.fsf": LIB_1})
    commit(top, "b", {"weid/b.fsf": LIB_1, "we[ir]d*/notes.txt": "x"})
    c = commit(top, "c", {"we[ir]d*/deep/c.fsf": LIB_1})
    assert gitrev.history(top, ["we[ir]d*"]) == [a, c]


def test_versions_walk_a_schema_with_each_outcome(built: Built) -> None:
    walk = list(gitrev.versions(built.plan))
    assert [(v.sha, v.subject) for v in walk] == [(built.shas[i], HISTORY[i][0]) for i in SCHEMA_COMMITS]
    assert [v.schema is not None for v in walk] == [True, False, True, True, False]
    assert isinstance(walk[1].problem, fsf.SchemaError)
    assert isinstance(walk[4].problem, GitError) and walk[4].problem.code == "no_such_path"
    assert [v.sha for v in gitrev.versions(built.plan, "HEAD~3..HEAD~1")] == [built.shas[4]]


# -- refused input -------------------------------------------------------------------------------------------------

HOSTILE_REVISIONS = {
    "--output=/tmp/x": "starts with `-`",
    "-n1": "starts with `-`",
    "HEAD:../../etc/passwd": "contains `:` (a revision names a commit, not a file in it)",
    "HEAD:schemas/plan.fsf": "contains `:` (a revision names a commit, not a file in it)",
    "main;rm -rf /": "contains white space",
    "main;id": "contains `;` (a revision has letters, digits and `._/@{}^~+-`)",
    "$(id)": "contains `$` (a revision has letters, digits and `._/@{}^~+-`)",
    "`id`": "contains ``` (a revision has letters, digits and `._/@{}^~+-`)",
    "HEAD|id": "contains `|` (a revision has letters, digits and `._/@{}^~+-`)",
    "HEAD\x00--all": "contains control character U+0000",
    "HEAD\n--all": "contains control character U+000A",
    "HEAD\t": "contains control character U+0009",
    "HEAD\u00a0": "contains white space",
    "HEAD\u202e": "contains `\\u202e` (a revision has letters, digits and `._/@{}^~+-`)",
    "HEAD~1..HEAD": "contains `..` (a range, not a revision)",
    "": "is empty",
}


def _shown(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


@pytest.mark.parametrize("rev", HOSTILE_REVISIONS)
def test_hostile_revisions_are_refused_before_git_runs(rev: str, built: Built, no_git: list[Any]) -> None:
    message = f"revision `{_shown(rev)}` {HOSTILE_REVISIONS[rev]}"
    for attempt in (lambda: gitrev.resolve(built.top, rev), lambda: gitrev.load_schema_at(built.plan, rev)):
        with pytest.raises(GitError) as err:
            attempt()
        assert (err.value.code, err.value.message) == ("bad_revision", message)


HOSTILE_RANGES = {
    "--output=/tmp/x..HEAD": "range `--output=/tmp/x..HEAD` contains `=` (a revision has letters, digits and "
                             "`._/@{}^~+-`)",
    "HEAD..--output=/tmp/x": "range `HEAD..--output=/tmp/x` contains `=` (a revision has letters, digits and "
                             "`._/@{}^~+-`)",
    "-n1..HEAD": "revision `-n1` starts with `-`",
    "HEAD..--all": "revision `--all` starts with `-`",
    "HEAD:../../etc/passwd..": "range `HEAD:../../etc/passwd..` contains `:` (a revision names a commit, not a "
                               "file in it)",
    "HEAD..$(id)": "range `HEAD..$(id)` contains `$` (a revision has letters, digits and `._/@{}^~+-`)",
    "HEAD..main;rm -rf /": "range `HEAD..main;rm -rf /` contains white space",
    "HEAD\x00..HEAD": "range `HEAD\\u0000..HEAD` contains control character U+0000",
    "A..B..C": "revision `B..C` contains `..` (a range, not a revision)",
    "A...B": "range `A...B`: give `A..B`, `A..` or `B`, not `A...B`",
    "..HEAD": "range `..HEAD` has no start: give `A..B` or `A..`",
    "..": "range `..` has no start: give `A..B` or `A..`",
    "": "revision `` is empty",
}


@pytest.mark.parametrize("rev_range", HOSTILE_RANGES)
def test_hostile_ranges_are_refused_before_git_runs(rev_range: str, built: Built, no_git: list[Any]) -> None:
    for attempt in (lambda: gitrev.history(built.top, ["schemas"], rev_range),
                    lambda: gitrev.versions(built.plan, rev_range)):
        with pytest.raises(GitError) as err:
            attempt()
        assert (err.value.code, err.value.message) == ("bad_revision", HOSTILE_RANGES[rev_range])


HOSTILE_PATHS = {
    "../../etc/passwd": "leaves the repository (`..`)",
    "..": "leaves the repository (`..`)",
    "schemas/../../x.fsf": "leaves the repository (`..`)",
    "schemas/..": "leaves the repository (`..`)",
    "/etc/passwd": "is absolute (a path in the repository is relative to its top)",
    "C:/x.fsf": "is absolute (a path in the repository is relative to its top)",
    "schemas\\plan.fsf": "contains `\\` (folders are separated by `/`)",
    "./schemas/plan.fsf": "is not normalized (no `.`, empty or trailing parts)",
    "schemas//plan.fsf": "is not normalized (no `.`, empty or trailing parts)",
    "schemas/./plan.fsf": "is not normalized (no `.`, empty or trailing parts)",
    "schemas/": "is not normalized (no `.`, empty or trailing parts)",
    "schemas/plan.fsf\x00": "contains control character U+0000",
    "schemas/\nplan.fsf": "contains control character U+000A",
    "": "is empty",
}


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_paths_are_refused_before_git_runs(path: str, built: Built, no_git: list[Any]) -> None:
    with pytest.raises(GitError) as err:
        gitrev.read_at(built.top, built.shas[0], path)
    assert (err.value.code, err.value.message) == ("bad_path", f"path `{_shown(path)}` {HOSTILE_PATHS[path]}")
    if path:  # '' is the top as a folder
        with pytest.raises(GitError) as folder:
            gitrev.history(built.top, [path])
        assert folder.value.code == "bad_path"


@pytest.mark.parametrize("sha", ["HEAD", "abc", "A" * 40, "--output=x", "0" * 39])
def test_read_at_takes_only_a_full_commit_id(sha: str, built: Built, no_git: list[Any]) -> None:
    with pytest.raises(GitError) as err:
        gitrev.read_at(built.top, sha, "schemas/plan.fsf")
    assert err.value.code == "bad_revision"


def test_a_revision_that_names_no_commit(built: Built) -> None:
    with pytest.raises(GitError) as err:
        gitrev.resolve(built.top, "no-such-branch")
    assert (err.value.code, str(err.value)) == (
        "bad_revision", f"`no-such-branch` is not a commit in `{built.top}` [bad_revision]")
    tree = git(built.top, "rev-parse", "HEAD^{tree}")
    with pytest.raises(GitError, match=r"is not a commit"):
        gitrev.resolve(built.top, tree)  # a tree is not a commit


def test_outside_a_repository(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitError) as err:
        gitrev.load_schema_at(tmp_path / "plain" / "plan.fsf", "HEAD")
    assert err.value.code == "not_a_repo"
    assert err.value.message.startswith(f"`{tmp_path / 'plain' / 'plan.fsf'}` is not in a git working tree: ")
    assert "\n" not in str(err.value)


def test_without_git(built: Built, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(GitError) as err:
        gitrev.resolve(built.top, "HEAD")
    assert err.value.code == "git_missing"
    assert err.value.message.endswith("; is git installed and on PATH?")
