"""The shape library: schemas check clean, cover the language, and every example encodes, decodes and renders."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import blake3
import pytest
from typer.testing import CliRunner

import fsf
from fsf import ir
from fsf.cli.fsf_tool import app as fsf_app
from fsf.errors import Source
from fsf.load import load_modules, read_text

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "shapes"
EXAMPLES = SHAPES / "examples"
REFERENCE_PLAN = Path("/work/shared/reference/forge-plan.fsf")
REFERENCE_PLAN_BLAKE3 = "41f5c330e6be75d7ee2bcf82e0b2a76d45bc11e6cf7f08bf8ce094c276249dfa"
"""BLAKE3 of the users' forge-plan.fsf, so that the copy is checked where the reference file is not at hand."""

SCHEMA_FILES = sorted(SHAPES.glob("*.fsf"))
VERBATIM = {"forge-plan.fsf"}
"""Files copied verbatim from users (no doc comments of ours may be added)."""


def _load_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shapes_examples_build", EXAMPLES / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
EXAMPLE_LIST = build.discover(EXAMPLES)


def example_id(example: Any) -> str:
    return f"{example.json_path.parent.name}/{example.json_path.name}"


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


needs_codec = pytest.mark.skipif(not _has("fsf.fsv.codec") or not _has("fsf.fsv.jsonform"),
                                 reason="the FSV codec (fsf/fsv/codec.py, fsf/fsv/jsonform.py) has not landed")
needs_views = pytest.mark.skipif(not _has("fsf.views"), reason="the Markdown views (fsf/views/__init__.py) have not landed")
needs_artifacts = pytest.mark.skipif(not _has("fsf.artifacts"),
                                     reason="the artifact table (fsf/artifacts.py) has not landed")
needs_validator = pytest.mark.skipif(not _has("fsf.bytecode.compile"), reason="the validators (fsf/bytecode/compile.py) have not landed")


# --- Schemas --------------------------------------------------------------------------------------------------


def test_forge_plan_is_the_users_file_byte_for_byte() -> None:
    data = (SHAPES / "forge-plan.fsf").read_bytes()
    assert blake3.blake3(data).hexdigest() == REFERENCE_PLAN_BLAKE3
    if REFERENCE_PLAN.is_file():
        assert data == REFERENCE_PLAN.read_bytes()


def test_the_library_has_every_schema_of_the_issue() -> None:
    names = {p.name for p in SCHEMA_FILES}
    assert names >= {"forge-plan.fsf", "forge-report.fsf", "artifacts.fsf", "audit.fsf", "quota.fsf",
                     "dispatch.fsf", "usage.fsf", "routing.fsf", "common.fsf"}


def test_fsf_check_is_clean_on_every_shape() -> None:
    result = CliRunner().invoke(fsf_app, ["check", *map(str, SCHEMA_FILES)])
    assert (result.exit_code, result.output) == (0, "")


def test_our_shapes_are_in_the_canonical_layout_of_fsf_fmt() -> None:
    ours = [str(p) for p in SCHEMA_FILES if p.name not in VERBATIM]
    result = CliRunner().invoke(fsf_app, ["fmt", "--check", *ours])
    assert (result.exit_code, result.output) == (0, "")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_type_field_member_and_variant_has_a_doc_comment(path: Path) -> None:
    if path.name in VERBATIM:
        pytest.skip("copied verbatim from the users' schema")
    schema = fsf.load_schema(path)
    verbatim = {name for v in VERBATIM for name in fsf.load_schema(SHAPES / v).shapes}
    missing = []
    for decl in schema.ir.decls:
        if decl.name in verbatim:
            continue
        parts: list[tuple[str, str]] = [(decl.name, decl.doc)]
        if isinstance(decl, ir.Shape):
            parts += [(f"{decl.name}.{f.name}", f.doc) for f in decl.fields]
        elif isinstance(decl, ir.Enum):
            parts += [(f"{decl.name}.{m.name}", m.doc) for m in decl.members]
        else:
            for v in decl.variants:
                parts += [(f"{decl.name}.{v.name}", v.doc)]
                parts += [(f"{decl.name}.{v.name}.{f.name}", f.doc) for f in v.fields]
        missing += [name for name, doc in parts if not doc.strip()]
    assert missing == []


