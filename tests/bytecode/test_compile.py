"""Compiler: IR -> bytecode; the opcode table and its documentation; the `fsf compile` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from hypothesis import given, seed, settings
from typer.testing import CliRunner

import fsf
from fsf.bytecode.compile import compile_schema
from fsf.bytecode.opcodes import BY_NUMBER, Instr, Kind, Op, Program
from fsf.bytecode.specialize import generate
from fsf.cli.fsf_tool import app
from tests.support import strategies
from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
SHAPES = sorted((ROOT / "shapes").glob("*.fsf"))
DOCS = ROOT / "docs" / "bytecode.md"
runner = CliRunner()


def opcode_table_markdown() -> str:
    rows = ["| number | name | operands | meaning |", "|---|---|---|---|"]
    for op in Op:
        operands = ", ".join(f"{n}: {k.value}" for n, k in zip(op.operand_names, op.operands, strict=True)) or "—"
        rows.append(f"| 0x{int(op):02x} | `{op.name}` | {operands} | {op.doc} |")
    return "\n".join(rows) + "\n"


def test_opcode_table_is_consistent() -> None:
    assert len(BY_NUMBER) == len(Op) and all(BY_NUMBER[int(op)] is op for op in Op)
    for op in Op:
        assert op.doc.endswith(".") and len(op.operand_names) == len(op.operands)
        assert all(isinstance(k, Kind) for k in op.operands)
        assert 0 < int(op) < 256


def test_the_documented_opcode_table_is_the_opcode_table(golden: Golden) -> None:
    start, end = "-->\n", "<!-- end opcode-table -->"
    text = DOCS.read_text(encoding="utf-8")
    head, rest = text.split("<!-- opcode-table:", 1)
    marker, rest = rest.split(start, 1)
    _, tail = rest.split(end, 1)
    # The page is the golden file; only the table between the markers is computed, the prose is kept.
    golden.text(DOCS, f"{head}<!-- opcode-table:{marker}{start}{opcode_table_markdown()}{end}{tail}")


def _well_formed(program: Program) -> None:
    names = [n for n, _ in program.entries]
    assert names == sorted(names)
    for name in names:
        span = program.routine(name)
        assert program.code[span.stop - 1].op is Op.RET
    for ins in program.code:
        assert len(ins.args) == len(ins.op.operands)
        for kind, arg in zip(ins.op.operands, ins.args, strict=True):
            if kind is Kind.LABEL:
                assert isinstance(arg, int) and 0 <= arg < len(program.code)
            if kind is Kind.TYPE:
                assert arg in program.entry
    generate(program)  # the specialiser accepts only properly nested code


@pytest.mark.parametrize("path", SHAPES, ids=[p.name for p in SHAPES])
def test_every_shape_file_compiles_to_a_well_formed_program(path: Path) -> None:
    schema = fsf.load_schema(path)
    _well_formed(schema.program)
    assert [n for n, _ in schema.program.entries] == list(schema.shapes)


def test_the_program_of_forge_plan() -> None:
    program = fsf.load_schema(ROOT / "shapes" / "forge-plan.fsf").program
    task = [program.code[pc] for pc in program.routine("ForgeTask")]
    assert task[0] == Instr(Op.SHAPE, ("ForgeTask", ("id", "title", "status", "category", "dependsOn", "files",
                                                     "description"),
                                       ("id", "title", "status", "category", "dependsOn", "files", "description")))
    assert task[1:4] == [Instr(Op.FIELD, ("id",)), Instr(Op.STR, (0, None)), Instr(Op.POP)]
    start = program.entry["ForgePlan"]
    tasks = [program.code[pc] for pc in range(start + 7, start + 14)]
    loop = start + 9
    assert tasks == [Instr(Op.FIELD, ("tasks",)), Instr(Op.ARRAY, (0, 512)), Instr(Op.NEXT, (loop + 4,)),
                     Instr(Op.CALL, ("ForgeTask",)), Instr(Op.POP), Instr(Op.JUMP, (loop,)), Instr(Op.POP)]


def test_programs_are_frozen_and_deterministic() -> None:
    text = "enum E { a, b }\nshape S { e: E, m: map[0..3]<E, str?>, o: S? }\nunion U { A, B { s: S } }"
    shuffled = "union U { A, B { s: S } }\n// reordered\nshape S { e: E, m: map[0..3]<E, str?>, o: S? }\nenum E { a, b }"
    a, b = fsf.compile_source(text), fsf.compile_source(shuffled)
    assert a.program == b.program == compile_schema(a.ir)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.program.code = ()  # type: ignore[misc]
    _well_formed(a.program)


def test_layout_of_optional_union_and_map() -> None:
    program = fsf.compile_source("union U { A, B { x: u8? } }\nshape M { m: map[1..2]<str[1..3], bool?> }").program
    m = [program.code[pc] for pc in program.routine("M")]
    assert [i.op for i in m] == [Op.SHAPE, Op.FIELD, Op.MAP, Op.NEXT_KEY, Op.STR, Op.POP, Op.VALUE, Op.SKIP_NONE,
                                 Op.BOOL, Op.POP, Op.JUMP, Op.POP, Op.RET]
    start = program.entry["M"]
    assert m[2].args == (1, 2) and m[4].args == (1, 3)
    assert m[3].args == (start + 11,) and m[7].args == (start + 9,) and m[10].args == (start + 3,)
    u = [program.code[pc] for pc in program.routine("U")]
    assert [i.op for i in u] == [Op.UNION, Op.VARIANT, Op.SHAPE, Op.POP, Op.JUMP, Op.VARIANT, Op.SHAPE,
                                 Op.OPT_FIELD, Op.INT, Op.POP, Op.POP, Op.JUMP, Op.RET]
    assert u[7].args == ("x", program.entry["U"] + 10)


def test_an_unstructured_program_is_refused_by_the_specialiser() -> None:
    program = Program((Instr(Op.ARRAY, (0, 1)), Instr(Op.NEXT, (1,)), Instr(Op.RET)), (("A", 0),))
    with pytest.raises(ValueError, match="not structured"):
        generate(program)


@seed(7)
@settings(max_examples=60, deadline=None)
@given(strategies.schema_texts())
def test_generated_schemas_compile_to_well_formed_programs(text: str) -> None:
    _well_formed(fsf.compile_source(text).program)


# -- fsf compile --------------------------------------------------------------------------------------------


def _ids_lines(schema: fsf.Schema) -> str:
    return "".join(f"{name} {schema.id(name)}\n" for name in schema.shapes)


def test_compile_writes_next_to_the_input_and_prints_ids(tmp_path: Path) -> None:
    src = tmp_path / "plan.fsf"
    src.write_text((ROOT / "shapes" / "forge-plan.fsf").read_text())
    result = runner.invoke(app, ["compile", str(src)])
    assert result.exit_code == 0, result.output
    schema = fsf.load_schema(src)
    assert result.stdout == _ids_lines(schema)
    assert result.stdout.splitlines()[0].startswith("ForgeBatch blake3:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.fsb", "plan.fsf"]  # no temporary file left
    loaded = fsf.load_schema(tmp_path / "plan.fsb")
    assert loaded.ir == schema.ir and loaded.program == schema.program


def test_compile_with_output_and_several_inputs(tmp_path: Path) -> None:
    a, b = tmp_path / "a.fsf", tmp_path / "b.fsf"
    a.write_text("shape A { x: u8 }")
    b.write_text("enum B { one }")
    out = tmp_path / "out" / "x.fsb"
    out.parent.mkdir()
    assert runner.invoke(app, ["compile", str(a), "-o", str(out)]).exit_code == 0
    assert fsf.load_schema(out).shapes == ("A",)
    result = runner.invoke(app, ["compile", str(a), str(b)])
    assert result.exit_code == 0
    assert result.stdout == _ids_lines(fsf.load_schema(a)) + _ids_lines(fsf.load_schema(b))
    assert (tmp_path / "b.fsb").exists()
    usage = runner.invoke(app, ["compile", str(a), str(b), "-o", str(out)])
    assert usage.exit_code == 2 and "-o/--output takes one input file" in usage.output


def test_compile_errors_exit_1_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.fsf"
    bad.write_text("shape A { x: Nope }")
    good = tmp_path / "good.fsf"
    good.write_text("shape G { x: u8 }")
    result = runner.invoke(app, ["compile", str(bad), str(good)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{bad}:1:14: error[F201]: unknown type `Nope`")
    assert result.stdout == _ids_lines(fsf.load_schema(good))  # the other file still compiles
    assert not (tmp_path / "bad.fsb").exists()
    again = runner.invoke(app, ["compile", str(good.with_suffix(".fsb"))])
    assert again.exit_code == 1
    assert again.stderr == f"error: `{good.with_suffix('.fsb')}` is already compiled; give the .fsf source\n"
    missing = runner.invoke(app, ["compile", str(tmp_path / "none.fsf")])
    assert missing.exit_code == 1 and "Traceback" not in missing.output


def test_compile_of_forge_plan_as_a_command(tmp_path: Path) -> None:
    src = tmp_path / "forge-plan.fsf"
    src.write_text((ROOT / "shapes" / "forge-plan.fsf").read_text())
    done = subprocess.run([sys.executable, "-c", "from fsf.cli.fsf_tool import main; main()", "compile", str(src)],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == _ids_lines(fsf.load_schema(src))


# -- id test vectors ----------------------------------------------------------------------------------------

VECTORS = ROOT / "tests" / "vectors" / "ids.json"
_IDS_SCRIPT = """
import json, pathlib, sys
import fsf
root = pathlib.Path(sys.argv[1])
out = {}
for path in sorted(root.glob("*.fsf")):
    schema = fsf.load_schema(path)
    out[path.name] = {name: schema.id(name) for name in schema.shapes}
print(json.dumps(out, indent=2, sort_keys=True))
"""


def _shape_ids() -> dict[str, dict[str, str]]:
    out = {}
    for path in SHAPES:
        schema = fsf.load_schema(path)
        out[path.name] = {name: schema.id(name) for name in schema.shapes}
    return out


def test_ids_of_the_shape_library_never_change(golden: Golden) -> None:
    ids = _shape_ids()
    golden.json(VECTORS, ids, lambda value: json.dumps(value, indent=2, sort_keys=True) + "\n")
    assert ids["forge-plan.fsf"]["ForgePlan"].startswith("blake3:")


@pytest.mark.parametrize("hash_seed", ["0", "1", "4242", "random"])
def test_ids_are_the_same_in_every_process(hash_seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", _IDS_SCRIPT, str(ROOT / "shapes")], capture_output=True, text=True,
                          check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(VECTORS.read_text())
