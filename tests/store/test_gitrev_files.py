"""fsf.gitrev.files_at: the regular files under a path at a commit (what `fsv verify --append-only-since` compares
with the working tree): folders and files named in the working tree (which need not hold them any more), a
suffix, literal names, links and submodules left out, revisions and paths refused before git runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fsf import gitrev
from fsf.gitrev import GitError
from tests.support.gitrepo import git, hermetic_git

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

FILES = ("audit/1.fsv", "audit/2026/2.fsv", "audit/notes.md", "audit2/x.fsv", "aud/y.fsv", "top.fsv",
         "odd/a *[b].fsv", "odd/\u00e9t\u00e9 1.fsv")


@pytest.fixture(autouse=True)
def _hermetic_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    hermetic_git(monkeypatch, tmp_path)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    top = tmp_path / "repo"
    top.mkdir()
    git(top, "init", "-q")
    for rel in FILES:
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_bytes(rel.encode())
    os.symlink("1.fsv", top / "audit" / "link.fsv")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "files")
    return top.resolve()


def test_a_folder_lists_the_regular_files_below_it_sorted(repo: Path) -> None:
    got = gitrev.files_at(repo / "audit", "HEAD")
    assert got == gitrev.Files(repo, git(repo, "rev-parse", "HEAD"), ("audit/1.fsv", "audit/2026/2.fsv",
                                                                      "audit/notes.md"))
    assert gitrev.files_at(repo / "audit", "HEAD", suffix=".fsv").paths == ("audit/1.fsv", "audit/2026/2.fsv")
    assert gitrev.read_at(got.top, got.sha, got.paths[0]) == b"audit/1.fsv"


def test_a_file_the_top_and_literal_names(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert gitrev.files_at(repo / "top.fsv", "HEAD").paths == ("top.fsv",)
    assert gitrev.files_at(repo / "odd" / "a *[b].fsv", "HEAD").paths == ("odd/a *[b].fsv",)
    monkeypatch.chdir(repo / "audit")
    assert gitrev.files_at("..", "HEAD", suffix=".fsv").paths == tuple(sorted(
        f for f in FILES if f.endswith(".fsv")))
    assert gitrev.files_at(".", "HEAD", suffix=".fsv").paths == ("audit/1.fsv", "audit/2026/2.fsv")


def test_a_path_no_longer_in_the_working_tree_is_listed_at_the_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    shutil.rmtree(repo / "audit")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "gone")
    assert gitrev.files_at(repo / "audit", first, suffix=".fsv").paths == ("audit/1.fsv", "audit/2026/2.fsv")
    assert gitrev.files_at(repo / "audit", "HEAD").paths == ()


def test_revisions_and_paths_are_refused(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(GitError) as err:
        gitrev.files_at(repo, "--output=x")
    assert err.value.code == "bad_revision"
    with pytest.raises(GitError) as err:
        gitrev.files_at(repo, "nosuch")
    assert str(err.value) == f"`nosuch` is not a commit in `{repo}` [bad_revision]"
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "escape").symlink_to(outside)
    with pytest.raises(GitError) as err:  # a link out of the repository is followed, as git does
        gitrev.files_at(repo / "escape", "HEAD")
    assert err.value.code == "not_a_repo"
    with pytest.raises(GitError) as err:
        gitrev.files_at(outside, "HEAD")
    assert err.value.code == "not_a_repo"
