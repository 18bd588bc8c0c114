"""The `fsv` command: encode, decode, hash, inspect, verify; exit codes 0/1/2; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fsf
from fsf.cli.fsf_tool import app as fsf_app
from fsf.cli.fsv_tool import app
from fsf.fsv import codec
from fsf.fsv.jsonform import dumps, from_json, to_json

ROOT = Path(__file__).resolve().parents[2]
PLAN_SCHEMA = ROOT / "shapes" / "forge-plan.fsf"
PLAN_JSON = ROOT / "shapes" / "examples" / "forge-plan" / "ForgePlan.small.json"

runner = CliRunner()


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    out = tmp_path / "plan.fsv"
    result = runner.invoke(app, ["encode", "--schema", str(PLAN_SCHEMA), "--shape", "ForgePlan", str(PLAN_JSON),
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def expected_plan_bytes() -> bytes:
    schema = fsf.load_schema(PLAN_SCHEMA)
    return schema.encode("ForgePlan", from_json(schema, "ForgePlan", json.loads(PLAN_JSON.read_text("utf-8"))))


def test_encode_writes_the_canonical_bytes_and_prints_the_content_id(plan: Path) -> None:
    data = plan.read_bytes()
    assert data == expected_plan_bytes()
    result = runner.invoke(app, ["encode", "-s", str(PLAN_SCHEMA), "--shape", "ForgePlan", str(PLAN_JSON),
                                 "-o", str(plan)])
    assert result.stdout == fsf.content_id(data) + "\n"


def test_encode_reads_stdin(tmp_path: Path) -> None:
    out = tmp_path / "stdin.fsv"
    result = runner.invoke(app, ["encode", "-s", str(PLAN_SCHEMA), "--shape", "ForgePlan", "-o", str(out)],
                           input=PLAN_JSON.read_text("utf-8"))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == expected_plan_bytes()
    result = runner.invoke(app, ["encode", "-s", str(PLAN_SCHEMA), "--shape", "ForgePlan", "-", "-o", str(out)],
                           input=PLAN_JSON.read_text("utf-8"))
    assert result.exit_code == 0, result.output


def test_decode_prints_the_json_form(plan: Path, tmp_path: Path) -> None:
    schema = fsf.load_schema(PLAN_SCHEMA)
    want = dumps(to_json(schema, "ForgePlan", schema.decode(plan.read_bytes())))
    assert json.loads(want) == json.loads(PLAN_JSON.read_text("utf-8"))
    result = runner.invoke(app, ["decode", "-s", str(PLAN_SCHEMA), str(plan)])
    assert result.exit_code == 0 and result.stdout == want
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["decode", "-s", str(PLAN_SCHEMA), str(plan), "--shape", "ForgePlan", "-o", str(out)])
    assert result.exit_code == 0 and result.stdout == "" and out.read_text("utf-8") == want


def test_decode_with_a_compiled_schema(plan: Path, tmp_path: Path) -> None:
    fsb = tmp_path / "plan.fsb"
    assert runner.invoke(fsf_app, ["compile", str(PLAN_SCHEMA), "-o", str(fsb)]).exit_code == 0
    result = runner.invoke(app, ["decode", "-s", str(fsb), str(plan)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(PLAN_JSON.read_text("utf-8"))
    assert runner.invoke(app, ["verify", "-s", str(fsb), str(plan)]).exit_code == 0


def test_hash_needs_no_schema(plan: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.fsv"
    other.write_bytes(fsf.compile_source("shape T { v: u8 }").encode("T", {"v": 1}))
    result = runner.invoke(app, ["hash", str(plan), str(other)])
    assert result.exit_code == 0
    assert result.stdout == (f"{fsf.content_id(plan.read_bytes())}  {plan}\n"
                             f"{fsf.content_id(other.read_bytes())}  {other}\n")


def test_hash_reports_a_non_fsv_file_and_goes_on(plan: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.fsv"
    junk.write_bytes(b"hello")
    result = runner.invoke(app, ["hash", str(junk), str(plan)])
    assert result.exit_code == 1
    assert result.stdout == f"{fsf.content_id(plan.read_bytes())}  {plan}\n"
    assert result.stderr == ("error: not an FSV value: starts with `68 65 6c 6c`, expected `89 46 53 56` "
                             "- at byte 0 [bad_magic]\n")


def test_inspect_shows_the_header(plan: Path) -> None:
    data = plan.read_bytes()
    schema = fsf.load_schema(PLAN_SCHEMA)
    result = runner.invoke(app, ["inspect", str(plan)])
    assert result.exit_code == 0
    assert result.stdout == (
        "format version: 1\n"
        f"root type id:   {schema.id('ForgePlan')}\n"
        "header size:    37 bytes\n"
        f"payload size:   {len(data) - 37} bytes\n"
        f"total size:     {len(data)} bytes\n"
        f"content id:     {fsf.content_id(data)}\n")
    result = runner.invoke(app, ["inspect", str(plan), "--schema", str(PLAN_SCHEMA)])
    assert "root type:      ForgePlan\n" in result.stdout


def test_verify_passes_good_files_and_names_bad_ones(plan: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["verify", "-s", str(PLAN_SCHEMA), str(plan)])
    assert result.exit_code == 0
    assert result.stdout == f"ok  {fsf.content_id(plan.read_bytes())}  {plan}\n"
    long_head = tmp_path / "wide.fsv"
    data = plan.read_bytes()
    # Respell the root array head 0x94 as array16: the same value, not canonical.
    long_head.write_bytes(data[:codec.HEADER_SIZE] + b"\xdc\x00\x04" + data[codec.HEADER_SIZE + 1:])
    other = tmp_path / "other.fsv"
    other.write_bytes(fsf.compile_source("shape T { v: u8 }").encode("T", {"v": 1}))
    result = runner.invoke(app, ["verify", "-s", str(PLAN_SCHEMA), str(plan), str(long_head), str(other)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (f"error: {long_head}: array 4 in a wider head (`dc`) than needed at `$` - at byte 37 "
                        "[non_canonical]")
    assert lines[1].startswith(f"error: {other}: the value's root type ")
    assert lines[1].endswith(" is not a type of this schema - at byte 5 [schema_mismatch]")
    assert lines[2] == "2 of 3 file(s) failed verification"


def test_verify_shows_progress_only_on_a_terminal(plan: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [str(plan)] * 10
    result = runner.invoke(app, ["verify", "-s", str(PLAN_SCHEMA), *files])
    assert result.exit_code == 0 and result.stdout.count("ok  ") == 10 and "verifying" not in result.stderr
    monkeypatch.setattr("fsf.cli.values._is_terminal", lambda stream: True)
    result = runner.invoke(app, ["verify", "-s", str(PLAN_SCHEMA), *files])
    assert result.exit_code == 0 and result.stdout == ""


MD_REFUSAL = ("is a Markdown view: generated from a value and not canonical, so it cannot be {role}; use the "
              "`.fsv` value (or its `.json` form) it was rendered from\n")


@pytest.mark.parametrize(("args", "role"), [
    (["encode", "-s", "S", "--shape", "ForgePlan", "{md}", "-o", "out.fsv"], "the source of a value"),
    (["decode", "-s", "S", "{md}"], "read as an FSV value"),
    (["verify", "-s", "S", "{md}"], "read as an FSV value"),
    (["hash", "{md}"], "read as an FSV value"),
    (["inspect", "{md}"], "read as an FSV value"),
])
def test_markdown_is_never_a_value_source(tmp_path: Path, args: list[str], role: str) -> None:
    md = tmp_path / "plan.md"
    md.write_text("# ForgePlan\n", "utf-8")
    argv = [str(md) if a == "{md}" else str(PLAN_SCHEMA) if a == "S" else a for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert result.stderr == f"error: `{md}` " + MD_REFUSAL.format(role=role)


@pytest.mark.parametrize(("args", "message"), [
    (["encode", "-s", "{schema}", "--shape", "Nope", "{json}", "-o", "{out}"],
     "error: schema has no type `Nope`; it has `ForgeBatch`, `ForgePlan`, `ForgeTask`\n"),
    (["encode", "-s", "{schema}", "--shape", "ForgePlan", "{json}", "-o", "{tmp}/out.json"],
     "error: `{tmp}/out.json` is a JSON value (the non-canonical compatibility form), not written as an FSV value; "
     "expected `.fsv`\n"),
    (["decode", "-s", "{json}", "{out}"],
     "error: `{json}` is a JSON value (the non-canonical compatibility form), not a schema; expected `.fsf` or "
     "`.fsb`\n"),
])
def test_wrong_requests_exit_2(tmp_path: Path, plan: Path, args: list[str], message: str) -> None:
    names = {"schema": str(PLAN_SCHEMA), "json": str(PLAN_JSON), "out": str(plan), "tmp": str(tmp_path)}
    result = runner.invoke(app, [a.format(**names) for a in args])
    assert result.exit_code == 2
    assert result.stderr == message.format(**names)


def test_wrong_command_lines_exit_2() -> None:
    assert runner.invoke(app, ["encode", "-s", str(PLAN_SCHEMA), str(PLAN_JSON)]).exit_code == 2
    assert runner.invoke(app, ["decode"]).exit_code == 2
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


def test_bad_input_exits_1_with_the_library_message(tmp_path: Path, plan: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"sessionId": 5}', "utf-8")
    result = runner.invoke(app, ["encode", "-s", str(PLAN_SCHEMA), "--shape", "ForgePlan", str(bad),
                                 "-o", str(tmp_path / "bad.fsv")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "- at `$" in result.stderr
    assert not (tmp_path / "bad.fsv").exists()
    broken = tmp_path / "broken.json"
    broken.write_text('{"sessionId": ', "utf-8")
    result = runner.invoke(app, ["encode", "-s", str(PLAN_SCHEMA), "--shape", "ForgePlan", str(broken),
                                 "-o", str(tmp_path / "bad.fsv")])
    assert result.exit_code == 1
    assert result.stderr == "error: Invalid JSON: Expecting value at line 1 column 15 - at `$`\n"
    truncated = tmp_path / "cut.fsv"
    truncated.write_bytes(plan.read_bytes()[:-3])
    result = runner.invoke(app, ["decode", "-s", str(PLAN_SCHEMA), str(truncated)])
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "[" in result.stderr
    missing = tmp_path / "missing.fsv"
    result = runner.invoke(app, ["decode", "-s", str(PLAN_SCHEMA), str(missing)])
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot access `{missing}`: no such file or directory\n"
    assert "Traceback" not in result.output
