"""docs/ids.md is exact: its worked examples are the bytes the project hashes, and its rules alone rebuild them.

The examples are read from the fenced blocks of the page (```` ```fsf example=K ````, ```` ```description
example=K component=A,B ````, ```` ```hex example=K type=A ````, ```` ```ids example=K ````). Each FSF source is
compiled by the project with BLAKE3 recorded, so every byte string hashed must be one of the documented hex
blocks and every id the documented one. Independently of ``fsf.ir.ids``, a small msgpack writer written from the
page's encoding table and descriptions built by hand from the page's rules must give the same bytes and ids.
"""

from __future__ import annotations

import json
import re
import struct
import types
from pathlib import Path
from typing import Any

import blake3
import msgpack
import pytest

import fsf
import fsf.ir.ids
from fsf import ir

DOC = Path(__file__).resolve().parents[2] / "docs" / "ids.md"
EXAMPLES = ("enum", "shape", "union", "pair", "import")

_FENCE = re.compile(r"^```(\w+)((?: \w+=\S+)*)\n(.*?)^```$", re.M | re.S)


def _blocks() -> list[tuple[str, dict[str, str], str]]:
    """Every fenced block of the page with attributes: (info word, attributes, body)."""
    out = []
    for m in _FENCE.finditer(DOC.read_text(encoding="utf-8")):
        attrs = dict(pair.split("=", 1) for pair in m.group(2).split())
        if attrs:
            out.append((m.group(1), attrs, m.group(3)))
    return out


def _example(key: str) -> dict[str, Any]:
    sources: dict[str, str] = {}
    hexes: dict[str, bytes] = {}
    descriptions: dict[str, str] = {}
    ids: dict[str, str] = {}
    for kind, attrs, body in _blocks():
        if attrs.get("example") != key:
            continue
        label = next((f"{k}={v}" for k, v in attrs.items() if k in ("component", "type")), "")
        if kind == "fsf":
            sources[attrs.get("file", "main.fsf")] = body
        elif kind == "hex":
            assert label not in hexes, label
            hexes[label] = bytes.fromhex(body)
        elif kind == "description":
            descriptions[label] = body
        elif kind == "ids":
            ids = dict(line.split(" ") for line in body.splitlines())
        else:
            raise AssertionError(f"unknown block kind `{kind}`")
    assert sources and hexes and ids, key
    assert set(descriptions) == set(hexes), key
    return {"sources": sources, "hex": hexes, "descriptions": descriptions, "ids": ids}


def _compile_recording(sources: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                       ) -> tuple[fsf.Schema, list[bytes]]:
    """Compile ``main.fsf`` (with the other files next to it) and record every input of BLAKE3 in ``fsf.ir.ids``."""
    hashed: list[bytes] = []

    def recording(data: bytes) -> Any:
        hashed.append(bytes(data))
        return blake3.blake3(data)

    for name, text in sources.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(fsf.ir.ids, "blake3", types.SimpleNamespace(blake3=recording))
    schema = fsf.load_schema(tmp_path / "main.fsf")
    monkeypatch.undo()
    return schema, hashed


def _label(data: bytes) -> str:
    obj = msgpack.unpackb(data)
    return f"component={','.join(e[0] for e in obj[1])}" if obj[0] == "fsf-component-1" else f"type={obj[1]}"


def test_the_page_has_every_example() -> None:
    keys = {attrs["example"] for _, attrs, _ in _blocks()}
    assert keys == set(EXAMPLES)


