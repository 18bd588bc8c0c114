"""Views: golden Markdown for every type of the language and for the ForgePlan view, provenance, lookup, drift."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import blake3
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import fsf
from fsf import views
from fsf.cli.render import render as render_command
from fsf.render import render_value
from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "views"
PLAN_SCHEMA = ROOT / "shapes" / "forge-plan.fsf"
FRAGMENT = Path("/work/shared/reference/forge-plan-fragment.md")

EVERY_TYPE = """
/// How far along a task is.
enum Status {
  /// Not started yet.
  pending,
  done,
}

/// Someone who works on the plan.
shape Person {
  /// Display name.
  name: str[1..64],
  email: str?,
  age: u8,
}

/// What came of a task.
union Outcome {
  /// Nothing yet.
  Waiting,
  Merged { commit: hash, at: time },
  Failed { reason: str, retries: u8 },
}

/// A tree node: recursive, so nesting deeper than six headings.
shape Node { label: str, children: arr[0..4]<Node> }

/// Every type of the language in one shape.
shape Everything {
  /// A switch.
  flag: bool,
  small: i8,
  big: u64,
  neg: i64,
  ratio: f64,
  half: f32,
  /// Free text, with its doc comment
  /// on two lines.
  text: str,
  blob: bytes,
  empty: bytes,
  digest: hash,
  at: time,
  plan: ref<Everything>?,
  status: Status,
  /// The owner, a nested shape.
  owner: Person,
  maybeOwner: Person?,
  tags: arr[0..8]<str>,
  noTags: arr[0..8]<str>,
  people: arr[0..8]<Person>,
  matrix: arr[0..4]<arr[0..4]<i32>>,
  scores: map[0..8]<str, u32>,
  byStatus: map[0..4]<Status, Person>,
  byNumber: map[0..4]<u16, str>,
  outcome: Outcome,
  history: arr[0..8]<Outcome>,
  tree: Node,
  note: str?,
}
"""


def everything() -> dict[str, Any]:
    alice = {"name": "Alice", "email": "alice@example.com", "age": 41}
    bob = {"name": "Bob", "email": None, "age": 7}
    return {
        "flag": True, "small": -128, "big": 2**64 - 1, "neg": -(2**63), "ratio": 0.1, "half": 1.5,
        "text": "plain text, nothing special", "blob": b"\x00\x01\xfe\xff", "empty": b"",
        "digest": bytes(range(32)), "at": 1_763_717_272_500_000_000, "plan": "blake3:" + "ab" * 32,
        "status": "done", "owner": alice, "maybeOwner": None, "tags": ["alpha", "beta"], "noTags": [],
        "people": [alice, bob], "matrix": [[1, 2], [], [3]], "scores": {"zeta": 3, "alpha": 1},
        "byStatus": {"done": alice, "pending": bob}, "byNumber": {10: "ten", 2: "two"},
        "outcome": {"Merged": {"commit": bytes(32), "at": 0}},
        "history": [{"Waiting": {}}, {"Failed": {"reason": "flaky", "retries": 2}}],
        "tree": {"label": "root", "children": [{"label": "a", "children": []}, {"label": "b", "children": []}]},
        "note": None,
    }


def deep_tree(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"label": f"level {depth}", "children": []}
    for level in range(depth - 1, 0, -1):
        node = {"label": f"level {level}", "children": [node]}
    return node


GENERIC_CASES: dict[str, tuple[str, Any]] = {
    "generic-everything.md": ("Everything", everything()),
    "generic-enum.md": ("Status", "pending"),
    "generic-union-unit.md": ("Outcome", {"Waiting": {}}),
    "generic-union.md": ("Outcome", {"Failed": {"reason": "timeout after 30 s", "retries": 3}}),
    "generic-person-absent.md": ("Person", {"name": "Bob", "age": 7}),
    "generic-deep.md": ("Node", deep_tree(9)),
}


@pytest.fixture(scope="module")
def every_type() -> fsf.Schema:
    return fsf.compile_source(EVERY_TYPE, "every-type.fsf")


@pytest.fixture(scope="module")
def plan_schema() -> fsf.Schema:
    return fsf.load_schema(PLAN_SCHEMA)


@pytest.mark.parametrize("case", sorted(GENERIC_CASES))
def test_generic_view_of_every_type(every_type: fsf.Schema, case: str, golden: Golden) -> None:
    name, value = GENERIC_CASES[case]
    data = every_type.encode(name, value)
    golden.text(GOLDEN / case, fsf.render_markdown(every_type, data))


WORDS = ("manifest", "kernel", "worker", "pool", "stream", "panel", "token", "cache", "index", "report", "guide",
         "bench", "soak", "retry", "schema", "codec", "view", "batch")
STATUSES = ("pending", "in_progress", "done", "blocked")
CATEGORIES = ("implementation", "testing", "docs", "ui", "review")


def forge_plan(tasks: int, seed: int = 7) -> dict[str, Any]:
    """A seeded, realistic ForgePlan with ``tasks`` tasks in batches of up to four."""
    rng = random.Random(seed)
    ids = [f"T{i + 1}" for i in range(tasks)]

    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    plan_tasks = []
    for i, task_id in enumerate(ids):
        plan_tasks.append({
            "id": task_id,
            "title": words(3).title(),
            "status": rng.choice(STATUSES),
            "category": rng.choice(CATEGORIES),
            "dependsOn": sorted(set(rng.sample(ids[:i], min(i, rng.randint(0, 2)))), key=ids.index),
            "files": [f"crates/{rng.choice(WORDS)}/src/{rng.choice(WORDS)}_{j}.rs" for j in range(rng.randint(0, 2))],
            "description": words(rng.randint(4, 9)).capitalize() + ".",
        })
    batches = []
    for b, start in enumerate(range(0, tasks, 4)):
        batches.append({"id": str(b + 1), "taskIds": ids[start:start + 4],
                        "strategy": rng.choice(("sequential", "parallel")),
                        "worktreeRef": f"forge/seeded/batch-{b + 1}"})
    return {"sessionId": f"forge-seeded-{tasks}", "title": f"Seeded plan of {tasks} tasks",
            "tasks": plan_tasks, "batches": batches[:256]}


@pytest.mark.parametrize("tasks", [2, 8, 512])
def test_forge_plan_view(plan_schema: fsf.Schema, tasks: int, golden: Golden) -> None:
    data = plan_schema.encode("ForgePlan", forge_plan(tasks))
    golden.text(GOLDEN / f"forge-plan-{tasks}.md", fsf.render_markdown(plan_schema, data))


def _fragment_plan() -> dict[str, Any]:
    """The plan the reference fragment shows (titles, statuses, batches), with files and descriptions."""
    def task(i: int, title: str, deps: list[str], files: list[str]) -> dict[str, Any]:
        return {"id": f"T{i}", "title": title, "status": "done", "category": "implementation", "dependsOn": deps,
                "files": files, "description": ""}
    return {
        "sessionId": "vortex", "title": "Vortex",
        "tasks": [
            task(1, "Crate Refactor: WASM-Compatible VortexManifest", [], ["crates/vortex-manifest/Cargo.toml"]),
            task(2, "Maelstrom: Native Resonance Inference", ["T1"], ["crates/maelstrom/src/kernel/reiz_model.rs"]),
        ],
        "batches": [
            {"id": "1", "taskIds": ["T1"], "strategy": "sequential", "worktreeRef": "Core Struct Migration"},
            {"id": "2", "taskIds": ["T2", "T3"], "strategy": "parallel", "worktreeRef": "Kernel & Worker"},
        ],
    }


@pytest.mark.skipif(not FRAGMENT.exists(), reason="the shared reference fragment is not on this machine")
def test_forge_plan_view_reproduces_the_reference_fragment(plan_schema: fsf.Schema) -> None:
    rendered = render_value(plan_schema, "ForgePlan", _fragment_plan()).splitlines()
    fragment = FRAGMENT.read_text(encoding="utf-8").splitlines()
    # The task sections match line for line, except that the fragment elides further files with `, ...`.
    start = rendered.index("### T1: Crate Refactor: WASM-Compatible VortexManifest")
    for offset, line in enumerate(fragment[:fragment.index("## Execution Batches") - 1]):
        assert rendered[start + offset] == line.replace(", ...", ""), line
    # The batch table: same header start and the same cells in the first three columns, unpadded.
    table = rendered[rendered.index("## Execution Batches"):]
    assert table[2].startswith("| Batch | Tasks | Strategy |")
    assert table[4:6] == ["| 1 | T1 | sequential | `Core Struct Migration` |",
                          "| 2 | T2,T3 | parallel | `Kernel & Worker` |"]


def test_forge_plan_bullets(plan_schema: fsf.Schema) -> None:
    plan = forge_plan(3, seed=1)
    plan["tasks"][0].update(dependsOn=[], files=[])
    plan["tasks"][2].update(dependsOn=["T1", "T2"], files=["a.rs", "b c.rs"])
    lines = render_value(plan_schema, "ForgePlan", plan).splitlines()
    t1 = lines.index(f"### T1: {plan['tasks'][0]['title']}")
    assert lines[t1 + 3:t1 + 5] == ["- **Depends on**: none", "- **Files**: none"]
    t3 = lines.index(f"### T3: {plan['tasks'][2]['title']}")
    assert lines[t3 + 3:t3 + 5] == ["- **Depends on**: T1, T2", "- **Files**: `a.rs`, `b c.rs`"]


# --- Provenance and determinism -------------------------------------------------------------------------------


def test_provenance_line_names_value_type_and_template(plan_schema: fsf.Schema) -> None:
    data = plan_schema.encode("ForgePlan", forge_plan(2))
    text = fsf.render_markdown(plan_schema, data)
    template_hash = "blake3:" + blake3.blake3((ROOT / "shapes" / "ForgePlan.md.j2").read_bytes()).hexdigest()
    assert text.splitlines()[0] == (
        "<!-- generated by fsv render, not canonical (edit the value, not this view): "
        f"value={fsf.content_id(data)} type=ForgePlan schema={plan_schema.id('ForgePlan')} "
        f"template={template_hash} -->")
    origin = views.read_provenance(text)
    assert origin == views.Provenance(fsf.content_id(data), "ForgePlan", plan_schema.id("ForgePlan"), template_hash)
    assert views.read_provenance("# just a document\n") is None


def test_rendering_is_deterministic_across_processes(plan_schema: fsf.Schema) -> None:
    data = plan_schema.encode("ForgePlan", forge_plan(8))
    here = fsf.render_markdown(plan_schema, data)
    script = ("import sys, fsf; s = fsf.load_schema(sys.argv[1]); "
              "sys.stdout.buffer.write(fsf.render_markdown(s, sys.stdin.buffer.read()).encode())")
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": "C", "TZ": "Pacific/Kiritimati"}
        out = subprocess.run([sys.executable, "-c", script, str(PLAN_SCHEMA)], input=data, capture_output=True,
                             env=env, check=True).stdout
        assert out.decode("utf-8") == here


def test_render_value_matches_render_markdown(every_type: fsf.Schema) -> None:
    value = everything()
    data = every_type.encode("Everything", value)
    assert render_value(every_type, "Everything", value) == fsf.render_markdown(every_type, data)


def test_render_value_validates_first(every_type: fsf.Schema) -> None:
    with pytest.raises(fsf.ValidationError) as err:
        render_value(every_type, "Person", {"name": "", "age": 1})
    assert str(err.value).endswith("- at `$.name`")


def test_map_entries_follow_canonical_order_whatever_the_dict_order(every_type: fsf.Schema) -> None:
    a = {**everything(), "scores": {"b": 2, "a": 1, "c": 3}}
    b = {**everything(), "scores": {"c": 3, "b": 2, "a": 1}}
    assert render_value(every_type, "Everything", a) == render_value(every_type, "Everything", b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_generic_view_renders_every_generated_schema_and_value(data: st.DataObject) -> None:
    from tests.support.strategies import schema_texts, values

    schema = fsf.compile_source(data.draw(schema_texts()))
    name = data.draw(st.sampled_from(schema.shapes))
    value = data.draw(values(schema.ir, name))
    encoded = schema.encode(name, value)
    text = fsf.render_markdown(schema, encoded)
    assert text == fsf.render_markdown(schema, encoded)
    assert views.read_provenance(text) is not None
    assert text.endswith("\n") and not text.endswith("\n\n")


# --- Template lookup ------------------------------------------------------------------------------------------


def test_template_lookup_order(tmp_path: Path, plan_schema: fsf.Schema) -> None:
    data = plan_schema.encode("ForgePlan", forge_plan(2))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "ForgePlan.md.j2").write_text("mine: {{ value.title }}\n", encoding="utf-8")
    explicit = tmp_path / "explicit.md.j2"
    explicit.write_text("explicit: {{ value.sessionId }}\n", encoding="utf-8")
    # --templates first, then the schema's folder, then the bundled view of the type's id (tests/views/
    # test_bundled.py), then the bundled generic template.
    body = fsf.render_markdown(plan_schema, data, template_dirs=[mine, PLAN_SCHEMA.parent]).splitlines()[1]
    assert body == "mine: Seeded plan of 2 tasks"
    body = fsf.render_markdown(plan_schema, data).splitlines()[1]
    assert body == "# Seeded plan of 2 tasks"
    body = fsf.render_markdown(plan_schema, data, template_dirs=[]).splitlines()[1]
    assert body == "# Seeded plan of 2 tasks"
    body = fsf.render_markdown(plan_schema, data, views.BUNDLED_DIR / views.GENERIC_TEMPLATE).splitlines()[1]
    assert body == "# ForgePlan"
    body = fsf.render_markdown(plan_schema, data, explicit, template_dirs=[mine]).splitlines()[1]
    assert body == "explicit: forge-seeded-2"


def test_a_compiled_schema_finds_templates_next_to_its_file(tmp_path: Path) -> None:
    (tmp_path / "plan.fsf").write_text("shape Note { text: str }\n", encoding="utf-8")
    (tmp_path / "Note.md.j2").write_text("note: {{ value.text }}\n", encoding="utf-8")
    schema = fsf.load_schema(tmp_path / "plan.fsf")
    assert schema.origin == str(tmp_path / "plan.fsf")
    text = fsf.render_markdown(schema, schema.encode("Note", {"text": "hi"}))
    assert text.splitlines()[1:] == ["note: hi"]


# --- The `fsv render` command and the drift check --------------------------------------------------------------


def _app() -> typer.Typer:
    try:
        from fsf.cli.fsv_tool import app
    except ImportError:  # pragma: no cover - before the fsv command exists
        app = typer.Typer()
        app.callback()(lambda: None)
        app.command("render")(render_command)
    return app


def run(*args: str) -> Any:
    return CliRunner().invoke(_app(), ["render", *args], catch_exceptions=False)


@pytest.fixture
def plan_files(tmp_path: Path, plan_schema: fsf.Schema) -> tuple[Path, Path, bytes]:
    value = tmp_path / "plan.fsv"
    data = plan_schema.encode("ForgePlan", forge_plan(8))
    value.write_bytes(data)
    return value, tmp_path / "plan.md", data


def test_render_to_stdout_and_file(plan_files: tuple[Path, Path, bytes], plan_schema: fsf.Schema) -> None:
    value, view, data = plan_files
    expected = fsf.render_markdown(plan_schema, data)
    result = run("--schema", str(PLAN_SCHEMA), str(value))
    assert (result.exit_code, result.stdout) == (0, expected)
    result = run("--schema", str(PLAN_SCHEMA), str(value), "-o", str(view))
    assert result.exit_code == 0
    assert view.read_text(encoding="utf-8") == expected


def test_fresh_view_passes_the_check(plan_files: tuple[Path, Path, bytes]) -> None:
    value, view, _ = plan_files
    run("--schema", str(PLAN_SCHEMA), str(value), "-o", str(view))
    result = run("--schema", str(PLAN_SCHEMA), str(value), "--check", str(view))
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"ok  {view}\n", "")


def test_one_changed_character_fails_with_a_diff_and_fix_repairs_it(plan_files: tuple[Path, Path, bytes]) -> None:
    value, view, _ = plan_files
    run("--schema", str(PLAN_SCHEMA), str(value), "-o", str(view))
    fresh = view.read_text(encoding="utf-8")
    view.write_text(fresh.replace("- **Status**: ", "- **Status**:  ", 1), encoding="utf-8")
    result = run("--schema", str(PLAN_SCHEMA), str(value), "--check", str(view))
    assert result.exit_code == 1
    changed = next(line for line in fresh.splitlines() if line.startswith("- **Status**: "))
    assert result.stdout.startswith(f"--- {view} (committed)\n+++ {view} (rendered)\n@@ ")
    assert f"\n-{changed.replace(': ', ':  ')}\n+{changed}\n" in result.stdout
    assert result.stderr == (f"error: view `{view}` is stale: it differs from a fresh render (diff above); "
                             "run with --fix to rewrite it\n")
    result = run("--schema", str(PLAN_SCHEMA), str(value), "--check", str(view), "--fix")
    assert (result.exit_code, result.stdout) == (0, f"fixed  {view}\n")
    assert view.read_text(encoding="utf-8") == fresh
    assert run("--schema", str(PLAN_SCHEMA), str(value), "--check", str(view)).exit_code == 0


def test_check_of_a_missing_view(plan_files: tuple[Path, Path, bytes]) -> None:
    value, view, _ = plan_files
    result = run("--schema", str(PLAN_SCHEMA), str(value), "--check", str(view))
    assert (result.exit_code, result.stderr) == (1, f"error: view `{view}` does not exist; run with --fix to "
                                                    "write it\n")
    assert run("--schema", str(PLAN_SCHEMA), str(value), "--check", str(view), "--fix").exit_code == 0
    assert view.exists()


def test_a_failed_render_leaves_the_existing_view_untouched(plan_files: tuple[Path, Path, bytes],
                                                            tmp_path: Path) -> None:
    value, view, _ = plan_files
    view.write_text("precious\n", encoding="utf-8")
    broken = tmp_path / "broken.md.j2"
    broken.write_text("{{ value.tasks[0].nope }}\n", encoding="utf-8")
    for extra in (["-o", str(view)], ["--check", str(view), "--fix"]):
        result = run("--schema", str(PLAN_SCHEMA), str(value), "--template", str(broken), *extra)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: {broken}:1: template error: ")
        assert view.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.md.j2", "plan.fsv", "plan.md"]


def test_writes_go_through_write_atomic(plan_files: tuple[Path, Path, bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    value, view, _ = plan_files
    written: list[Path] = []
    import fsf.cli.render

    real = fsf.cli.render.write_atomic

    def spy(path: Any, data: bytes) -> None:
        written.append(Path(path))
        real(path, data)

    monkeypatch.setattr(fsf.cli.render, "write_atomic", spy)
    run("--schema", str(PLAN_SCHEMA), str(value), "-o", str(view))
    view.write_text("stale\n", encoding="utf-8")
    run("--schema", str(PLAN_SCHEMA), str(value), "--check", str(view), "--fix")
    assert written == [view, view]


def test_markdown_is_never_the_input_of_render(plan_files: tuple[Path, Path, bytes]) -> None:
    value, view, _ = plan_files
    run("--schema", str(PLAN_SCHEMA), str(value), "-o", str(view))
    result = run("--schema", str(PLAN_SCHEMA), str(view))
    assert result.exit_code == 2
    assert result.stderr == (f"error: `{view}` is a Markdown view: generated from a value and not canonical, so it "
                             "cannot be rendered as a view; use the `.fsv` value (or its `.json` form) it was "
                             "rendered from\n")


def test_command_line_mistakes_exit_2(plan_files: tuple[Path, Path, bytes]) -> None:
    value, view, _ = plan_files
    cases = [
        ((), "error: give one value to render (IN.fsv) or --check-dir DIR, not both\n"),
        ((str(value), "--check-dir", "."), "error: give one value to render (IN.fsv) or --check-dir DIR, not both\n"),
        ((str(value), "-o", str(view), "--check", str(view)),
         "error: --output cannot be combined with --check or --check-dir\n"),
        ((str(value), "--fix"), "error: --fix needs --check OUT.md or --check-dir DIR\n"),
    ]
    for args, message in cases:
        result = run("--schema", str(PLAN_SCHEMA), *args)
        assert (result.exit_code, result.stderr) == (2, message)
    result = run("--schema", str(PLAN_SCHEMA), "--schema", str(PLAN_SCHEMA), str(value))
    assert (result.exit_code, result.stderr) == (2, "error: give one --schema to render a value (several only with "
                                                    "--check-dir)\n")
    result = run("--schema", str(PLAN_SCHEMA), str(value), "-o", str(value.with_suffix(".json")))
    assert result.exit_code == 2
    assert "not written as a Markdown view" in result.stderr


def _tree(tmp_path: Path, plan_schema: fsf.Schema) -> dict[str, Path]:
    """A project tree: two values with fresh views, a plain document and a view in a sub-folder."""
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    paths = {}
    for stem, tasks, where in (("a", 2, docs), ("b", 3, docs / "sub")):
        value = where / f"{stem}.fsv"
        value.write_bytes(plan_schema.encode("ForgePlan", forge_plan(tasks)))
        assert run("--schema", str(PLAN_SCHEMA), str(value), "-o", str(where / f"{stem}.md")).exit_code == 0
        paths[stem] = where / f"{stem}.md"
    (docs / "README.md").write_text("# Not a view\n", encoding="utf-8")
    return paths


def test_bulk_check_of_a_fresh_tree(tmp_path: Path, plan_schema: fsf.Schema) -> None:
    paths = _tree(tmp_path, plan_schema)
    result = run("--schema", str(PLAN_SCHEMA), "--check-dir", str(tmp_path))
    assert result.exit_code == 0
    assert result.stdout == f"ok  {paths['a']}\nok  {paths['b']}\n"
    assert result.stderr == f"2 view(s) checked under `{tmp_path}`: 0 stale, 0 failed\n"


def test_bulk_check_finds_hand_edits_and_edited_values_and_fix_repairs(tmp_path: Path,
                                                                        plan_schema: fsf.Schema) -> None:
    paths = _tree(tmp_path, plan_schema)
    fresh_a = paths["a"].read_text(encoding="utf-8")
    paths["a"].write_text(fresh_a.replace("## Tasks", "## Taks"), encoding="utf-8")
    # b's value changes after its view was rendered: the view names a content id that no longer exists.
    paths["b"].with_suffix(".fsv").write_bytes(plan_schema.encode("ForgePlan", forge_plan(4)))
    result = run("--schema", str(PLAN_SCHEMA), "--check-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "-## Taks\n+## Tasks\n" in result.stdout
    assert "+### T4: " in result.stdout
    assert result.stderr.endswith(f"2 view(s) checked under `{tmp_path}`: 2 stale, 0 failed\n")
    result = run("--schema", str(PLAN_SCHEMA), "--check-dir", str(tmp_path), "--fix")
    assert (result.exit_code, result.stdout) == (0, f"fixed  {paths['a']}\nfixed  {paths['b']}\n")
    assert paths["a"].read_text(encoding="utf-8") == fresh_a
    assert run("--schema", str(PLAN_SCHEMA), "--check-dir", str(tmp_path)).exit_code == 0


def test_bulk_check_reports_a_view_whose_value_is_gone(tmp_path: Path, plan_schema: fsf.Schema) -> None:
    paths = _tree(tmp_path, plan_schema)
    paths["a"].with_suffix(".fsv").unlink()
    result = run("--schema", str(PLAN_SCHEMA), "--check-dir", str(tmp_path), "--fix")
    named = views.read_provenance(paths["a"].read_text(encoding="utf-8"))
    assert named is not None
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: view `{paths['a']}` names value {named.value}, which no `.fsv` under `{tmp_path}` has "
        "(and there is no `a.fsv` next to it)\n"
        f"1 view(s) checked under `{tmp_path}`: 0 stale, 1 failed\n")


def test_templates_read_every_kind_of_value(every_type: fsf.Schema, tmp_path: Path) -> None:
    template = tmp_path / "Everything.md.j2"
    template.write_text(
        "{{ value.flag }} {{ value.small }} {{ value.ratio }} {{ value.at }} {{ value.at.ns }} {{ value.at | time }}\n"
        "{{ value.blob }} {{ value.blob.hex }} {{ value.blob.size }} {{ value.digest | code }} {{ value.plan }}\n"
        "{{ value.status }} {{ value.owner.name }} {{ value['owner']['age'] }} {{ value.maybeOwner is none }}\n"
        "{{ value.outcome.name }} {{ value.outcome.fields.at }} {{ value.history[1].fields.reason }}\n"
        "{% for k, p in value.byStatus.items() %}{{ k }}={{ p.name }} {% endfor %}"
        "{{ value.scores | list | join(',') }} {{ value.matrix | length }} {{ value.tree.children[1].label }}\n"
        "{{ type_name }} {{ type_id[:7] }} {{ value_id[:7] }}\n", encoding="utf-8")
    data = every_type.encode("Everything", everything())
    lines = fsf.render_markdown(every_type, data, template).splitlines()[1:]
    assert lines == [
        "true -128 0.1 2025-11-21T09:27:52.500Z 1763717272500000000 2025-11-21T09:27:52.500Z",
        "AAH+/w== 0001feff 4 `blake3:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f` "
        "blake3:abababababababababababababababababababababababababababababababab",
        "done Alice 41 true",
        "Merged 1970-01-01T00:00:00Z flaky",
        "pending=Bob done=Alice alpha,zeta 3 b",
        "Everything blake3: blake3:",
    ]


def test_bulk_check_with_several_schemas(tmp_path: Path, plan_schema: fsf.Schema) -> None:
    paths = _tree(tmp_path, plan_schema)
    other = tmp_path / "note.fsf"
    other.write_text("shape Note { text: str }\n", encoding="utf-8")
    note = fsf.load_schema(other)
    (tmp_path / "note.fsv").write_bytes(note.encode("Note", {"text": "hello"}))
    assert run("--schema", str(other), str(tmp_path / "note.fsv"), "-o", str(tmp_path / "note.md")).exit_code == 0
    result = run("--schema", str(PLAN_SCHEMA), "--check-dir", str(tmp_path))
    assert result.exit_code == 0
    assert result.stderr == (f"skipped  {tmp_path / 'note.md'}: its value `{tmp_path / 'note.fsv'}` is not of a "
                             f"type of the given schema(s)\n2 view(s) checked under `{tmp_path}`: 0 stale, 0 failed\n")
    with open(tmp_path / "note.md", "a", encoding="utf-8") as fh:
        fh.write("edited\n")
    result = run("--schema", str(PLAN_SCHEMA), "--schema", str(other), "--check-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "\n-edited\n" in result.stdout
    assert result.stderr.endswith(f"3 view(s) checked under `{tmp_path}`: 1 stale, 0 failed\n")
    assert f"ok  {paths['a']}\n" in result.stdout
