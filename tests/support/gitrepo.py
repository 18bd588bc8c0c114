"""Throwaway git repositories for tests (``fsf.gitrev``, ``fsf store import-history``, ``fsv verify
--append-only-since``): git run without the user's or the system's configuration, commits of given files, and
:data:`HISTORY`, a schema's history with every outcome (it checks, it does not, it imports another file, it is
deleted).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import attrs
import pytest

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.invalid", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
"""What every git call of a test runs with: a fixed identity, no global or system configuration."""

LIB_1 = "shape Lib { a: str }\n"
LIB_2 = "shape Lib { a: str, b: u32 }\n"
OTHER = "shape Other { n: u32 }\n"
PLAN_1 = 'import "lib.fsf"\n\nshape Plan { lib: Lib }\n'
PLAN_BROKEN = 'import "lib.fsf"\n\nshape Plan { lib: Lob }\n'
PLAN_OTHER = 'import "other.fsf"\n\nshape Plan { other: Other, note: str }\n'

# The history the tests walk: (subject, files changed: text, or None for a deletion). The fourth commit changes
# no .fsf file; every other one changes the schema or a file it imports.
HISTORY: tuple[tuple[str, dict[str, str | None]], ...] = (
    ("first", {"schemas/lib.fsf": LIB_1, "schemas/plan.fsf": PLAN_1, "README.md": "x\n"}),
    ("plan names a type that is not there", {"schemas/plan.fsf": PLAN_BROKEN}),
    ("lib grows", {"schemas/lib.fsf": LIB_2, "schemas/plan.fsf": PLAN_1}),
    ("readme only", {"README.md": "y\n"}),
    ("plan imports other, lib deleted", {"schemas/other.fsf": OTHER, "schemas/plan.fsf": PLAN_OTHER,
                                         "schemas/lib.fsf": None}),
    ("plan deleted", {"schemas/plan.fsf": None}),
)
SCHEMA_COMMITS = (0, 1, 2, 4, 5)  # the commits of HISTORY that changed a .fsf file
CHECKS = (0, 2, 4)  # where schemas/plan.fsf is present and checks


def hermetic_git(monkeypatch: pytest.MonkeyPatch, ceiling: Path) -> None:
    """Make the library's own git calls see no configuration and no repository above ``ceiling``."""
    for name in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"):
        monkeypatch.setenv(name, GIT_ENV[name])
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(ceiling))


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` for a test (no user or system configuration); its stdout."""
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV})
    return done.stdout.strip()


def commit(repo: Path, subject: str, files: dict[str, str | None]) -> str:
    """Write (or delete, for None) ``files`` in ``repo``, commit them all, and return the commit's id."""
    for rel, text in files.items():
        path = repo / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject)
    return git(repo, "rev-parse", "HEAD")


def init(repo: Path) -> Path:
    """A new, empty repository at ``repo`` (made with its parents)."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    return repo


@attrs.frozen
class Built:
    """A repository with :data:`HISTORY`: its top, each commit's id, and each commit's whole tree."""

    top: Path
    shas: tuple[str, ...]
    trees: tuple[dict[str, str], ...]

    @property
    def plan(self) -> Path:
        return self.top / "schemas" / "plan.fsf"


def build_history(where: Path) -> Built:
    """:data:`HISTORY` committed in a new repository at ``where``."""
    top = init(where)
    shas, trees, tree = [], [], {}
    for subject, files in HISTORY:
        shas.append(commit(top, subject, files))
        for rel, text in files.items():
            if text is None:
                tree.pop(rel)
            else:
                tree[rel] = text
        trees.append(dict(tree))
    return Built(top.resolve(), tuple(shas), tuple(trees))


def checkout(tree: dict[str, str], where: Path) -> Path:
    """The files of ``tree`` written under ``where`` (a plain folder: what the working tree held then)."""
    for rel, text in tree.items():
        (where / rel).parent.mkdir(parents=True, exist_ok=True)
        (where / rel).write_text(text, encoding="utf-8")
    return where
