"""Container: .fsb round trips (IR with doc comments and annotations, bytecode, ids), loading without lark, the
bytes of schemas without annotations unchanged, hostile files."""

from __future__ import annotations

import json
import re
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
from fsf.ir.source import to_source
from tests.support import strategies
from tests.support.annotated import annotate_all, annotated

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


ANNOTATED = """
@was("Job") @reserved("owner") @deprecated("use Work")
shape Task {
  @was("name", "label") title: str[1..8],
  @default(medium) level: Level,
  @default(0) @deprecated("gone") n: u8?,
  @default("a \\"b\\"") note: str,
  @default([]) tags: arr[0..2]<str>,
  @default({}) m: map[0..2]<str, f64>,
  @default(-1.5) f: f32[-2..2],
  @default(true) ok: bool,
}
@reserved("none") enum Level { low, medium, @fallback @was("other") unknown }
union Outcome { @was("Finished") Done { @default(0) n: u8 }, @fallback @deprecated("") Other }
"""


def test_annotations_survive_with_their_ids() -> None:
    schema = fsf.compile_source(ANNOTATED)
    data = dump_container(schema.ir, schema.program)
    loaded, program = load_container(data, "x.fsb")
    assert (loaded, program) == (schema.ir, schema.program)
    assert dump_container(loaded, program) == data
    plain = fsf.compile_source(re.sub(r'@\w+(\((?:[^()"]|"(?:[^"\\]|\\.)*")*\))?', "", ANNOTATED))
    assert plain.ir != schema.ir and plain.program == schema.program
    assert {n: fsf.Schema(loaded, program).id(n) for n in schema.shapes} == {n: plain.id(n) for n in plain.shapes}
    body = msgpack.unpackb(data[10:-32], raw=False)
    task = body[0][2]
    assert task[4] == [["was", "Job"], ["reserved", "owner"], ["deprecated", "use Work"]]
    assert [f[3] if len(f) == 4 else None for f in task[3]] == [
        [["was", "name", "label"]], [["default", "medium"]], [["default", "0"], ["deprecated", "gone"]],
        [["default", '"a \\"b\\""']], [["default", "[]"]], [["default", "{}"]], [["default", "-1.5"]],
        [["default", "true"]]]
    assert body[0][0][3][2] == ["unknown", "", [["was", "other"], ["fallback"]]]
    assert body[0][0][4] == [["reserved", "none"]]


def test_a_schema_without_annotations_is_stored_as_before() -> None:
    # The bytes of the container of `small()` as written before annotations existed.
    assert blake3.blake3(small()).hexdigest() == SMALL_DIGEST
    schema = fsf.compile_source(DOCUMENTED)
    body = msgpack.unpackb(dump_container(schema.ir, schema.program)[10:-32], raw=False)
    assert [len(d) for d in body[0]] == [4, 4, 4]
    assert {len(f) for f in body[0][2][3]} == {3}


SMALL_DIGEST = "fdf746238d469f783a8623c8747b00db0afa7923013645c18c85acc960b36563"
STORE = ROOT / "shapes" / "examples" / ".fsf" / "types"


@pytest.mark.parametrize("path", sorted(p for p in STORE.rglob("*") if p.is_file()) if STORE.is_dir() else [],
                         ids=lambda p: p.name[:12])
def test_every_stored_type_closure_loads_and_dumps_to_the_same_bytes(path: Path) -> None:
    data = path.read_bytes()
    loaded, program = load_container(data, path.name)
    assert dump_container(loaded, program) == data


@pytest.mark.parametrize("path", SHAPES, ids=[p.name for p in SHAPES])
def test_every_annotated_shape_file_round_trips(path: Path) -> None:
    full = fsf.compile_source(to_source(annotate_all(fsf.load_schema(path).ir)))
    data = dump_container(full.ir, full.program)
    assert load_container(data, "x.fsb") == (full.ir, full.program)


@seed(12)
@settings(max_examples=60, deadline=None)
@given(strategies.schema_texts().flatmap(lambda text: annotated(fsf.compile_source(text).ir)))
def test_generated_annotated_schemas_round_trip(schema_ir: fsf.ir.Schema) -> None:
    schema = fsf.Schema(schema_ir, fsf.compile_source(to_source(schema_ir)).program)
    loaded, program = load_container(dump_container(schema.ir, schema.program), "x.fsb")
    assert (loaded, program) == (schema.ir, schema.program)


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


def _annotated_body() -> list[Any]:
    schema = fsf.compile_source('enum E { a, @fallback b }\nshape S { @default(1) x: u8[0..5], e: E }\n'
                                'union U { V { @was("w") y: u8 }, W }')
    return msgpack.unpackb(dump_container(schema.ir, schema.program)[10:-32], raw=False)  # type: ignore[no-any-return]


def _marked(at: tuple[tuple[int, ...], int], marks: Any) -> bytes:
    """The annotated body with the item at ``at`` (a path: E=0, S=1, U=2 in the schema; and the item's length
    without annotations) given the annotation list ``marks``."""
    path, size = at
    body = _annotated_body()
    target = body[0]
    for i in path:
        target = target[i]
    del target[size:]
    target.append(marks)
    return seal(body)