def _all_types(schema: ir.Schema) -> Iterator[ir.Type]:
    for decl in schema.decls:
        stack = list(ir.decl_types(decl))
        while stack:
            t = stack.pop()
            yield t
            stack.extend(ir.children(t))


def _closure(schema: ir.Schema, name: str) -> set[str]:
    """The named types that a value of ``name`` contains, through any depth (``ref<T>`` does not count)."""
    seen: set[str] = set()
    todo = list(ir.references(schema[name]))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(ir.references(schema[n]))
    return seen


def constructs_used() -> dict[str, set[str]]:
    """Each construct of the language -> the schema files (with their imports) whose IR uses it."""
    used: dict[str, set[str]] = {}

    def mark(construct: str, where: str) -> None:
        used.setdefault(construct, set()).add(where)

    for path in SCHEMA_FILES:
        where = path.name
        modules, problems = load_modules(Source(str(path), read_text(str(path))))
        assert problems == []
        if any(m.imports for m in modules):
            mark("import", where)
        schema = fsf.load_schema(path).ir
        for t in _all_types(schema):
            if isinstance(t, ir.Int):
                mark(t.kind, where)
                if (t.lo, t.hi) != ir.INT_RANGES[t.kind]:
                    mark("bounds on integers", where)
            elif isinstance(t, ir.Float):
                mark(t.kind, where)
                if t.lo is not None:
                    mark("bounds on floats", where)
            elif isinstance(t, (ir.Str, ir.Bytes)):
                kind = "str" if isinstance(t, ir.Str) else "bytes"
                mark(kind, where)
                if (t.lo, t.hi) != (0, None):
                    mark(f"bounds on {kind}", where)
            elif isinstance(t, ir.Bool):
                mark("bool", where)
            elif isinstance(t, ir.Hash):
                mark("hash", where)
            elif isinstance(t, ir.Time):
                mark("time", where)
            elif isinstance(t, ir.Ref):
                mark("ref<T>", where)
            elif isinstance(t, ir.Optional):
                mark("optional `?`", where)
                if isinstance(t.inner, ir.Named):
                    mark("optional named type", where)
            elif isinstance(t, ir.Array):
                mark("arr[lo..hi]<T>", where)
                if t.lo > 0:
                    mark("arr with a lower bound above 0", where)
            elif isinstance(t, ir.Map):
                mark("map[lo..hi]<K, V>", where)
                key = t.key
                if isinstance(key, ir.Str):
                    mark("map with str keys", where)
                elif isinstance(key, ir.Int):
                    mark("map with integer keys", where)
                elif isinstance(key, ir.Named) and isinstance(schema[key.name], ir.Enum):
                    mark("map with enum keys", where)
        for decl in schema.decls:
            if isinstance(decl, ir.Shape):
                mark("shape", where)
            elif isinstance(decl, ir.Enum):
                mark("enum", where)
            else:
                mark("union", where)
                if any(not v.fields for v in decl.variants):
                    mark("union unit variant", where)
                if any(v.fields for v in decl.variants):
                    mark("union variant with fields", where)
            if decl.doc:
                mark("doc comment", where)
            closure = _closure(schema, decl.name)
            if decl.name in closure:
                mark("recursion", where)
            if any(t.target == decl.name for n in closure | {decl.name} for t in _own_refs(schema[n])):
                mark("ref<T> to its own type (a chain)", where)
    return used


def _own_refs(decl: ir.Decl) -> Iterator[ir.Ref]:
    stack = list(ir.decl_types(decl))
    while stack:
        t = stack.pop()
        if isinstance(t, ir.Ref):
            yield t
        stack.extend(ir.children(t))


