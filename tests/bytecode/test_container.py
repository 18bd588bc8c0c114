"""Container: .fsb round trips (IR with doc comments, bytecode, ids), loading without lark, hostile files."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import blake3
import msgpack
import pytest
from hypothesis import given, seed, settings
from typer.testing import CliRunner

import fsf
from fsf.bytecode.container import MAX_TYPE_DEPTH, ContainerError, dump_container, load_container
from fsf.bytecode.opcodes import FORMAT_VERSION
from fsf.cli.fsf_tool import app
from fsf.front import parse
from tests.support import strategies

ROOT = Path(__file__).resolve().parents[2]
SHAPES = sorted((ROOT / "shapes").glob("*.fsf"))
DOCUMENTED = """
/// How work is split.
enum Strategy {
  /// one after another
  sequential,
  parallel,
}
/// A decision.
union Decision { NoPlan, /// with a plan
  Ok { /// the plan
    planId: str[1..8] } }
/// A task.
shape Task {
  /// its id
  id: str, parent: ref<Task>?, kids: arr[0..4]<Task>, w: map[0..2]<Strategy, f32[0..1]>, d: Decision?,
  at: time, h: hash, b: bytes[0..9], n: i64[-5..5], f: f64, ok: bool }
"""


def small() -> bytes:
    schema = fsf.compile_source("shape A { x: u8?, y: arr[0..2]<str> }")
    return dump_container(schema.ir, schema.program)


def seal(body: Any, version: int = FORMAT_VERSION, raw: bytes | None = None) -> bytes:
    """A container around ``body`` (or ``raw`` body bytes) with a correct header and checksum."""
    data = raw if raw is not None else msgpack.packb(body, use_bin_type=True)
    return struct.pack(">4sHI", b"FSFB", version, len(data)) + data + blake3.blake3(data).digest()


def error_of(data: bytes) -> ContainerError:
    with pytest.raises(ContainerError) as info:
        load_container(data, "x.fsb")
    assert isinstance(info.value, fsf.SchemaError) and isinstance(info.value, fsf.FsfError)
    return info.value


@pytest.mark.parametrize("path", SHAPES, ids=[p.name for p in SHAPES])
def test_every_shape_file_round_trips(path: Path) -> None:
    schema = fsf.load_schema(path)
    data = dump_container(schema.ir, schema.program)
    assert load_container(data, "x.fsb") == (schema.ir, schema.program)
    assert dump_container(schema.ir, schema.program) == data


def test_doc_comments_survive_and_ids_match(tmp_path: Path) -> None:
    src = tmp_path / "task.fsf"
    src.write_text(DOCUMENTED)
    schema = fsf.load_schema(src)
    target = tmp_path / "task.fsb"
    target.write_bytes(dump_container(schema.ir, schema.program))
    loaded = fsf.load_schema(target)
    assert loaded.ir == schema.ir
    assert loaded.ir["Strategy"].doc == "How work is split."
    assert loaded.ir["Strategy"].members[0].doc == "one after another"  # type: ignore[union-attr]
    assert loaded.ir["Task"].fields[0].doc == "its id"  # type: ignore[union-attr]
    assert {n: loaded.id(n) for n in loaded.shapes} == {n: schema.id(n) for n in schema.shapes}
    loaded.validate("Task", {"id": "t", "kids": [], "w": {"parallel": 0.5}, "at": 0, "h": b"\0" * 32, "b": b"",
                             "n": 0, "f": 1.0, "ok": True})


def test_the_bytes_are_canonical() -> None:
    a = fsf.compile_source("enum E { b, a }\nshape S { e: E, o: S? }")
    b = fsf.compile_source("shape S { e: E, o: S? }\n\n// other order\nenum E { b, a, }")
    assert dump_container(a.ir, a.program) == dump_container(b.ir, b.program)
    data = dump_container(a.ir, a.program)
    assert data[:4] == b"FSFB" and struct.unpack(">H", data[4:6])[0] == FORMAT_VERSION
    assert struct.unpack(">I", data[6:10])[0] == len(data) - 10 - 32


@seed(11)
@settings(max_examples=60, deadline=None)
@given(strategies.schema_texts())
def test_generated_schemas_round_trip(text: str) -> None:
    schema = fsf.compile_source(text)
    loaded_ir, program = load_container(dump_container(schema.ir, schema.program), "x.fsb")
    assert (loaded_ir, program) == (schema.ir, schema.program)
    assert fsf.Schema(loaded_ir, program).id("Root") == schema.id("Root")


def test_loading_a_compiled_schema_never_imports_lark(tmp_path: Path) -> None:
    src = tmp_path / "forge-plan.fsf"
    src.write_text((ROOT / "shapes" / "forge-plan.fsf").read_text())
    schema = fsf.load_schema(src)
    (tmp_path / "forge-plan.fsb").write_bytes(dump_container(schema.ir, schema.program))
    script = (
        "import json, sys, fsf\n"
        "s = fsf.load_schema(sys.argv[1])\n"
        "s.validate('ForgeBatch', {'id': 'b', 'taskIds': [], 'strategy': 's', 'worktreeRef': 'w'})\n"
        "assert 'lark' not in sys.modules and 'fsf.front.parse' not in sys.modules, sorted(sys.modules)\n"
        "print(json.dumps({n: s.id(n) for n in s.shapes}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "forge-plan.fsb")], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {n: schema.id(n) for n in schema.shapes}


def test_type_depth_limit_is_the_parsers() -> None:
    assert MAX_TYPE_DEPTH == parse.MAX_TYPE_DEPTH


# -- hostile and broken files -------------------------------------------------------------------------------


def test_wrong_magic_and_version() -> None:
    data = small()
    assert str(error_of(b"PK\x03\x04" + data[4:])) == "error[F501]: `x.fsb`: not a compiled FSF schema (wrong magic)"
    assert str(error_of(b"")) == "error[F503]: `x.fsb`: truncated: 0 bytes, the header alone has 10"
    assert error_of(b"hello").code == "F501"
    future = data[:4] + struct.pack(">H", FORMAT_VERSION + 1) + data[6:]
    assert str(error_of(future)) == (
        f"error[F502]: `x.fsb`: format version {FORMAT_VERSION + 1} is not supported (this fsf reads version "
        f"{FORMAT_VERSION}); recompile the schema")


def test_every_truncation_and_trailing_bytes() -> None:
    data = small()
    for n in range(len(data)):
        assert error_of(data[:n]).code in ("F501", "F503")
    assert str(error_of(data[:30])) == f"error[F503]: `x.fsb`: truncated: 30 bytes, expected {len(data)}"
    assert str(error_of(data + b"\0")) == "error[F504]: `x.fsb`: 1 trailing bytes after the checksum"


def test_every_flipped_byte_is_caught() -> None:
    data = small()
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x40
        assert error_of(bytes(flipped)).code in ("F501", "F502", "F503", "F504")
    middle = bytearray(data)
    middle[20] ^= 1
    assert str(error_of(bytes(middle))) == "error[F504]: `x.fsb`: corrupt: the checksum does not match the contents"


def _good_body() -> list[Any]:
    return msgpack.unpackb(small()[10:-32], raw=False)  # type: ignore[no-any-return]


def _with(path: tuple[int, ...], value: Any) -> list[Any]:
    body = _good_body()
    target = body
    for i in path[:-1]:
        target = target[i]
    target[path[-1]] = value
    return body


def _nested_type(levels: int) -> list[Any]:
    t: list[Any] = ["bool"]
    for _ in range(levels):
        t = ["opt", t] if not t or t[0] != "opt" else ["arr", 0, 1, t]
    return t


HOSTILE: list[tuple[str, bytes, str]] = [
    ("not msgpack", seal(None, raw=b"\xc1"), "corrupt: the body is not msgpack (FormatError)"),
    ("msgpack bomb", seal(None, raw=b"\x91" * 200_000 + b"\xc0"), "corrupt: the body is not msgpack"),
    ("not a list", seal({"a": 1}), "corrupt: body is not a list of 2 items"),
    ("extra data", seal(None, raw=msgpack.packb([[], [[], []]]) + b"\x00"), "corrupt: the body is not msgpack"),
    ("unsorted", seal([[["enum", "B", "", []], ["enum", "A", "", []]], [[], []]]),
     "corrupt: declarations are not sorted by name, or a name repeats"),
    ("duplicate", seal([[["enum", "A", "", []], ["enum", "A", "", []]], [[], []]]),
     "corrupt: declarations are not sorted by name, or a name repeats"),
    ("unknown kind", seal([[["table", "A", "", []]], [[], []]]), "corrupt: unknown declaration kind"),
    ("unknown name", seal(_with((0, 0, 3, 0, 2), ["named", "Nope"])), "corrupt: unknown type `Nope`"),
    ("unknown tag", seal(_with((0, 0, 3, 0, 2), ["decimal"])), "corrupt: unknown type tag"),
    ("bad int kind", seal(_with((0, 0, 3, 0, 2), ["int", "u128", 0, 1])), "corrupt: malformed integer type"),
    ("nan bound", seal(_with((0, 0, 3, 0, 2), ["float", 64, float("nan"), 1.0])),
     "corrupt: a bound is not a finite float"),
    ("negative length", seal(_with((0, 0, 3, 0, 2), ["str", -1, None])), "corrupt: a bound is not a length"),
    ("too deep", seal(_with((0, 0, 3, 0, 2), _nested_type(100))),
     f"corrupt: a type is nested more than {MAX_TYPE_DEPTH} levels deep"),
    ("doc not text", seal(_with((0, 0, 2), 7)), "corrupt: a doc comment is not a string"),
    ("unknown opcode", seal(_with((1, 1, 0), [0xFF])),
     "corrupt: an instruction has an unknown opcode or a wrong number of operands"),
    ("operand count", seal(_with((1, 1, 1), [0x20])),
     "corrupt: an instruction has an unknown opcode or a wrong number of operands"),
    ("label out of range", seal(_with((1, 1, 2), [0x21, "x", 10_000])), "corrupt: an operand is not a valid label"),
    ("entries", seal(_with((1, 0), [["B", 0]])), "corrupt: the program's entries are not the schema's types"),
]


@pytest.mark.parametrize(("data", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_with_a_valid_checksum(data: bytes, message: str) -> None:
    err = error_of(data)
    assert err.code == "F504"
    assert str(err).startswith(f"error[F504]: `x.fsb`: {message}")


def test_bytecode_that_does_not_match_its_schema() -> None:
    body = _good_body()
    code = body[1][1]
    strs = [i for i, ins in enumerate(code) if ins[0] == 0x04]
    code[strs[0]] = [0x04, 5, None]
    assert str(error_of(seal(body))) == (
        "error[F505]: `x.fsb`: the bytecode does not match the schema it was compiled from")


def test_the_cli_reports_a_broken_container(tmp_path: Path) -> None:
    target = tmp_path / "broken.fsb"
    target.write_bytes(small()[:-1])
    result = CliRunner().invoke(app, ["disasm", str(target)])
    assert result.exit_code == 1
    assert result.stderr == f"error[F503]: `{target}`: truncated: {len(small()) - 1} bytes, expected {len(small())}\n"


def test_a_missing_compiled_file_is_a_schema_error(tmp_path: Path) -> None:
    with pytest.raises(fsf.SchemaError) as info:
        fsf.load_schema(tmp_path / "none.fsb")
    assert str(info.value) == f"error[F000]: cannot read schema `{tmp_path / 'none.fsb'}`: no such file or directory"