_FIELD_X = ((1, 3, 0), 3)  # S.x: [name, doc, type, [["default", "1"]]]
_FIELD_E = ((1, 3, 1), 3)  # S.e: [name, doc, type]
_MEMBER_A = ((0, 3, 0), 2)  # E.a: [name, doc]
_MEMBER_B = ((0, 3, 1), 2)  # E.b: [name, doc, [["fallback"]]]
_VARIANT_V = ((2, 3, 0), 3)  # U.V (with fields)
_SHAPE_S = ((1,), 4)
_FIELD_Y = ((2, 3, 0, 2, 0), 3)  # U.V.y


ANNOTATION_HOSTILE: list[tuple[str, bytes, str]] = [
    ("empty list", _marked(_FIELD_E, []), "corrupt: an annotation list is empty or not a list"),
    ("not a list", _marked(_FIELD_E, "was"), "corrupt: an annotation list is empty or not a list"),
    ("entry not a list", _marked(_FIELD_E, ["was"]), "corrupt: an annotation is not a list of strings"),
    ("empty entry", _marked(_FIELD_E, [[]]), "corrupt: an annotation is not a list of strings"),
    ("argument not a string", _marked(_FIELD_E, [["was", 1]]), "corrupt: an annotation is not a list of strings"),
    ("name not a string", _marked(_FIELD_E, [[None]]), "corrupt: an annotation is not a list of strings"),
    ("unknown", _marked(_FIELD_E, [["wass", "a"]]), "corrupt: unknown annotation `wass`"),
    ("out of order", _marked(_FIELD_E, [["deprecated", "x"], ["was", "a"]]),
     "corrupt: annotations are not in the canonical order, or one repeats"),
    ("repeated", _marked(_FIELD_E, [["was", "a"], ["was", "b"]]),
     "corrupt: annotations are not in the canonical order, or one repeats"),
    ("fallback on a field", _marked(_FIELD_E, [["fallback"]]), "corrupt: `@fallback` is not allowed on a field"),
    ("fallback on a variant with fields", _marked(_VARIANT_V, [["fallback"]]),
     "corrupt: `@fallback` is not allowed on a variant with fields"),
    ("default on a member", _marked(_MEMBER_A, [["default", "1"]]),
     "corrupt: `@default` is not allowed on an enum member"),
    ("reserved on a field", _marked(_FIELD_E, [["reserved", "x"]]), "corrupt: `@reserved` is not allowed on a field"),
    ("default on a shape", _marked(_SHAPE_S, [["default", "1"]]), "corrupt: `@default` is not allowed on a shape"),
    ("was without names", _marked(_FIELD_E, [["was"]]), "corrupt: `@was` takes one or more strings"),
    ("two reasons", _marked(_FIELD_E, [["deprecated", "a", "b"]]), "corrupt: `@deprecated` takes one string"),
    ("fallback with an argument", _marked(_MEMBER_B, [["fallback", "x"]]), "corrupt: `@fallback` takes no arguments"),
    ("default without a value", _marked(_FIELD_X, [["default"]]), "corrupt: `@default` takes one value"),
    ("not a literal", _marked(_FIELD_X, [["default", "1) @x("]]),
     "corrupt: `@default` literal `1) @x(` is not an FSF literal"),
    ("not a canonical string", _marked(_FIELD_E, [["default", '"a\\b"']]),
     "corrupt: `@default` literal `\"a\\b\"` is not an FSF literal"),
    ("default out of range", _marked(_FIELD_X, [["default", "300"]]),
     "corrupt: `S.x`: default `300` does not fit `u8[0..5]`"),
    ("default not a member", _marked(_FIELD_E, [["default", "c"]]), "corrupt: `S.e`: default `c` does not fit `E`"),
    ("default of a huge literal", _marked(_FIELD_X, [["default", "9" * 5000]]),
     "corrupt: `S.x`: default literal has 5000 digits; at most 40 are allowed"),
    ("default of a variant field", _marked(_FIELD_Y, [["default", "x"]]),
     "corrupt: `U.V.y`: default `x` does not fit `u8`"),
    ("two fallbacks", _marked(_MEMBER_A, [["fallback"]]), "corrupt: `E` has more than one `@fallback`"),
]


@pytest.mark.parametrize(("data", "message"), [h[1:] for h in ANNOTATION_HOSTILE],
                         ids=[h[0] for h in ANNOTATION_HOSTILE])
def test_hostile_annotations(data: bytes, message: str) -> None:
    err = error_of(data)
    assert err.code == "F504"
    assert str(err) == f"error[F504]: `x.fsb`: {message}"


def test_an_item_with_one_entry_too_many_is_refused() -> None:
    body = _annotated_body()
    body[0][1].extend([[["was", "T"]], []])  # S: [kind, name, doc, fields] + annotations + one more
    assert str(error_of(seal(body))) == "error[F504]: `x.fsb`: corrupt: a declaration is not a list of 4 items"
    body = _annotated_body()
    body[0][1][3][0].append([])  # S.x: [name, doc, type, annotations] + one more
    assert str(error_of(seal(body))) == "error[F504]: `x.fsb`: corrupt: a field is not a list of 3 items"
    body = _annotated_body()
    body[0][1].append("extra")  # a fifth item is the annotation list
    assert str(error_of(seal(body))) == "error[F504]: `x.fsb`: corrupt: an annotation list is empty or not a list"



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