CONSTRUCTS = (
    "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "str", "bytes", "hash", "time",
    "ref<T>", "ref<T> to its own type (a chain)", "bounds on str", "bounds on bytes", "bounds on integers",
    "bounds on floats", "optional `?`", "optional named type", "arr[lo..hi]<T>", "arr with a lower bound above 0",
    "map[lo..hi]<K, V>", "map with str keys", "map with integer keys", "map with enum keys", "shape", "enum",
    "union", "union unit variant", "union variant with fields", "recursion", "import", "doc comment",
)


def test_the_shapes_use_every_construct_of_the_language() -> None:
    used = constructs_used()
    assert [c for c in CONSTRUCTS if c not in used] == []
    assert sorted(set(used) - set(CONSTRUCTS)) == []


# --- Examples -------------------------------------------------------------------------------------------------


def test_every_schema_has_at_least_two_examples() -> None:
    counts = {p.stem: 0 for p in SCHEMA_FILES if p.name != "common.fsf"}
    for example in EXAMPLE_LIST:
        counts[example.schema_path.stem] += 1
    assert {stem: n for stem, n in counts.items() if n < 2} == {}


def test_every_example_names_a_schema_and_a_type_of_it() -> None:
    for example in EXAMPLE_LIST:
        assert example.schema_path.is_file(), example_id(example)
        assert example.root in fsf.load_schema(example.schema_path).shapes, example_id(example)


def test_the_example_plan_has_at_least_8_tasks_in_3_batches() -> None:
    plan = json.loads((EXAMPLES / "forge-plan" / "ForgePlan.vortex.json").read_text(encoding="utf-8"))
    assert len(plan["tasks"]) >= 8 and len(plan["batches"]) == 3
    ids = {t["id"] for t in plan["tasks"]}
    assert sorted(i for b in plan["batches"] for i in b["taskIds"]) == sorted(ids)
    assert all(set(t["dependsOn"]) <= ids for t in plan["tasks"])


def test_the_broken_plan_has_exactly_the_problems_its_report_lists() -> None:
    plan = json.loads((EXAMPLES / "forge-plan" / "ForgePlan.broken.json").read_text(encoding="utf-8"))
    report = json.loads((EXAMPLES / "forge-report" / "ForgeReport.broken.json").read_text(encoding="utf-8"))
    tasks = {t["id"]: t for t in plan["tasks"]}
    kinds = [next(iter(issue)) for issue in report["issues"]]
    assert kinds == ["MalformedField", "DependencyCycle", "MissingDependency", "ParallelFileConflict"]
    cycle = report["issues"][1]["DependencyCycle"]["taskIds"]
    assert all(cycle[(i + 1) % len(cycle)] in tasks[t]["dependsOn"] for i, t in enumerate(cycle))
    missing = report["issues"][2]["MissingDependency"]
    assert missing["missingId"] in tasks[missing["taskId"]]["dependsOn"] and missing["missingId"] not in tasks
    conflict = report["issues"][3]["ParallelFileConflict"]
    batch = next(b for b in plan["batches"] if b["id"] == conflict["batchId"])
    assert batch["strategy"] == "parallel"
    assert all(t in batch["taskIds"] and conflict["file"] in tasks[t]["files"] for t in conflict["taskIds"])
    assert (report["taskCount"], report["batchCount"]) == (len(plan["tasks"]), len(plan["batches"]))


def test_the_example_signer_is_ed25519_as_rfc_8032_defines_it() -> None:
    # RFC 8032 section 7.1, test 1 and test 2.
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    assert build.ed25519_public_key(secret).hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert build.ed25519_sign(secret, b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe"
        "24655141438e7a100b")
    secret = bytes.fromhex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
    assert build.ed25519_sign(secret, b"\x72").hex() == (
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302a"
        "eeb00d291612bb0c00")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_audit_example_is_a_signed_chain() -> None:
    public = build.ed25519_public_key(build.EXAMPLE_KEY_SECRET)
    assert public.hex() in (build.__doc__ or "")
    records = [_json(EXAMPLES / "audit" / f"SignedAuditRecord.{n}.json") for n in (1, 2, 3)]
    assert {r["keyId"] for r in records} == {"example-" + blake3.blake3(public).hexdigest()[:16]}
    assert [r["record"]["seq"] for r in records] == [1, 2, 3]
    assert records[0]["record"]["prev"] is None
    assert all(r["record"]["prev"] is not None for r in records[1:])
    assert all(len(base64.b64decode(r["signature"])) == 64 for r in records)


