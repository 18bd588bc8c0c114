"""The pre-commit hooks of ``.pre-commit-hooks.yaml``, run by pre-commit itself on a sample repository under
``tmp_path``: a clean tree passes every hook, and each kind of problem is caught by its hook (a bad schema, a
schema out of layout, a non-canonical ``.fsv``, a stale view, a changed or removed committed record, a breaking
schema change when `fsf breaking` is there).

pre-commit installs the hooks' repository into a virtual environment of its own (``pip install .``, so the
package index is needed). The hooks' repository is a copy of this checkout's working tree committed in a scratch
repository (pre-commit clones a commit; ``try-repo`` would leave out files not yet added to git here). One test
runs ``pre-commit try-repo`` as a user trying the hooks would; the others share one pre-commit home (one install)
through a ``.pre-commit-config.yaml`` that names the copy at its commit, as a user's configuration names a
release. Git and pre-commit see no configuration of the user or the system (``HOME`` is a temporary folder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import fsf

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PRE_COMMIT = shutil.which("pre-commit", path=str(BIN)) or shutil.which("pre-commit")
SHIPPED = ("fsf/", "grammar/", "codegen/", "shapes/", "pyproject.toml", "hatch_build.py", "README.md", "LICENSE",
           ".pre-commit-hooks.yaml")
"""What `pip install .` needs of the checkout (the wheel's contents and its build files)."""

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (the `test` extra has it)"),
]

LEDGER = "shape Entry { id: str, note: str }\n\nshape Ledger { name: str, entries: arr[0..64]<Entry> }\n"


