"""`fsv git install`: what it writes (idempotent) and what `--uninstall` takes back (byte for byte), locally and
globally; then, in a real repository, `git diff` of a committed plan shows a changed task's status as one line and
a schema change between commits field by field (through `fsv show --textconv` and the store). Skipped only
without git."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fsf
from fsf.cli.git import ATTRIBUTES, config_entries, fsv_command

ROOT = Path(__file__).resolve().parents[2]
PLAN_SCHEMA = ROOT / "shapes" / "forge-plan.fsf"
SMALL_PLAN = ROOT / "shapes" / "examples" / "forge-plan" / "ForgePlan.small.fsv"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


class Repo:
    """A git work tree under ``tmp_path`` with its own HOME, global config and no system config."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "repo"
        self.home = tmp_path / "home"
        self.home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("FSF_STORE",)}
        env.update({
            "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config"),
            "GIT_CONFIG_GLOBAL": str(self.home / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_PAGER": "cat", "NO_COLOR": "1",
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        })
        self.env = env
        self.path.mkdir()
        self.git("init", "-q", "-b", "main")

    def run(self, *args: object, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(a) for a in args], cwd=self.path, env=self.env, capture_output=True, text=True,
                              check=False)
        if ok and done.returncode != 0:
            raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def git(self, *args: object) -> str:
        return self.run("git", *args).stdout

    def fsv(self, *args: object) -> str:
        return self.run(sys.executable, "-m", "fsf.cli.fsv_tool", *args).stdout

    def fsf(self, *args: object) -> str:
        return self.run(sys.executable, "-m", "fsf.cli.fsf_tool", *args).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


def _snapshot(*paths: Path) -> dict[Path, bytes | None]:
    return {p: p.read_bytes() if p.exists() else None for p in paths}


def test_install_writes_the_attribute_and_the_drivers(repo: Repo) -> None:
    config = repo.path / ".git" / "config"
    attributes = repo.path / ".gitattributes"
    before = _snapshot(config, attributes)
    first = repo.fsv("git", "install")
    assert attributes.read_text("utf-8") == ATTRIBUTES + "\n"
    written = _snapshot(config, attributes)
    for key, value in config_entries(fsv_command()):
        assert repo.git("config", "--local", "--get", key) == value + "\n"
    assert repo.git("config", "--get", "diff.fsv.textconv") == f"{fsv_command()} show --textconv\n"
    assert repo.git("config", "--get", "merge.fsv.driver").endswith(" merge %O %A %B -o %A\n")
    assert repo.git("config", "--get", "merge.fsv-append-only.driver").endswith(
        " merge --append-only %O %A %B -o %A\n")
    assert repo.git("check-attr", "diff", "merge", "text", "--", "a/b.fsv") == (
        "a/b.fsv: diff: fsv\na/b.fsv: merge: fsv\na/b.fsv: text: unset\n")
    again = repo.fsv("git", "install")
    assert _snapshot(config, attributes) == written  # idempotent
    assert first.count("set        ") == 6 and again.count("unchanged  ") == 7
    repo.fsv("git", "install", "--uninstall")
    assert _snapshot(config, attributes) == before
    assert not attributes.exists()
    repo.fsv("git", "install", "--uninstall")  # nothing left to remove: still fine
    assert _snapshot(config, attributes) == before


def test_uninstall_leaves_everything_else_alone(repo: Repo) -> None:
    config = repo.path / ".git" / "config"
    attributes = repo.path / ".gitattributes"
    attributes.write_bytes(b"*.png binary\r\n# mine\naudit/*.fsv merge=fsv-append-only\n")
    repo.git("config", "diff.fsv.wordRegex", "[^[:space:]]+")
    repo.git("config", "merge.tool", "vimdiff")
    before = _snapshot(config, attributes)
    repo.fsv("git", "install")
    assert attributes.read_bytes() == f"{ATTRIBUTES}\n*.png binary\r\n# mine\naudit/*.fsv merge=fsv-append-only\n".encode()
    assert repo.git("check-attr", "merge", "--", "audit/x.fsv") == "audit/x.fsv: merge: fsv-append-only\n"
    repo.fsv("git", "install", "--uninstall")
    assert _snapshot(config, attributes) == before


