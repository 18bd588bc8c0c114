"""The shape library's own examples survive an edit: `shapes/forge-plan.fsf` (a copy, in a temporary git repository)
edited in every allowed way, one commit each; every committed example value still decodes, renders and verifies
through the store, and `fsf store import-history` rebuilds that store from the repository's history."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import fsf
from fsf.cli.fsf_tool import app as fsf_app
from fsf.cli.fsv_tool import app as fsv_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "shapes" / "examples" / "forge-plan").glob("*.fsv"))

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

# Each edit: a commit subject and the (old text, new text) replacements it makes in the previous version.
EDITS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("add an optional field", (("  description: str\n}", "  description: str,\n  owner: str?\n}"),)),
    ("add a field with a default", (("  owner: str?\n}", "  owner: str?,\n  @default(3)\n  priority: u8\n}"),)),
    ("rename a field with @was", (("  title: str,\n  status", '  @was("title")\n  name: str,\n  status'),)),
    ("widen a bound", (("dependsOn: arr[0..128]<str>", "dependsOn: arr[0..256]<str>"),)),
    ("make a field optional", (("  category: str,", "  category: str?,"),)),
    ("drop a field", (("  strategy: str,\n  worktreeRef: str\n}", "  strategy: str\n}"),)),
    ("rename a type with @was", (("shape ForgeBatch {", '@was("ForgeBatch")\nshape Batch {'),
                                 ("arr[0..256]<ForgeBatch>", "arr[0..256]<Batch>"))),
    ("reorder fields", (("  sessionId: str,\n  title: str,", "  title: str,\n  sessionId: str,"),)),
    ("change a doc comment only", (("shape ForgePlan {", "/// A plan, as the examples' store reads it.\n"
                                                         "shape ForgePlan {"),)),
)


def _expected(value: dict[str, Any]) -> dict[str, Any]:
    """What an example plan written with the original schema reads as under the last version (by the rules)."""
    out = copy.deepcopy(value)
    out = {"title": out["title"], "sessionId": out["sessionId"], "tasks": out["tasks"], "batches": out["batches"]}
    for task in out["tasks"]:
        task["name"] = task.pop("title")
        task["owner"] = None
        task["priority"] = 3
    out["tasks"] = [{k: t[k] for k in ("id", "name", "status", "category", "dependsOn", "files", "description",
                                       "owner", "priority")} for t in out["tasks"]]
    out["batches"] = [{k: b[k] for k in ("id", "taskIds", "strategy")} for b in out["batches"]]
    return out


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                       "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull,
                       "GIT_CONFIG_NOSYSTEM": "1"}.items():
        monkeypatch.setenv(key, value)
    top = tmp_path / "repo"
    top.mkdir()
    git = ["git", "-C", str(top)]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    schema = top / "forge-plan.fsf"
    text = (ROOT / "shapes" / "forge-plan.fsf").read_text(encoding="utf-8")
    schema.write_text(text, encoding="utf-8")
    for path in EXAMPLES:
        shutil.copy(path, top / path.name)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the users' schema, verbatim"], check=True)
    for subject, replacements in EDITS:
        for old, new in replacements:
            assert text.count(old) == 1, subject
            text = text.replace(old, new)
        schema.write_text(text, encoding="utf-8")
        fsf.load_schema(schema)  # every version checks
        subprocess.run([*git, "commit", "-q", "-am", subject], check=True)
    monkeypatch.chdir(top)
    return top


def test_every_example_value_still_reads_through_a_store_rebuilt_from_history(repo: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(fsf_app, ["store", "init"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(fsf_app, ["store", "import-history", "forge-plan.fsf"])
    assert done.exit_code == 0, done.output
    assert f"{len(EDITS) + 1} revision(s)" in done.output
    store = fsf.open_store()
    original = fsf.load_schema(ROOT / "shapes" / "forge-plan.fsf")
    latest = fsf.load_schema(repo / "forge-plan.fsf")
    assert original.id("ForgePlan") in set(store.type_ids())  # the examples' writer type came from history
    assert latest.id("ForgePlan") != original.id("ForgePlan")
    for path in EXAMPLES:
        data = path.read_bytes()
        got = latest.read(data, store=store)
        assert got.resolved and got.writer_id == original.id("ForgePlan")
        assert got.value == _expected(original.decode(data)), path.name
        latest.verify(data, store=store)
        view = fsf.render_markdown(latest, data, store=store)
        assert original.decode(data)["title"] in view
        assert path.read_bytes() == data  # reading never rewrites
        done = runner.invoke(fsv_app, ["decode", "-s", "forge-plan.fsf", path.name])
        assert done.exit_code == 0, done.output
        done = runner.invoke(fsv_app, ["verify", "-s", "forge-plan.fsf", path.name])
        assert done.exit_code == 0, done.output
    again = runner.invoke(fsf_app, ["store", "import-history", "forge-plan.fsf"])
    assert again.exit_code == 0 and "0 type(s) added" in again.output, again.output