def _env(home: Path, pre_commit_home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "PRE_COMMIT", "FSF_", "VIRTUAL_ENV"))}
    env.update({"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid", "GIT_COMMITTER_NAME": "Test",
                "GIT_COMMITTER_EMAIL": "test@example.invalid", "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
                "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(home), "PRE_COMMIT_HOME": str(pre_commit_home),
                "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]), "NO_COLOR": "1"})
    return env


def _run(env: dict[str, str], cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL)


def _git(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = _run(env, cwd, "git", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


class Hooks:
    """The scratch repository of the hooks (a copy of this checkout's working tree at one commit) and the
    environment every command runs with."""

    def __init__(self, where: Path) -> None:
        home = where / "home"
        home.mkdir()
        self.env = _env(home, where / "pre-commit-home")
        self.repo = where / "hooks"
        listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "-co", "--exclude-standard"],
                                capture_output=True, check=True, env=self.env).stdout.decode().split("\0")
        for rel in listed:
            if rel.startswith(SHIPPED) and (ROOT / rel).is_file():
                (self.repo / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / rel, self.repo / rel)
        _git(self.env, self.repo, "init", "-q")
        _git(self.env, self.repo, "add", "-A")
        _git(self.env, self.repo, "commit", "-q", "-m", "hooks")
        self.rev = _git(self.env, self.repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Hooks:
    return Hooks(tmp_path_factory.mktemp("precommit"))


def _breaking_works() -> bool:
    fsf_tool = shutil.which("fsf", path=str(BIN))
    return fsf_tool is not None and subprocess.run([fsf_tool, "breaking", "--help"], capture_output=True,
                                                   check=False).returncode == 0


HOOK_IDS = ["fsf-check", "fsf-fmt", "fsv-verify", "fsv-render-check", "fsv-append-only"]
if _breaking_works():
    HOOK_IDS.append("fsf-breaking")


class Sample:
    """A repository with a store, two schemas, a plan value and its view, and a committed audit record."""

    def __init__(self, top: Path, hooks: Hooks) -> None:
        self.top, self.env = top, hooks.env
        top.mkdir()
        self.git("init", "-q")
        (top / "plan").mkdir()
        shutil.copyfile(ROOT / "shapes" / "forge-plan.fsf", top / "plan" / "forge-plan.fsf")
        (top / "ledger.fsf").write_text(LEDGER, encoding="utf-8")
        fmt = _run(self.env, top, BIN / "fsf", "fmt", "plan/forge-plan.fsf", "ledger.fsf")  # whatever the layout is
        assert fmt.returncode == 0, fmt.stderr
        store = fsf.init_store(top / ".fsf")
        self.plan_schema = fsf.load_schema(top / "plan" / "forge-plan.fsf")
        self.ledger_schema = fsf.load_schema(top / "ledger.fsf")
        store.add_schema(self.plan_schema)
        store.add_schema(self.ledger_schema)
        plan = {"sessionId": "s-1", "title": "A plan", "batches": [], "tasks": [
            {"id": "T1", "title": "One", "status": "todo", "category": "core", "dependsOn": [], "files": [],
             "description": ""}]}
        data = self.plan_schema.encode("ForgePlan", plan)
        (top / "plan" / "plan.fsv").write_bytes(data)
        (top / "plan" / "plan.md").write_text(fsf.render_markdown(self.plan_schema, data), encoding="utf-8")
        (top / "audit").mkdir()
        record = {"name": "ops", "entries": [{"id": "E1", "note": "opened"}]}
        (top / "audit" / "r1.fsv").write_bytes(self.ledger_schema.encode("Ledger", record))
        hook_lines = "".join(f"    -   id: {hook}\n" + self._args(hook) for hook in HOOK_IDS)
        (top / ".pre-commit-config.yaml").write_text(
            f"repos:\n-   repo: {hooks.repo}\n    rev: {hooks.rev}\n    hooks:\n{hook_lines}", encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "sample")

    @staticmethod
    def _args(hook: str) -> str:
        return {"fsv-render-check": "        args: [--schema, plan/forge-plan.fsf, --schema, ledger.fsf]\n",
                "fsv-append-only": "        args: [audit]\n"}.get(hook, "")

    def git(self, *args: str) -> str:
        return _git(self.env, self.top, *args)

    def run(self, *hook: str) -> subprocess.CompletedProcess[str]:
        """``pre-commit run [HOOK] --all-files`` after staging every change."""
        self.git("add", "-A")
        return _run(self.env, self.top, PRE_COMMIT or "pre-commit", "run", *hook, "--all-files")


@pytest.fixture
def sample(tmp_path: Path, hooks: Hooks) -> Iterator[Sample]:
    yield Sample(tmp_path / "sample", hooks)


def _says(done: subprocess.CompletedProcess[str], hook_name_start: str, verdict: str) -> bool:
    return any(line.startswith(hook_name_start) and line.endswith(verdict) for line in done.stdout.splitlines())


def test_try_repo_runs_a_hook_from_the_hooks_repository(tmp_path: Path, hooks: Hooks) -> None:
    sample = Sample(tmp_path / "sample", hooks)
    _edit(sample.top / "ledger.fsf", "arr[0..64]<Entry>", "arr[0..64]<Entyr>")
    sample.git("add", "-A")
    # try-repo installs the hooks into an environment of its own each time (some 25 s): once is enough here.
    done = _run(hooks.env, sample.top, PRE_COMMIT or "pre-commit", "try-repo", hooks.repo, "fsf-check",
                "--all-files")
    assert done.returncode == 1, done.stdout + done.stderr
    assert _says(done, "fsf check (schemas parse and check)", "Failed")
    assert "error[F201]: unknown type `Entyr`" in done.stdout


def test_a_clean_tree_passes_every_hook(sample: Sample) -> None:
    done = sample.run()
    assert done.returncode == 0, done.stdout + done.stderr
    passed = [line for line in done.stdout.splitlines() if line.endswith("Passed")]
    assert len(passed) == len(HOOK_IDS), done.stdout


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_bad_schema_is_caught(sample: Sample) -> None:
    _edit(sample.top / "ledger.fsf", "arr[0..64]<Entry>", "arr[0..64]<Entyr>")
    done = sample.run("fsf-check")
    assert done.returncode == 1
    assert "error[F201]: unknown type `Entyr`" in done.stdout


def test_a_schema_out_of_layout_is_caught(sample: Sample) -> None:
    _edit(sample.top / "ledger.fsf", "shape Entry {", "shape   Entry{")
    done = sample.run("fsf-fmt")
    assert done.returncode == 1
    assert "ledger.fsf" in done.stdout


def test_a_non_canonical_value_is_caught(sample: Sample) -> None:
    path = sample.top / "plan" / "plan.fsv"
    data = path.read_bytes()
    assert data.count(b"\xa3s-1") == 1
    path.write_bytes(data.replace(b"\xa3s-1", b"\xd9\x03s-1"))  # the same text behind a wider head
    done = sample.run("fsv-verify")
    assert done.returncode == 1
    assert "[non_canonical]" in done.stdout


def test_a_stale_view_is_caught(sample: Sample) -> None:
    view = sample.top / "plan" / "plan.md"
    view.write_text(view.read_text(encoding="utf-8").replace("# A plan", "# A better plan"), encoding="utf-8")
    done = sample.run("fsv-render-check")
    assert done.returncode == 1
    assert "view `plan/plan.md` is stale" in done.stdout


def test_a_changed_audit_record_is_caught(sample: Sample) -> None:
    record = {"name": "ops", "entries": [{"id": "E1", "note": "rewritten"}]}
    (sample.top / "audit" / "r1.fsv").write_bytes(sample.ledger_schema.encode("Ledger", record))
    (sample.top / "audit" / "r2.fsv").write_bytes(sample.ledger_schema.encode("Ledger", record))  # new: fine
    done = sample.run("fsv-append-only")
    assert done.returncode == 1
    assert "error: audit/r1.fsv: changed since HEAD" in done.stdout
    (sample.top / "audit" / "r1.fsv").unlink()
    done = sample.run("fsv-append-only")
    assert done.returncode == 1
    assert "error: audit/r1.fsv: removed since HEAD" in done.stdout


@pytest.mark.skipif("fsf-breaking" not in HOOK_IDS, reason="`fsf breaking` is not there yet")
def test_a_breaking_schema_change_is_caught(sample: Sample) -> None:
    _edit(sample.top / "ledger.fsf", "  note: str", "  by: str,\n  note: str")
    done = sample.run("fsf-breaking")
    assert done.returncode == 1, done.stdout