def test_global_install(repo: Repo) -> None:
    gitconfig = repo.home / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Someone\n", "utf-8")
    default = repo.home / ".config" / "git" / "attributes"
    local = repo.path / ".git" / "config"
    before = _snapshot(gitconfig, default, local)
    repo.fsv("git", "install", "--global")
    assert default.read_text("utf-8") == ATTRIBUTES + "\n"
    assert repo.git("config", "--global", "--get", "diff.fsv.cachetextconv") == "true\n"
    assert local.read_bytes() == before[local]  # the repository's own config is not touched
    repo.fsv("git", "install", "--global", "--uninstall")
    assert _snapshot(gitconfig, default, local) == before
    # core.attributesFile wins over the XDG default
    custom = repo.home / "my-attributes"
    custom.write_text("*.bin -diff\n", "utf-8")
    repo.git("config", "--global", "core.attributesFile", "~/my-attributes")
    before = _snapshot(gitconfig, custom, default)
    repo.fsv("git", "install", "--global")
    assert custom.read_text("utf-8") == ATTRIBUTES + "\n*.bin -diff\n" and not default.exists()
    repo.fsv("git", "install", "--global", "--uninstall")
    assert _snapshot(gitconfig, custom, default) == before


def test_install_outside_a_repository(tmp_path: Path) -> None:
    repo = Repo(tmp_path)
    shutil.rmtree(repo.path / ".git")
    done = repo.run(sys.executable, "-m", "fsf.cli.fsv_tool", "git", "install", ok=False)
    assert (done.returncode, done.stderr) == (1, "error: not inside a git work tree; run this in one, or use "
                                                 "--global\n")


def _changes(diff: str) -> list[str]:
    """The removed and added lines of a unified diff (not its file headers)."""
    return [line for line in diff.splitlines() if line[:1] in ("+", "-") and not line.startswith(("---", "+++"))]


def _plan_repo(repo: Repo) -> fsf.Schema:
    """The repository with fsv's drivers, a store holding the plan's schema and the small plan committed."""
    repo.fsv("git", "install")
    shutil.copy(PLAN_SCHEMA, repo.path / "forge-plan.fsf")
    shutil.copy(SMALL_PLAN, repo.path / "plan.fsv")
    repo.fsf("store", "init")
    repo.fsf("store", "add", "forge-plan.fsf")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "a plan")
    return fsf.load_schema(PLAN_SCHEMA)


def test_git_diff_shows_one_changed_field_as_one_line(repo: Repo) -> None:
    schema = _plan_repo(repo)
    old = (repo.path / "plan.fsv").read_bytes()
    value = schema.decode(old)
    assert value["tasks"][1]["status"] == "pending"
    value["tasks"][1]["status"] = "done"
    new = schema.encode("ForgePlan", value)
    (repo.path / "plan.fsv").write_bytes(new)
    diff = repo.git("diff", "--no-color", "plan.fsv")
    # The content id in the header changes with every value; of the value's lines, exactly one changed.
    assert _changes(diff) == [f"-# {fsf.content_id(old)}", f"+# {fsf.content_id(new)}",
                              '-    status: "pending"', '+    status: "done"']
    assert "Binary files" not in diff
    repo.git("commit", "-q", "-am", "T2 done")
    assert _changes(repo.git("diff", "--no-color", "HEAD~1", "HEAD", "--", "plan.fsv"))[2:] == [
        '-    status: "pending"', '+    status: "done"']
    assert _changes(repo.git("log", "-p", "--no-color", "-1", "--", "plan.fsv"))[2:] == [
        '-    status: "pending"', '+    status: "done"']


def test_git_diff_across_a_schema_change(repo: Repo) -> None:
    schema = _plan_repo(repo)
    newer_text = PLAN_SCHEMA.read_text("utf-8").replace("  status: str,\n", "  status: str,\n  reviewer: str?,\n")
    assert newer_text != PLAN_SCHEMA.read_text("utf-8")
    (repo.path / "forge-plan.fsf").write_text(newer_text, "utf-8")
    repo.fsf("store", "add", "forge-plan.fsf")
    newer = fsf.compile_source(newer_text)
    old = (repo.path / "plan.fsv").read_bytes()
    value = schema.decode(old)
    value["tasks"][0]["reviewer"] = "Ada"
    value["tasks"][1]["reviewer"] = None
    new = newer.encode("ForgePlan", value)
    (repo.path / "plan.fsv").write_bytes(new)
    repo.git("commit", "-q", "-am", "a reviewer per task")
    diff = repo.git("diff", "--no-color", "HEAD~1", "HEAD", "--", "plan.fsv")
    assert _changes(diff) == [
        f"-# ForgePlan {schema.id('ForgePlan')}", f"-# {fsf.content_id(old)}",
        f"+# ForgePlan {newer.id('ForgePlan')}", f"+# {fsf.content_id(new)}",
        '+    reviewer: "Ada"', "+    reviewer: null"]
    shown = repo.fsv("show", "plan.fsv")
    assert shown.count("    reviewer:") == 2 and shown.count('    status: "') == 2
