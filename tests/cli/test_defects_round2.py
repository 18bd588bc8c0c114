"""Hostile-input campaign, round 2: oversized and malformed JSON at the `fsv encode` boundary, and the empty schema
through every command (compile, disasm, load of the .fsb, codegen, the `fsv` commands)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import fsf
from fsf.bytecode.container import dump_container
from fsf.bytecode.dis import disassemble
from fsf.cli.fsf_tool import app as fsf_app
from fsf.cli.fsv_tool import app as fsv_app
from fsf.fsv.jsonform import loads
from tests.support.golden import Golden

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "dis"
SCHEMA = "shape E { n: i64, m: map[0..8]<i64, i64> }\n"

runner = CliRunner()


# -- JSON at the `fsv encode` boundary: one clean line, exit 1 --------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    (b'{"n": ' + b"1" * 5000 + b', "m": {}}', "Invalid JSON: integer of 5000 digits (at most 640) at line 1 column 7"),
    (b'{"m": {},\n "n": -' + b"9" * 641 + b"}", "Invalid JSON: integer of 641 digits (at most 640) at line 2 column 7"),
    (b"[" * 100_000, "Invalid JSON: nested deeper than 64 at line 1 column 65"),
    (b'{"n": 1, "m": {"1": ' + b"[" * 100_000, "Invalid JSON: nested deeper than 64 at line 1 column 83"),
    (b'{"n": "\xff", "m": {}}', "Invalid JSON: not UTF-8 (byte 7)"),
    (b'{"n": 1,', "Invalid JSON: Expecting property name enclosed in double quotes at line 1 column 9"),
    (b'{"n": 1, "m": {}}\n{}', "Invalid JSON: Extra data at line 2 column 1"),
])
def test_encode_prints_one_clean_line_for_bad_json(tmp_path: Path, text: bytes, message: str) -> None:
    (tmp_path / "e.fsf").write_text(SCHEMA, encoding="utf-8")
    (tmp_path / "e.json").write_bytes(text)
    result = runner.invoke(fsv_app, ["encode", "-s", str(tmp_path / "e.fsf"), "--shape", "E",
                                     str(tmp_path / "e.json"), "-o", str(tmp_path / "e.fsv")])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {message} - at `$`\n")
    assert not (tmp_path / "e.fsv").exists()


def test_the_digit_limit_points_at_the_integer_not_at_digits_inside_strings() -> None:
    text = '{"s": "[[[ ' + "7" * 700 + '", "t": 1.' + "5" * 700 + ', "u": [0, 12]}'
    assert loads(text)["u"] == [0, 12]  # long digit runs in strings and fractions are not integers
    with pytest.raises(fsf.ValidationError) as info:
        loads(text.replace("12]", "1" + "0" * 640 + "]"))
    assert str(info.value) == "Invalid JSON: integer of 641 digits (at most 640) at line 1 column 1433 - at `$`"


def test_an_integer_of_640_digits_is_read_and_left_for_validate() -> None:
    schema = fsf.compile_source(SCHEMA)
    value = loads('{"n": ' + "1" * 640 + ', "m": {}}')
    assert value["n"] == int("1" * 640)
    with pytest.raises(fsf.ValidationError) as info:
        schema.validate("E", value)
    assert info.value.path == "$.n"


def test_nesting_within_the_parser_but_beyond_the_data_model_is_left_for_validate() -> None:
    assert loads("[" * 500 + "]" * 500) == loads("[" * 500 + "]" * 500)


# -- the empty schema ---------------------------------------------------------------------------------------------


def test_an_empty_schema_compiles_to_an_empty_program(golden: Golden) -> None:
    schema = fsf.compile_source("")
    assert (schema.shapes, schema.program.code, schema.program.entries) == ((), (), ())
    assert disassemble(schema.program) == "; fsf bytecode, format 1\n"
    golden.text(GOLDEN / "empty.txt", disassemble(schema.program))


@pytest.mark.parametrize("text", ["", "\n", "// only a comment\n"])
def test_fsf_compile_and_disasm_of_an_empty_schema(tmp_path: Path, text: str, golden: Golden) -> None:
    src = tmp_path / "empty.fsf"
    src.write_text(text, encoding="utf-8")
    assert runner.invoke(fsf_app, ["check", str(src)]).exit_code == 0
    compiled = runner.invoke(fsf_app, ["compile", str(src)])
    assert (compiled.exit_code, compiled.stdout, compiled.stderr) == (0, "", "")
    fsb = tmp_path / "empty.fsb"
    assert fsb.read_bytes() == dump_container(fsf.compile_source("").ir, fsf.compile_source("").program)
    for path in (src, fsb):
        listing = runner.invoke(fsf_app, ["disasm", str(path)])
        assert (listing.exit_code, listing.stderr) == (0, "")
        golden.text(GOLDEN / "empty.txt", listing.stdout)
    loaded = fsf.load_schema(fsb)
    assert (loaded.shapes, loaded.program.code) == ((), ())


def test_codegen_of_an_empty_schema(tmp_path: Path) -> None:
    src = tmp_path / "empty.fsf"
    src.write_text("", encoding="utf-8")
    out = {}
    for target in ("python", "jsonschema", "typescript"):
        result = runner.invoke(fsf_app, ["codegen", "--target", target, str(src)])
        assert (result.exit_code, result.stderr) == (0, ""), result.output
        out[target] = result.stdout
    namespace: dict[str, object] = {}
    exec(compile(out["python"], "<empty>", "exec"), namespace)
    document = json.loads(out["jsonschema"])
    jsonschema.Draft202012Validator.check_schema(document)
    assert document["$defs"] == {}
    assert out["typescript"] == "// Generated by `fsf codegen --target typescript` from FSF schema types; do not edit.\n"


def test_fsv_commands_with_an_empty_schema_are_clean_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.fsf"
    empty.write_text("", encoding="utf-8")
    (tmp_path / "empty.fsb").write_bytes(dump_container(fsf.compile_source("").ir, fsf.compile_source("").program))
    one = fsf.compile_source("enum E { a }")
    value = tmp_path / "one.fsv"
    value.write_bytes(one.encode("E", "a"))
    (tmp_path / "a.json").write_text('"a"', encoding="utf-8")
    mismatch = (f"the value's root type {one.id('E')} is not a type of this schema - at byte 5 "
                "[schema_mismatch]")
    for schema in (empty, tmp_path / "empty.fsb"):
        encoded = runner.invoke(fsv_app, ["encode", "-s", str(schema), "--shape", "E", str(tmp_path / "a.json"),
                                          "-o", str(tmp_path / "x.fsv")])
        assert (encoded.exit_code, encoded.stderr) == (2, "error: schema has no type `E`; it has none\n")
        for command in ("decode", "render"):
            result = runner.invoke(fsv_app, [command, "-s", str(schema), str(value)])
            assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {mismatch}\n")
        verified = runner.invoke(fsv_app, ["verify", "-s", str(schema), str(value)])
        assert (verified.exit_code, verified.stderr) == (
            1, f"error: {value}: {mismatch}\n1 of 1 file(s) failed verification\n")
