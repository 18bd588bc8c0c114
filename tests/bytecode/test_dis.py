"""Disassembler: golden listings of every shape file and of a schema using every opcode; `fsf disasm`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fsf
from fsf.bytecode.container import dump_container
from fsf.bytecode.dis import disassemble
from fsf.bytecode.opcodes import Op
from fsf.cli.fsf_tool import app
from tests.bytecode.test_vm import SCHEMA as EVERY_OPCODE
from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "dis"
SHAPES = sorted((ROOT / "shapes").glob("*.fsf"))


@pytest.mark.parametrize("path", SHAPES, ids=[p.name for p in SHAPES])
def test_shape_files(path: Path, golden: Golden) -> None:
    golden.text(GOLDEN / f"{path.stem}.txt", disassemble(fsf.load_schema(path).program))


def test_every_opcode(golden: Golden) -> None:
    text = disassemble(EVERY_OPCODE.program)
    golden.text(GOLDEN / "every-opcode.txt", text)
    assert {line.split()[1] for line in text.splitlines() if re.match(r"\s+\d+  ", line)} == {op.name for op in Op}


def test_labels_are_symbolic_and_defined() -> None:
    text = disassemble(EVERY_OPCODE.program)
    defined = re.findall(r"^(L\d+):$", text, re.M)
    used = set(re.findall(r"\b(L\d+)$", text, re.M))
    assert defined == [f"L{i}" for i in range(1, len(defined) + 1)]
    assert used == set(defined)


def test_the_command_reads_source_and_compiled_files(tmp_path: Path, golden: Golden) -> None:
    src = tmp_path / "forge-plan.fsf"
    src.write_text((ROOT / "shapes" / "forge-plan.fsf").read_text())
    schema = fsf.load_schema(src)
    (tmp_path / "forge-plan.fsb").write_bytes(dump_container(schema.ir, schema.program))
    runner = CliRunner()
    from_source = runner.invoke(app, ["disasm", str(src)])
    from_compiled = runner.invoke(app, ["disasm", str(tmp_path / "forge-plan.fsb")])
    assert from_source.exit_code == from_compiled.exit_code == 0
    assert from_source.stdout == from_compiled.stdout
    golden.text(GOLDEN / "forge-plan.txt", from_source.stdout)
    bad = tmp_path / "bad.fsf"
    bad.write_text("shape A { x: arr<u8> }")
    failed = runner.invoke(app, ["disasm", str(bad)])
    assert failed.exit_code == 1 and failed.stderr.startswith(f"{bad}:1:")
