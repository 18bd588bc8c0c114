"""The FSV codec: exact encodings of every type, canonical round trips under hypothesis, content ids, the API,
and the committed test vectors (``tests/vectors/fsv-vectors.json``, regenerated with ``FSF_UPDATE_GOLDEN=1``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import blake3
import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.fsv import codec
from fsf.fsv.jsonform import from_json, to_json
from tests.fsv.test_codec_hostile import HOSTILE, HOSTILE_SCHEMA
from tests.support.codec_paths import CodecPath
from tests.support.golden import Golden
from tests.support.strategies import lenient, normalise, schema_texts, values

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
VECTOR_FILE = VECTORS / "fsv-vectors.json"

SCHEMAS = {"every": (VECTORS / "every.fsf").read_text("utf-8"), "hostile": HOSTILE_SCHEMA}
Z32 = "00" * 32

EVERY_MINIMAL: dict[str, Any] = {
    "flag": False, "i8v": 0, "i16v": 0, "i32v": 0, "i64v": 0, "u8v": 0, "u16v": 0, "u32v": 0, "u64v": 0,
    "f32v": 0.0, "f64v": 0.0, "name": "x", "blob": "", "digest": Z32, "at": "1970-01-01T00:00:00Z",
    "plan": "blake3:" + Z32, "strategy": "sequential", "decision": {"NoPlan": {}}, "tags": [], "weights": {},
    "counts": {}, "byStrategy": {}, "note": None, "tree": None, "matrix": [],
}
EVERY_TYPICAL: dict[str, Any] = {
    **EVERY_MINIMAL,
    "flag": True, "i8v": -3, "i16v": 300, "i32v": -70000, "i64v": 1 << 40, "u8v": 5, "u16v": 200, "u32v": 70000,
    "u64v": 1 << 33, "f32v": 1.5, "f64v": 0.1, "name": "forge plan", "blob": "AAEC/w==",
    "digest": blake3.blake3(b"digest").hexdigest(), "at": "2026-11-22T00:46:54.123456789Z",
    "plan": "blake3:" + blake3.blake3(b"plan").hexdigest(), "strategy": "parallel",
    "decision": {"Ok": {"planId": "team", "ratio": 0.75, "remaining": 120}},
    "tags": ["auth", "", "docs"], "weights": {"a": 0.25, "b": -2.5, "é": 1e308}, "counts": {"-1": 1, "0": 2, "7": 3},
    "byStrategy": {"sequential": True, "racing": False}, "note": "see T3",
    "tree": {"label": "root", "parent": None, "children": [
        {"label": "a", "children": [], "parent": "blake3:" + "ab" * 32},
        {"label": "b", "children": [{"label": "b1", "children": [], "parent": None}], "parent": None}]},
    "matrix": [[1, -1, 32767], [-32768], []],
}
EVERY_EDGES: dict[str, Any] = {
    **EVERY_TYPICAL,
    "i8v": -128, "i16v": -32768, "i32v": -(1 << 31), "i64v": -(1 << 63), "u16v": 65535, "u32v": (1 << 32) - 1,
    "u64v": (1 << 64) - 1, "f32v": 3.4028234663852886e38, "f64v": -5e-324, "name": "😀" * 64,
    "blob": "/" * 85 + "w==", "digest": "ff" * 32, "at": "1677-09-21T00:12:43.145224192Z",
    "decision": {"Unlimited": {"planId": "ü" * 200}},
    "tags": ["x" * 31, "y" * 32, "z" * 255, "w" * 256, "", "ß", "日本", "\u0000"],
    "weights": {"B": 0.0, "a": -0.0, "ä": 1.0, "😀": 2.0},
    "counts": {"-2147483648": 0, "-33": 1, "-32": 2, "127": 3, "128": 4, "255": 5, "256": 6, "2147483647": 255},
    "byStrategy": {"sequential": True, "parallel": False, "racing": True}, "note": "",
    "tree": {"label": "", "children": [], "parent": None},
    "matrix": [[0, 127, 128], [-129, 255, 256], [-32768, 32767, -1]],
}

VALID: list[tuple[str, str, str, Any]] = [
    ("every: minimal", "every", "Every", EVERY_MINIMAL),
    ("every: typical", "every", "Every", EVERY_TYPICAL),
    ("every: limits of every type", "every", "Every", EVERY_EDGES),
    ("union as the root", "every", "Decision", {"Ok": {"planId": "p", "ratio": 1.0, "remaining": 0}}),
    ("unit variant as the root", "every", "Decision", {"NoPlan": {}}),
    ("enum as the root", "every", "Strategy", "racing"),
    ("recursive root", "every", "Tree", {"label": "t", "children": [{"label": "u", "children": [], "parent": None}],
                                         "parent": "blake3:" + "cd" * 32}),
    ("u8 127 is a fixint", "hostile", "U8", {"v": 127}),
    ("u8 128 takes cc", "hostile", "U8", {"v": 128}),
    ("i64 -32 is a fixint", "hostile", "I64", {"v": -32}),
    ("i64 -33 takes d0", "hostile", "I64", {"v": -33}),
    ("i64 2^32 takes cf", "hostile", "I64", {"v": 1 << 32}),
    ("f32 is float 32", "hostile", "F32", {"v": 0.10000000149011612}),
    ("f64 is float 64", "hostile", "F64", {"v": 0.1}),
    ("f64 zero", "hostile", "F64", {"v": 0.0}),
    ("str of 31 bytes is a fixstr", "hostile", "Str", {"v": "a" * 31}),
    ("str of 32 bytes takes d9", "hostile", "Str", {"v": "a" * 32}),
    ("str of 256 bytes takes da", "hostile", "Str", {"v": "é" * 128}),
    ("bin of 0 bytes takes c4", "hostile", "Bin", {"v": ""}),
    ("time is integer nanoseconds", "hostile", "Time", {"v": "2026-11-22T00:46:54.5Z"}),
    ("time before the epoch", "hostile", "Time", {"v": "1969-12-31T23:59:59.999999999Z"}),
    ("int map keys in numeric order", "hostile", "IntMap", {"v": {"-1": True, "1": False, "300": True}}),
    ("enum map keys in member order", "hostile", "ColorMap", {"v": {"red": True, "blue": False}}),
    ("str map keys in code point order", "hostile", "Map", {"v": {"Z": 1, "a": 2, "é": 3}}),
    ("absent optional is nil", "hostile", "Opt", {"v": None}),
    ("present optional", "hostile", "Opt", {"v": 0}),
    ("unit variant is [index]", "hostile", "Dec", {"v": {"NoPlan": {}}}),
    ("variant with fields is [index, fields...]", "hostile", "Dec", {"v": {"Ok": {"ratio": 0.5, "remaining": 9}}}),
]

@pytest.fixture(autouse=True)
def _every_path(codec_path: CodecPath) -> None:
    """Every test here runs through every execution path of the codec (the ``codec_path`` fixture), with the
    same expectations."""


REJECT_MAX_PAYLOAD = 64
"""Hostile cases with longer payloads stay in test_codec_hostile only (they would bloat the vector file)."""


def _schemas() -> dict[str, fsf.Schema]:
    return {key: fsf.compile_source(text, f"{key}.fsf") for key, text in SCHEMAS.items()}


def build_vectors() -> dict[str, Any]:
    """The vector document, computed from the cases above with this implementation."""
    schemas = _schemas()
    valid = []
    for case, key, name, data in VALID:
        s = schemas[key]
        encoded = s.encode(name, from_json(s, name, data))
        valid.append({"name": case, "schema": key, "type": name, "json": to_json(s, name, s.decode(encoded)),
                      "fsv": encoded.hex(), "content_id": fsf.content_id(encoded)})
    reject = []
    s = schemas["hostile"]
    for case, name, payload, code, offset in HOSTILE:
        data = codec.pack_header(s.id_bytes(name)) + bytes.fromhex(payload)
        if len(data) - codec.HEADER_SIZE <= REJECT_MAX_PAYLOAD:
            reject.append({"name": case, "schema": "hostile", "type": name, "fsv": data.hex(), "code": code,
                           "offset": offset})
    return {
        "description": "FSV format version 1 test vectors: for each valid case, the JSON form, the FSV bytes "
                       "(hex) and the content id; for each reject case, bytes a decoder must refuse with the "
                       "given code at the given byte offset. The format is specified in docs/fsv.md.",
        "schemas": SCHEMAS,
        "type_ids": {key: {n: s.id(n) for n in s.shapes} for key, s in schemas.items()},
        "valid": valid,
        "reject": reject,
    }


def test_vectors_never_change(golden: Golden) -> None:
    golden.json(VECTOR_FILE, build_vectors(), lambda value: json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def test_committed_vectors_decode_and_reject_as_recorded(codec_path: CodecPath,
                                                          no_fallback: Callable[[fsf.Schema], fsf.Schema]) -> None:
    doc = json.loads(VECTOR_FILE.read_text("utf-8"))
    schemas = {key: codec_path.compile(text, f"{key}.fsf") for key, text in doc["schemas"].items()}
    for key, ids in doc["type_ids"].items():
        assert {n: schemas[key].id(n) for n in schemas[key].shapes} == ids
    for v in doc["valid"]:
        s, data = no_fallback(schemas[v["schema"]]), bytes.fromhex(v["fsv"])
        assert fsf.content_id(data) == v["content_id"]
        assert blake3.blake3(data).hexdigest() == v["content_id"][7:]
        assert to_json(s, v["type"], s.decode(data)) == v["json"]
        assert s.encode(v["type"], from_json(s, v["type"], v["json"])) == data
    assert len(doc["reject"]) >= 40
    for r in doc["reject"]:
        with pytest.raises(fsf.DecodeError) as info:
            schemas[r["schema"]].decode(bytes.fromhex(r["fsv"]), r["type"])
        assert (info.value.code, info.value.offset) == (r["code"], r["offset"]), r["name"]


# ---------------------------------------------------------------------------------------------------------------
# Exact bytes


def test_container_layout(codec_path: CodecPath) -> None:
    s = codec_path.compile("shape T { v: u8 }")
    data = s.encode("T", {"v": 5})
    assert data == b"\x89FSV\x01" + s.id_bytes("T") + b"\x91\x05"
    header = codec.read_header(data)
    assert (header.version, header.root_id, header.payload_offset, header.payload_size) == (1, s.id_bytes("T"),
                                                                                             37, 2)


@pytest.mark.parametrize(("schema", "value", "payload"), [
    ("shape T { v: bool }", {"v": True}, "91 c3"),
    ("shape T { v: i8 }", {"v": -1}, "91 ff"),
    ("shape T { v: u64 }", {"v": (1 << 64) - 1}, "91 cf ff ff ff ff ff ff ff ff"),
    ("shape T { v: i64 }", {"v": -(1 << 63)}, "91 d3 80 00 00 00 00 00 00 00"),
    ("shape T { v: u16 }", {"v": 256}, "91 cd 01 00"),
    ("shape T { v: f32 }", {"v": 1.5}, "91 ca 3f c0 00 00"),
    ("shape T { v: f64 }", {"v": 1}, "91 cb 3f f0 00 00 00 00 00 00"),
    ("shape T { v: f64 }", {"v": -0.0}, "91 cb 00 00 00 00 00 00 00 00"),
    ("shape T { v: str }", {"v": "é"}, "91 a2 c3 a9"),
    ("shape T { v: bytes }", {"v": b"\x00"}, "91 c4 01 00"),
    ("shape T { v: hash }", {"v": bytes(32)}, "91 c4 20" + " 00" * 32),
    ("shape T { v: ref<T>? }", {"v": "blake3:" + "01" * 32}, "91 c4 20" + " 01" * 32),
    ("shape T { v: ref<T>? }", {}, "91 c0"),
    ("shape T { v: time }", {"v": dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)},
     "91 ce 3b 9a ca 00"),
    ("shape T { v: time }", {"v": -1}, "91 ff"),
    ("enum E { a, b, c } shape T { v: E }", {"v": "c"}, "91 02"),
    ("union U { A, B { x: u8, y: str? } } shape T { v: U }", {"v": {"A": {}}}, "91 91 00"),
    ("union U { A, B { x: u8, y: str? } } shape T { v: U }", {"v": {"B": {"x": 9}}}, "91 93 01 09 c0"),
    ("shape T { v: arr[0..20]<u8> }", {"v": list(range(16))}, "91 dc 00 10" + "".join(f" {i:02x}" for i in range(16))),
    ("shape T { v: map[0..3]<str, u8> }", {"v": {"b": 1, "a": 2}}, "91 82 a1 61 02 a1 62 01"),
    ("shape T { v: map[0..3]<i8, u8> }", {"v": {1: 1, -1: 2}}, "91 82 ff 02 01 01"),
    ("enum E { z, a } shape T { v: map[0..3]<E, u8> }", {"v": {"a": 1, "z": 2}}, "91 82 00 02 01 01"),
    ("shape T { a: u8, b: str? }", {"a": 1, "b": None}, "92 01 c0"),
])
def test_exact_payload_bytes(codec_path: CodecPath, schema: str, value: Any, payload: str) -> None:
    s = codec_path.compile(schema)
    data = s.encode("T", value)
    assert data[codec.HEADER_SIZE:].hex(" ") == payload
    assert s.encode("T", s.decode(data)) == data


def test_decode_returns_the_documented_python_form(codec_path: CodecPath) -> None:
    s = codec_path.compile("shape T { at: time, f: f64, note: str?, r: ref<T>? }")
    moment = dt.datetime(2026, 11, 22, 0, 46, 54, 123456, tzinfo=dt.timezone.utc)
    value = s.decode(s.encode("T", {"at": moment, "f": 2}))
    assert value == {"at": 1795308414123456000, "f": 2.0, "note": None, "r": None}
    assert type(value["f"]) is float and type(value["at"]) is int


def test_encode_validates(codec_path: CodecPath) -> None:
    s = codec_path.compile("shape T { v: u8[0..5] }")
    with pytest.raises(fsf.ValidationError) as info:
        s.encode("T", {"v": 6})
    assert info.value.path == "$.v"
    with pytest.raises(fsf.UsageError):
        s.encode("Nope", {})


def test_content_id_covers_the_schema(codec_path: CodecPath) -> None:
    a = codec_path.compile("shape T { v: u8 }")
    b = codec_path.compile("shape T { v: u16 }")
    da, db = a.encode("T", {"v": 1}), b.encode("T", {"v": 1})
    assert da[codec.HEADER_SIZE:] == db[codec.HEADER_SIZE:]
    assert fsf.content_id(da) != fsf.content_id(db)
    assert fsf.content_id(da) == "blake3:" + blake3.blake3(da).hexdigest()
    assert fsf.content_id(bytearray(da)) == fsf.content_id(memoryview(da)) == fsf.content_id(da)


def test_decode_accepts_bytearray_and_memoryview(codec_path: CodecPath) -> None:
    s = codec_path.compile("shape T { v: u8 }")
    data = s.encode("T", {"v": 1})
    assert s.decode(bytearray(data)) == s.decode(memoryview(data)) == {"v": 1}


def test_decode_keeps_no_state_between_calls(codec_path: CodecPath) -> None:
    s = codec_path.compile("shape T { v: arr[0..3]<u8> }")
    good = s.encode("T", {"v": [1, 2]})
    bad = good[:-1] + b"\xc1"
    for _ in range(3):
        assert s.decode(good) == {"v": [1, 2]}
        with pytest.raises(fsf.DecodeError):
            s.decode(bad)


# ---------------------------------------------------------------------------------------------------------------
# Properties over schemas that use every type of the language


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_round_trip_and_canonical_form(codec_path: CodecPath, no_fallback: Callable[[fsf.Schema], fsf.Schema],
                                       data: st.DataObject) -> None:
    s = codec_path.compile(data.draw(schema_texts(), label="schema"))
    served = no_fallback(s)  # the canonical form: the fast path serves it (lenient spellings may fall back)
    value = data.draw(values(s.ir, "Root"), label="value")
    encoded = served.encode("Root", value)
    decoded = served.decode(encoded)
    assert decoded == value
    assert served.decode(encoded, "Root") == value
    assert served.encode("Root", decoded) == encoded
    # The reference reader and the canonical writer agree with the fast path byte for byte.
    assert codec.read_reference(s.ir, "Root", encoded, codec.HEADER_SIZE) == value
    out = bytearray()
    codec.write_wire(s.ir, ir.Named("Root"), s.codec.plan.to_wire("Root")(value), out)
    assert bytes(out) == encoded[codec.HEADER_SIZE:]
    # Lenient spellings (missing optionals, datetimes, integral floats) encode to the same bytes.
    respelled = data.draw(lenient(s.ir, "Root", value), label="lenient")
    assert s.encode("Root", respelled) == encoded
    assert normalise(s.ir, "Root", respelled) == value


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_accepted_bytes_re_encode_to_themselves(codec_path: CodecPath, data: st.DataObject) -> None:
    s = codec_path.compile(data.draw(schema_texts(), label="schema"))
    value = data.draw(values(s.ir, "Root"), label="value")
    payload = bytearray(s.encode("Root", value)[codec.HEADER_SIZE:])
    # Respell the payload through msgpack's own (non-canonical) writer choices and byte edits.
    edits = data.draw(st.lists(st.tuples(st.integers(0, max(0, len(payload) - 1)), st.integers(0, 255)),
                               max_size=3), label="edits")
    for i, b in edits:
        if payload:
            payload[i] = b
    candidate = codec.pack_header(s.id_bytes("Root")) + bytes(payload)
    try:
        got = s.decode(candidate)
    except fsf.DecodeError:
        return
    assert s.encode("Root", got) == candidate


def test_msgpack_default_spellings_are_not_canonical_for_f32(codec_path: CodecPath) -> None:
    s = codec_path.compile("shape T { v: f32 }")
    payload = msgpack.packb([1.5])  # msgpack-python writes float 64
    with pytest.raises(fsf.DecodeError) as info:
        s.decode(codec.pack_header(s.id_bytes("T")) + payload)
    assert info.value.code == "non_canonical"


def test_long_chains_of_types_build_without_recursion(codec_path: CodecPath) -> None:
    n = 3000
    text = "\n".join(f"shape S{i} {{ a: S{i + 1}? }}" for i in range(n)) + f"\nshape S{n} {{ x: u8 }}"
    s = codec_path.compile(text)
    value = {"a": {"a": {"a": {"x": 5}}}}
    data = s.encode(f"S{n - 3}", value)
    assert s.decode(data) == value
    assert s.decode(s.encode("S0", {"a": None})) == {"a": None}


def test_recursive_types_round_trip_through_the_cycle(codec_path: CodecPath) -> None:
    s = codec_path.compile("shape A { b: B? } shape B { a: A?, n: u8 }")
    value = {"b": {"a": {"b": {"a": None, "n": 2}}, "n": 1}}
    assert s.decode(s.encode("A", value)) == value