@needs_codec
def test_each_audit_record_names_the_content_id_of_the_one_before() -> None:
    fsvs = [(EXAMPLES / "audit" / f"SignedAuditRecord.{n}.fsv").read_bytes() for n in (1, 2, 3)]
    records = [_json(EXAMPLES / "audit" / f"SignedAuditRecord.{n}.json") for n in (1, 2, 3)]
    assert [r["record"]["prev"] for r in records[1:]] == [fsf.content_id(b) for b in fsvs[:2]]


@needs_codec
def test_each_audit_signature_verifies_over_the_fsv_bytes_of_its_record() -> None:
    ed25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    from cryptography.exceptions import InvalidSignature

    schema = fsf.load_schema(SHAPES / "audit.fsf")
    key = ed25519.Ed25519PrivateKey.from_private_bytes(build.EXAMPLE_KEY_SECRET).public_key()
    for n in (1, 2, 3):
        signed = schema.decode((EXAMPLES / "audit" / f"SignedAuditRecord.{n}.fsv").read_bytes(), "SignedAuditRecord")
        message = schema.encode("AuditRecord", signed["record"])
        key.verify(signed["signature"], message)
        with pytest.raises(InvalidSignature):
            key.verify(signed["signature"], message[:-1] + bytes([message[-1] ^ 1]))


@needs_codec
def test_each_report_refers_to_the_content_id_of_its_plan() -> None:
    for label in ("vortex", "broken"):
        plan = (EXAMPLES / "forge-plan" / f"ForgePlan.{label}.fsv").read_bytes()
        assert _json(EXAMPLES / "forge-report" / f"ForgeReport.{label}.json")["plan"] == fsf.content_id(plan)


@needs_artifacts
def test_the_artifacts_example_is_the_table_the_codec_uses() -> None:
    from fsf.artifacts import ARTIFACTS, Artifact

    expected = build.artifact_examples()
    for name, data in expected.items():
        assert _json(EXAMPLES / "artifacts" / name) == data
    enum = fsf.load_schema(SHAPES / "artifacts.fsf").ir["ArtifactFormat"]
    assert isinstance(enum, ir.Enum)
    formats = [m.name for m in enum.members]
    assert sorted(a.format for a in ARTIFACTS) == sorted(formats)
    shape = fsf.load_schema(SHAPES / "artifacts.fsf").ir["Artifact"]
    assert isinstance(shape, ir.Shape)
    table_fields = [re.sub("_([a-z])", lambda m: m[1].upper(), f) for f in Artifact._fields]
    assert sorted(table_fields) == sorted(f.name for f in shape.fields)


@needs_validator
@pytest.mark.parametrize("example", EXAMPLE_LIST, ids=example_id)
@pytest.mark.parametrize("engine", ["fast", "vm"])
def test_every_example_validates(example: Any, engine: str) -> None:
    if not _has("fsf.fsv.jsonform"):
        pytest.skip("the JSON boundary (fsf/fsv/jsonform.py) has not landed")
    schema = fsf.load_schema(example.schema_path)
    value = build.from_json(schema, example.root, _json(example.json_path))
    schema.validate(example.root, value, engine=engine)


@needs_codec
@pytest.mark.parametrize("example", EXAMPLE_LIST, ids=example_id)
def test_every_example_encodes_and_decodes_back_to_the_same_json(example: Any) -> None:
    schema = fsf.load_schema(example.schema_path)
    data = _json(example.json_path)
    encoded = schema.encode(example.root, build.from_json(schema, example.root, data))
    assert build.to_json(schema, example.root, schema.decode(encoded, example.root)) == data
    assert encoded == example.fsv_path.read_bytes()