@pytest.mark.parametrize("key", EXAMPLES)
def test_the_project_hashes_exactly_the_documented_bytes(key: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    example = _example(key)
    schema, hashed = _compile_recording(example["sources"], tmp_path, monkeypatch)
    assert {_label(data): data for data in hashed} == example["hex"]
    assert len(hashed) == len(example["hex"])
    assert {name: schema.id(name) for name in schema.shapes} == example["ids"]
    for name, value in example["ids"].items():
        assert value == "blake3:" + blake3.blake3(example["hex"][f"type={name}"]).hexdigest()


# -- an independent implementation, from the page alone ----------------------------------------------------------


def pack(x: Any) -> bytes:
    """The msgpack subset of section 2 of docs/ids.md, written from its table."""
    if x is None:
        return b"\xc0"
    if isinstance(x, bytes):
        assert len(x) == 32
        return b"\xc4\x20" + x
    if isinstance(x, float):
        return b"\xcb" + struct.pack(">d", x)
    if isinstance(x, int) and not isinstance(x, bool):
        if x >= 0:
            if x <= 0x7F:
                return bytes([x])
            for head, size in ((0xCC, 1), (0xCD, 2), (0xCE, 4), (0xCF, 8)):
                if x < 1 << (8 * size):
                    return bytes([head]) + x.to_bytes(size, "big")
        elif x >= -32:
            return bytes([x & 0xFF])
        else:
            for head, size in ((0xD0, 1), (0xD1, 2), (0xD2, 4), (0xD3, 8)):
                if x >= -(1 << (8 * size - 1)):
                    return bytes([head]) + x.to_bytes(size, "big", signed=True)
        raise AssertionError(x)
    if isinstance(x, str):
        raw = x.encode("utf-8")
        return _length(len(raw), 0xA0, 31, (0xD9, 0xDA, 0xDB)) + raw
    assert isinstance(x, list)
    return _length(len(x), 0x90, 15, (None, 0xDC, 0xDD)) + b"".join(pack(item) for item in x)


def _length(n: int, fix: int, fix_max: int, heads: tuple[int | None, int, int]) -> bytes:
    if n <= fix_max:
        return bytes([fix | n])
    if heads[0] is not None and n <= 0xFF:
        return bytes([heads[0], n])
    if n <= 0xFFFF:
        return bytes([heads[1]]) + n.to_bytes(2, "big")
    return bytes([heads[2]]) + n.to_bytes(4, "big")


def component(entries: list[list[Any]]) -> bytes:
    """The 32-byte digest of a component: its ``[name, declaration]`` entries sorted by name."""
    return blake3.blake3(pack(["fsf-component-1", sorted(entries)])).digest()


def type_id(name: str, digest: bytes) -> bytes:
    return blake3.blake3(pack(["fsf-type-1", name, digest])).digest()


STR = ["str", 0, None]


def _by_hand() -> dict[str, dict[str, bytes]]:
    """The ids of every example, from descriptions written by hand from the FSF sources and the page's rules."""
    color = component([["Color", ["enum", ["red", "green", "blue"]]]])
    task = component([["Task", ["shape", [
        ["id", ["str", 1, 64]], ["done", ["bool"]], ["retries", ["int", "u8", 0, 5]],
        ["offset", ["int", "i64", -(1 << 63), (1 << 63) - 1]], ["weight", ["float", 32, None, None]],
        ["score", ["float", 64, -1.0, 1000.0]], ["note", ["opt", STR]], ["blob", ["bytes", 0, 4096]],
        ["digest", ["hash"]], ["at", ["time"]], ["tags", ["arr", 0, 8, STR]],
        ["limits", ["map", 0, 4, STR, ["int", "u32", 0, (1 << 32) - 1]]]]]]])
    decision = component([["Decision", ["union", [
        ["NoPlan", []], ["Ok", [["planId", STR], ["ratio", ["float", 64, 0.0, 1.0]]]]]]]])
    pair = component([
        ["Tree", ["shape", [["label", STR], ["forest", ["opt", ["named", ["local", "Forest"]]]]]]],
        ["Forest", ["shape", [["trees", ["arr", 1, 8, ["named", ["local", "Tree"]]]],
                              ["parent", ["opt", ["ref", ["local", "Tree"]]]]]]]])
    level = type_id("Level", component([["Level", ["enum", ["low", "high"]]]]))
    alert = component([["Alert", ["shape", [["level", ["named", ["id", level]]], ["message", ["str", 1, 200]]]]]])
    return {
        "enum": {"Color": type_id("Color", color)},
        "shape": {"Task": type_id("Task", task)},
        "union": {"Decision": type_id("Decision", decision)},
        "pair": {"Forest": type_id("Forest", pair), "Tree": type_id("Tree", pair)},
        "import": {"Alert": type_id("Alert", alert), "Level": level},
    }


@pytest.mark.parametrize("key", EXAMPLES)
def test_the_rules_alone_give_the_documented_ids(key: str) -> None:
    expected = {name: "blake3:" + digest.hex() for name, digest in _by_hand()[key].items()}
    assert expected == _example(key)["ids"]


def _notation(text: str) -> Any:
    """A description block: JSON with ``h'<hex>'`` byte strings."""
    marked = re.sub(r"h'([0-9a-f]*)'", r'{"h": "\1"}', text)

    def unmark(x: Any) -> Any:
        if isinstance(x, dict):
            return bytes.fromhex(x["h"])
        return [unmark(i) for i in x] if isinstance(x, list) else x

    return unmark(json.loads(marked))


@pytest.mark.parametrize("key", EXAMPLES)
def test_each_description_encodes_to_its_hex(key: str) -> None:
    example = _example(key)
    for label, text in example["descriptions"].items():
        obj = _notation(text)
        assert pack(obj) == example["hex"][label], label
        assert msgpack.packb(obj, use_bin_type=True) == example["hex"][label], label
        if label.startswith("type="):  # the digest inside is that of the documented component bytes
            (component_label,) = [k for k in example["hex"] if k.startswith("component=")
                                  and obj[1] in k.split("=")[1].split(",")]
            assert obj == ["fsf-type-1", label[5:], blake3.blake3(example["hex"][component_label]).digest()]


def test_the_encoding_table_is_what_msgpack_writes() -> None:
    samples: list[Any] = [0, 127, 128, 255, 256, 65535, 65536, (1 << 32) - 1, 1 << 32, (1 << 64) - 1,
                          -1, -32, -33, -128, -129, -32768, -32769, -(1 << 31), -(1 << 31) - 1, -(1 << 63),
                          "", "a" * 31, "a" * 32, "a" * 255, "a" * 256, "a" * 65536, None, 0.0, -0.0, 1.0, 0.1,
                          bytes(32), [], [0] * 15, [0] * 16, [0] * 65535, [0] * 65536]
    for sample in samples:
        assert pack(sample) == msgpack.packb(sample, use_bin_type=True), repr(sample)[:40]


# -- the tables and claims of the prose -----------------------------------------------------------------------

_ROW = re.compile(r"^\| [^|]+ \| [^|]+ \| `([^`]+)` → `([^`]+)` \|$", re.M)


def test_every_type_form_in_the_table_encodes_as_documented() -> None:
    rows = _ROW.findall(DOC.read_text(encoding="utf-8"))
    assert len(rows) == 11
    for spelling, encoding in rows:
        # Inside `Node` itself, so that `Node` and `ref<Node>` are uses of the same component.
        schema = fsf.compile_source(f"shape Node {{ f: arr[0..1]<{spelling}> }}")
        field = schema.ir["Node"].fields[0].type
        assert isinstance(field, ir.Array)
        assert ir.type_list(field.item, lambda name: ["local", name]) == json.loads(encoding), spelling


def _id(text: str) -> str:
    return fsf.compile_source(text).id("A")


def test_the_spelling_claims_hold() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "`f64[0..1e3]` and `f64[0.0..1000]` both give" in text
    assert _id("shape A { x: f64[0..1e3] }") == _id("shape A { x: f64[0.0..1000] }")
    assert "`f64[-0..1]` and `f64[0..1]` differ" in text
    assert _id("shape A { x: f64[-0..1] }") != _id("shape A { x: f64[0..1] }")
    assert "`str` (`0, null`) differs from `str[0..4294967295]`" in text
    assert _id("shape A { x: str }") != _id("shape A { x: str[0..4294967295] }")
    # Doc comments, comments, layout and declaration order are not hashed.
    assert _id("/// a\nshape A { /// b\n x: B }\n// c\nenum B { m }") == _id("enum B{m}shape A{x:B}")


def test_the_imported_ids_do_not_depend_on_the_files(tmp_path: Path) -> None:
    example = _example("import")
    sources = example["sources"]
    (tmp_path / "common.fsf").write_text(sources["common.fsf"], encoding="utf-8")
    alone = fsf.load_schema(tmp_path / "common.fsf")
    assert alone.id("Level") == example["ids"]["Level"]
    one_file = sources["common.fsf"] + sources["main.fsf"].replace('import "common.fsf"', "")
    merged = fsf.compile_source(one_file)
    assert {name: merged.id(name) for name in merged.shapes} == example["ids"]