@needs_codec
@needs_views
def test_the_committed_generated_files_equal_a_fresh_build() -> None:
    expected = build.outputs(EXAMPLES)
    assert {p for p in expected if p.suffix == ".fsv"} == {e.fsv_path for e in build.discover(EXAMPLES)}
    assert [str(p.relative_to(ROOT)) for p in build.stale(expected)] == []


def _fsv_render_app() -> Any:
    """The `fsv` app if its `render` command has landed, else skip."""
    if not _has("fsf.cli.fsv_tool") or not _has("fsf.views"):
        pytest.skip("the `fsv` command (fsf/cli/fsv_tool.py) or the views (fsf/views/__init__.py) have not landed")
    from fsf.cli.fsv_tool import app

    if "render" not in {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}:
        pytest.skip("`fsv render` is not registered in fsf/cli/fsv_tool.py yet")
    return app


@pytest.mark.parametrize("example", EXAMPLE_LIST, ids=example_id)
def test_every_committed_view_passes_the_drift_check(example: Any) -> None:
    app = _fsv_render_app()
    result = CliRunner().invoke(app, ["render", "--schema", str(example.schema_path), str(example.fsv_path),
                                      "--check", str(example.md_path)])
    assert result.exit_code == 0, result.output
    assert f"ok  {example.md_path}" in result.output


@pytest.mark.parametrize("stem", sorted({e.schema_path.stem for e in EXAMPLE_LIST}))
def test_the_bulk_drift_check_passes_on_every_example_folder(stem: str) -> None:
    app = _fsv_render_app()
    count = sum(1 for e in EXAMPLE_LIST if e.schema_path.stem == stem)
    result = CliRunner().invoke(app, ["render", "--schema", str(SHAPES / f"{stem}.fsf"),
                                      "--check-dir", str(EXAMPLES / stem)])
    assert result.exit_code == 0, result.output
    assert f"{count} view(s) checked under `{EXAMPLES / stem}`: 0 stale, 0 failed" in result.output


def test_the_drift_check_catches_a_hand_edit_of_an_example_view(tmp_path: Path) -> None:
    app = _fsv_render_app()
    example = next(e for e in EXAMPLE_LIST if e.json_path.name == "ForgePlan.vortex.json")
    edited = tmp_path / example.md_path.name
    edited.write_text(example.md_path.read_text(encoding="utf-8").replace("**Status**: done", "**Status**: dune", 1),
                      encoding="utf-8")
    result = CliRunner().invoke(app, ["render", "--schema", str(example.schema_path), str(example.fsv_path),
                                      "--check", str(edited)])
    assert result.exit_code == 1
    assert "-- **Status**: dune\n+- **Status**: done\n" in result.output


@needs_codec
@needs_views
def test_the_build_script_check_mode_finds_nothing_stale() -> None:
    lines: list[str] = []
    assert (build.main(["--check"], lines.append), lines) == (0, [])


def test_the_build_script_check_mode_refuses_a_wrong_command_line() -> None:
    lines: list[str] = []
    assert build.main(["--frobnicate"], lines.append) == 2
    assert lines == ["usage: python shapes/examples/build.py [--check]"]


HOSTILE = "a|b\n# c `d` <script>alert(1)</script>\n- e | f\\|"


@needs_views
def test_the_dispatch_view_keeps_its_layout_with_hostile_text_everywhere() -> None:
    from fsf.render import render_value

    schema = fsf.load_schema(SHAPES / "dispatch.fsf")
    text = {"Text": {"value": HOSTILE}}
    value = {
        "request": {"dispatchId": HOSTILE, "cli": "codex", "model": {"provider": "openai", "model": HOSTILE},
                    "prompt": HOSTILE, "workingDirectory": HOSTILE, "env": {HOSTILE: HOSTILE},
                    "timeoutSeconds": 1, "niceness": 0, "maxTurns": None},
        "events": [{"TextChunk": {"text": HOSTILE}},
                   {"ToolCall": {"callId": HOSTILE, "tool": HOSTILE,
                                 "input": {"Object": {"members": {HOSTILE: {"List": {"items": [text]}}}}}}},
                   {"ToolResult": {"callId": HOSTILE, "isError": True, "output": HOSTILE, "attachment": b"|`"}},
                   {"Error": {"message": HOSTILE, "retryable": False}},
                   {"Done": {}}],
        "output": {"text": HOSTILE, "exitCode": 1, "durationMs": 2},
    }
    view = render_value(schema, "DispatchTranscript", value, template_dirs=[SHAPES])
    lines = view.split("\n")
    outside_code = [re.sub(r"(?<![\\`])(`+)(?!`).*?(?<!`)\1(?!`)", "", line) for line in lines]
    assert [line for line in outside_code if re.search(r"(?<!\\)<script", line)] == []
    assert [line for line in lines if line.startswith("#")] == [
        lines[1], "## Prompt", "## Environment", "## Events", "## Output"]
    assert lines[1].startswith("# Dispatch a\\|b<br>\\# c")
    assert not [line for line in lines if line.startswith(("- ", "* ", "+ ")) and not line.startswith("- **")]
    rows = [line for line in lines if line.startswith("|")]
    assert len(rows) == 2 + 1 + 2 + 5
    assert {len(re.findall(r"(?<!\\)\|", row)) for row in rows[:3]} == {3}
    assert {len(re.findall(r"(?<!\\)\|", row)) for row in rows[3:]} == {4}


NEAR_MISSES: list[tuple[str, list[Any], Any, str]] = [
    ("audit/SignedAuditRecord.2.json", ["signature"], "AAAA",
     "Expected `bytes` of length 64, got length 3 - at `$.signature`"),
    ("quota/QuotaCheck.warn.json", ["decision", "Warn", "ratio"], 1.5,
     "Expected `f64` in 0..1, got 1.5 - at `$.decision.Warn.ratio`"),
    ("usage/UsageReport.week-47.json", ["readings", 1, "promptsByHour", "24"], 3,
     "Expected `u8` in 0..23, got 24 - at `$.readings[1].promptsByHour[24]`"),
    ("routing/RoutingPolicy.forge-builder.json", ["breakers", "azure"], {"state": {"HalfOpen": {}},
                                                                        "failureThreshold": 1, "cooldownSeconds": 1},
     'Expected a member of `Provider`, got "azure" - at `$.breakers["azure"]`'),
    ("forge-report/ForgeReport.broken.json", ["issues", 3, "ParallelFileConflict", "taskIds"], ["A2"],
     "Expected `arr` of length 2..128, got length 1 - at `$.issues[3].ParallelFileConflict.taskIds`"),
    ("dispatch/DispatchTranscript.timeout.json", ["request", "niceness"], 20,
     "Expected `i8` in -20..19, got 20 - at `$.request.niceness`"),
]


@needs_validator
@pytest.mark.parametrize(("name", "where", "new", "message"), NEAR_MISSES, ids=[str(m[1][-1]) for m in NEAR_MISSES])
@pytest.mark.parametrize("engine", ["fast", "vm"])
def test_the_shapes_refuse_near_misses_of_their_examples(name: str, where: list[Any], new: Any, message: str,
                                                         engine: str) -> None:
    if not _has("fsf.fsv.jsonform"):
        pytest.skip("the JSON boundary (fsf/fsv/jsonform.py) has not landed")
    example = next(e for e in EXAMPLE_LIST if example_id(e) == name)
    schema = fsf.load_schema(example.schema_path)
    data = _json(example.json_path)
    target = data
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = new
    with pytest.raises(fsf.ValidationError) as caught:
        schema.validate(example.root, build.from_json(schema, example.root, data), engine=engine)
    assert str(caught.value) == message
