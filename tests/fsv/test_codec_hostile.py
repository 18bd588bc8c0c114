"""FSV decoding of hostile bytes: every case of the issue with its code and offset, and the promise under fuzzing.

The promise: for any input ``b``, ``schema.decode(b)`` either returns a value that re-encodes to exactly ``b``,
or raises ``fsf.DecodeError`` with a stable code and a byte offset; never another exception, never memory beyond
a small multiple of the input, never deeper than the nesting limit.
"""

from __future__ import annotations

import functools
import random
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf.fsv import codec
from tests.support.codec_paths import CodecPath

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

HOSTILE_SCHEMA = """
enum Color { red, green, blue }
union Decision { NoPlan, Ok { ratio: f64[0..1], remaining: u64 } }
shape Node { kids: arr[0..65536]<Node> }
shape Bounded { kids: arr[0..128]<Bounded> }
shape U8 { v: u8 }
shape I64 { v: i64 }
shape F64 { v: f64 }
shape F32 { v: f32 }
shape Str { v: str[0..300] }
shape Bin { v: bytes }
shape Hash { v: hash }
shape Time { v: time }
shape Pick { v: Color }
shape Dec { v: Decision }
shape Arr { v: arr[0..2]<u8> }
shape Map { v: map[0..3]<str, u8> }
shape IntMap { v: map[0..3]<i16, bool> }
shape ColorMap { v: map[0..3]<Color, bool> }
shape Pair { a: u8, b: u8 }
shape Opt { v: u8? }
"""

CODES = frozenset({"truncated", "trailing_bytes", "bad_magic", "unsupported_version", "schema_mismatch",
                   "non_canonical", "length_exceeds_input", "too_deep", "utf8", "type", "bounds", "arity",
                   "not_finite", "invalid"})

P = codec.HEADER_SIZE  # the offset of the payload

# (case, root type, payload hex, code, offset of the problem)
HOSTILE: list[tuple[str, str, str, str, int]] = [
    ("empty payload", "U8", "", "truncated", P),
    ("truncated int head", "I64", "91 cf 00", "truncated", P + 1),
    ("truncated float", "F64", "91 cb 3f f0", "truncated", P + 1),
    ("one extra trailing byte", "U8", "91 01 00", "trailing_bytes", P + 2),
    ("array32 header declaring 2^32-1 items", "U8", "dd ff ff ff ff", "length_exceeds_input", P),
    ("map32 header declaring 2^32-1 entries", "Map", "91 df ff ff ff ff", "length_exceeds_input", P + 1),
    ("str32 header declaring 2^32-1 bytes", "Str", "91 db ff ff ff ff", "length_exceeds_input", P + 1),
    ("bin32 header declaring 2^32-1 bytes", "Bin", "91 c6 ff ff ff ff", "length_exceeds_input", P + 1),
    ("count above the schema bound", "Arr", "91 93 01 02 03", "bounds", P + 1),
    ("u8 above its range", "U8", "91 cd 01 00", "bounds", P + 1),
    ("time above i64", "Time", "91 cf 80 00 00 00 00 00 00 00", "bounds", P + 1),
    ("hash of 31 bytes", "Hash", "91 c4 1f" + " 00" * 31, "bounds", P + 1),
    ("uint8 head for 1 (cc 01)", "U8", "91 cc 01", "non_canonical", P + 1),
    ("int8 head for 100 (d0 64)", "I64", "91 d0 64", "non_canonical", P + 1),
    ("int16 head for -1", "I64", "91 d1 ff ff", "non_canonical", P + 1),
    ("uint64 head for 2^32-1", "I64", "91 cf 00 00 00 00 ff ff ff ff", "non_canonical", P + 1),
    ("str8 head for one byte (d9 01 61)", "Str", "91 d9 01 61", "non_canonical", P + 1),
    ("array16 head for no items (dc 00 00)", "Arr", "91 dc 00 00", "non_canonical", P + 1),
    ("array16 head for a shape", "U8", "dc 00 01 05", "non_canonical", P),
    ("map16 head for no entries", "Map", "91 de 00 00", "non_canonical", P + 1),
    ("bin16 head for one byte", "Bin", "91 c5 00 01 61", "non_canonical", P + 1),
    ("float32 where float64 is canonical", "F64", "91 ca 3f 80 00 00", "non_canonical", P + 1),
    ("float64 where float32 is canonical", "F32", "91 cb 3f f0 00 00 00 00 00 00", "non_canonical", P + 1),
    ("-0.0 as float64", "F64", "91 cb 80 00 00 00 00 00 00 00", "non_canonical", P + 1),
    ("-0.0 as float32", "F32", "91 ca 80 00 00 00", "non_canonical", P + 1),
    ("quiet NaN", "F64", "91 cb 7f f8 00 00 00 00 00 00", "not_finite", P + 1),
    ("NaN with a payload", "F64", "91 cb 7f f0 00 00 00 00 00 01", "not_finite", P + 1),
    ("negative NaN", "F64", "91 cb ff f8 00 00 00 00 00 00", "not_finite", P + 1),
    ("float32 NaN with a payload", "F32", "91 ca 7f c0 00 01", "not_finite", P + 1),
    ("infinity", "F64", "91 cb 7f f0 00 00 00 00 00 00", "not_finite", P + 1),
    ("float above its bound", "Dec", "91 93 01 cb 40 00 00 00 00 00 00 00 00", "bounds", P + 3),
    ("duplicate str map keys", "Map", "91 82 a1 61 01 a1 61 02", "non_canonical", P + 5),
    ("unsorted str map keys", "Map", "91 82 a1 62 01 a1 61 02", "non_canonical", P + 5),
    ("int map keys in byte order, not numeric", "IntMap", "91 82 01 c3 ff c3", "non_canonical", P + 4),
    ("duplicate int map keys", "IntMap", "91 82 01 c3 01 c2", "non_canonical", P + 4),
    ("enum map keys out of member order", "ColorMap", "91 82 02 c3 00 c3", "non_canonical", P + 4),
    ("fixext 1", "U8", "91 d4 00 00", "type", P + 1),
    ("ext 8", "U8", "91 c7 01 05 00", "type", P + 1),
    ("msgpack timestamp for a time", "Time", "91 d6 ff 00 00 00 00", "type", P + 1),
    ("the reserved byte c1", "U8", "91 c1", "type", P + 1),
    ("invalid UTF-8", "Str", "91 a1 ff", "utf8", P + 2),
    ("overlong UTF-8 for /", "Str", "91 a2 c0 af", "utf8", P + 2),
    ("UTF-8 encoded surrogate", "Str", "91 a4 61 ed a0 80", "utf8", P + 3),
    ("UTF-8 cut inside a character", "Str", "91 a2 61 e2", "utf8", P + 3),
    ("record with too few fields", "Pair", "91 01", "arity", P),
    ("record with too many fields", "Pair", "93 01 02 03", "arity", P),
    ("union with no variant index", "Dec", "91 90", "arity", P + 1),
    ("unit variant with a field", "Dec", "91 92 00 01", "arity", P + 1),
    ("enum index out of range", "Pick", "91 03", "bounds", P + 1),
    ("negative enum index", "Pick", "91 ff", "bounds", P + 1),
    ("variant index out of range", "Dec", "91 91 05", "bounds", P + 2),
    ("variant index that is a str", "Dec", "91 91 a0", "type", P + 2),
    ("true where an integer is expected", "U8", "91 c3", "type", P + 1),
    ("nil where a value is required", "U8", "91 c0", "type", P + 1),
    ("float where an integer is expected", "U8", "91 cb 3f f0 00 00 00 00 00 00", "type", P + 1),
    ("integer where a float is expected", "F64", "91 01", "type", P + 1),
    ("str where bytes are expected", "Bin", "91 a1 61", "type", P + 1),
    ("map where a shape is expected", "U8", "81 a1 76 01", "type", P),
    ("nested arrays against a non-recursive type", "Arr", "91 91 91 01", "type", P + 2),
    ("100 000 nested arrays against a recursive schema", "Node", "91" * 100_000, "too_deep", P + 64),
    ("nested headers each declaring 65 536 items", "Node", "91 dd 00 01 00 00" * 20_000, "too_deep", P + 6 * 32),
    ("nested headers above the schema bound", "Bounded", "91 dd 00 01 00 00" * 20_000, "bounds", P + 1),
]


@pytest.fixture(autouse=True)
def _every_path(codec_path: CodecPath) -> None:
    """Every test here runs through every execution path of the codec (the ``codec_path`` fixture), with the
    same expectations."""


@pytest.fixture(scope="module")
def base_schema() -> fsf.Schema:
    return fsf.compile_source(HOSTILE_SCHEMA, "hostile.fsf")


@pytest.fixture
def schema(base_schema: fsf.Schema, codec_path: CodecPath) -> fsf.Schema:
    return codec_path.use(base_schema)


def fsv(schema: fsf.Schema, name: str, payload_hex: str) -> bytes:
    return codec.pack_header(schema.id_bytes(name)) + bytes.fromhex(payload_hex)


def expect_reject(schema: fsf.Schema, data: bytes, name: str | None = None) -> fsf.DecodeError:
    with pytest.raises(fsf.DecodeError) as info:
        schema.decode(data, name)
    err = info.value
    assert isinstance(err, fsf.FsfError) and isinstance(err, ValueError)
    assert err.code in CODES
    assert 0 <= err.offset <= len(data)
    return err


@pytest.mark.parametrize(("case", "name", "payload", "code", "offset"), HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_payload_is_rejected_with_its_code(schema: fsf.Schema, case: str, name: str, payload: str,
                                                   code: str, offset: int) -> None:
    data = fsv(schema, name, payload)
    err = expect_reject(schema, data)
    assert (err.code, err.offset) == (code, offset), str(err)
    # The reference reader alone reaches the same verdict (the fast path only ever defers to it).
    with pytest.raises(fsf.DecodeError) as info:
        codec.read_reference(schema.ir, name, data, P)
    assert (info.value.code, info.value.offset) == (code, offset)
    # Verifying (no value kept) refuses with the very same error.
    with pytest.raises(fsf.DecodeError) as verified:
        schema.verify(data)
    assert str(verified.value) == str(err)


@pytest.mark.parametrize(("data", "code", "offset"), [
    (b"", "truncated", 0),
    (b"\x89F", "truncated", 2),
    (b"\x89FSV", "truncated", 4),
    (b"FSV\x01" + bytes(40), "bad_magic", 0),
    (b"{\"id\": 1}", "bad_magic", 0),
    (b"\x89FSV\x02" + bytes(33), "unsupported_version", 4),
    (b"\x89FSV\x00" + bytes(33), "unsupported_version", 4),
    (b"\x89FSV\x01" + bytes(10), "truncated", 15),
], ids=["empty", "magic prefix", "no version", "wrong magic", "json", "version 2", "version 0", "short id"])
def test_bad_headers(schema: fsf.Schema, data: bytes, code: str, offset: int) -> None:
    err = expect_reject(schema, data)
    assert (err.code, err.offset) == (code, offset)
    with pytest.raises(fsf.DecodeError) as verified:
        schema.verify(data)
    assert str(verified.value) == str(err)


def test_verify_names_the_root_type_and_insists_on_a_name(schema: fsf.Schema) -> None:
    data = fsv(schema, "Dec", "91 93 01 cb 3f e0 00 00 00 00 00 00 09")
    assert schema.verify(data) == schema.verify(bytearray(data)) == schema.verify(data, "Dec") == "Dec"
    with pytest.raises(fsf.DecodeError) as info:
        schema.verify(data, "Opt")
    assert info.value.code == "schema_mismatch"
    with pytest.raises(TypeError):
        schema.verify("text")  # type: ignore[arg-type]


def test_whole_messages(schema: fsf.Schema) -> None:
    cases = [
        ("U8", "91 c3", "Expected `u8`, got `bool` at `$.v` - at byte 38 [type]"),
        ("Map", "91 82 a1 61 01 a1 61 02", 'duplicate map key "a" at `$.v["a"]` - at byte 42 [non_canonical]'),
        ("Dec", "91 93 01 cb 40 00 00 00 00 00 00 00 00",
         "2.0 is out of range for `f64[0..1]` at `$.v.Ok.ratio` - at byte 40 [bounds]"),
        ("U8", "91 cc 01", "int 1 in a wider head (`cc`) than needed at `$.v` - at byte 38 [non_canonical]"),
        ("Str", "91 a2 c0 af", "invalid UTF-8 in a str (invalid start byte) at `$.v` - at byte 39 [utf8]"),
        ("U8", "91 01 00", "1 byte(s) after the end of the value at `$` - at byte 39 [trailing_bytes]"),
        ("Pair", "91 01", "`Pair` has 2 field(s); the array holds 1 at `$` - at byte 37 [arity]"),
        ("U8", "dd ff ff ff ff",
         "array declares 4294967295 items; only 0 byte(s) remain at `$` - at byte 37 [length_exceeds_input]"),
    ]
    for name, payload, message in cases:
        assert str(expect_reject(schema, fsv(schema, name, payload))) == message


def test_schema_mismatch_names_both_ids_and_the_known_type(codec_path: CodecPath, schema: fsf.Schema) -> None:
    data = fsv(schema, "U8", "91 01")
    err = expect_reject(schema, data, "I64")
    assert err.code == "schema_mismatch" and err.offset == 5
    assert str(err) == (f"the value's root type is `U8` {schema.id('U8')}; expected `I64` {schema.id('I64')}"
                        " - at byte 5 [schema_mismatch]")
    other = codec_path.compile("shape U8 { v: u16 }")
    err = expect_reject(other, data, "U8")
    assert str(err) == (f"the value's root type is a type unknown to this schema, {schema.id('U8')}; "
                        f"expected `U8` {other.id('U8')} - at byte 5 [schema_mismatch]")
    err = expect_reject(other, data)
    assert str(err) == (f"the value's root type {schema.id('U8')} is not a type of this schema"
                        " - at byte 5 [schema_mismatch]")


def test_header_alone_names_the_root_type(schema: fsf.Schema) -> None:
    assert schema.decode(fsv(schema, "U8", "91 cc c8")) == {"v": 200}
    assert schema.decode(fsv(schema, "U8", "91 cc c8"), "U8") == {"v": 200}


def test_every_proper_prefix_of_every_vector_is_rejected(codec_path: CodecPath, schema: fsf.Schema) -> None:
    vectors = _valid_vectors(codec_path)
    assert vectors
    for s, name, data in vectors:
        for end in range(len(data)):
            err = expect_reject(s, data[:end], name)
            assert err.code in ("truncated", "length_exceeds_input", "bad_magic"), (end, str(err))
            assert err.code != "bad_magic" or end < 4


def test_hostile_nesting_stays_within_memory(schema: fsf.Schema) -> None:
    # Nested headers that each claim many items: msgpack would allocate every claim up front.
    for name, unit, count in (("Node", "91 dd 00 01 00 00", 20_000), ("Node", "91 dc ff ff", 40_000),
                              ("Node", "91 dc 02 54", 40_000), ("Node", "91" * 2, 100_000)):
        data = fsv(schema, name, unit * count)
        tracemalloc.start()
        try:
            expect_reject(schema, data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 40 * len(data) + (2 << 20), (unit, peak, len(data))


def test_large_legitimate_array_takes_the_reference_path_and_decodes(codec_path: CodecPath) -> None:
    s = codec_path.compile("shape Big { xs: arr[0..100000]<u8> }")
    value = {"xs": [7] * 50_000}
    data = s.encode("Big", value)
    assert s.decode(data) == value


# ---------------------------------------------------------------------------------------------------------------
# The promise under mutation: >= 10 000 mutated vectors, seeded


def _valid_vectors(codec_path: CodecPath | None = None) -> list[tuple[fsf.Schema, str, bytes]]:
    """(schema, root, bytes) of every committed valid vector (schemas whose codec runs ``codec_path``, if given)."""
    import json

    doc = json.loads((VECTORS / "fsv-vectors.json").read_text("utf-8"))
    compile_ = codec_path.compile if codec_path is not None else fsf.compile_source
    schemas = {key: compile_(text, f"{key}.fsf") for key, text in doc["schemas"].items()}
    return [(schemas[v["schema"]], v["type"], bytes.fromhex(v["fsv"])) for v in doc["valid"]]


def assert_promise(s: fsf.Schema, name: str | None, data: bytes) -> str:
    """Decode ``data``; either it re-encodes to itself or it is a DecodeError. Returns the outcome's code."""
    try:
        value = s.decode(data, name)
    except fsf.DecodeError as err:
        assert err.code in CODES, str(err)
        assert 0 <= err.offset <= len(data), str(err)
        return err.code
    root = s.name_of(data[5:P])
    assert root is not None
    assert s.encode(root, value) == data
    assert codec.read_reference(s.ir, root, data, P) == value
    return "ok"


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        op = rng.randrange(7)
        i = rng.randrange(P, len(b)) if len(b) > P else len(b)
        if op == 0 and i < len(b):
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and i < len(b):
            b[i] = rng.choice((0x00, 0x7F, 0x80, 0x90, 0xA0, 0xC0, 0xC1, 0xC2, 0xC3, 0xCA, 0xCB, 0xCC, 0xD0, 0xD4,
                               0xD9, 0xDC, 0xDD, 0xDE, 0xDF, 0xFF, rng.randrange(256)))
        elif op == 2 and i < len(b):
            del b[i : i + rng.randrange(1, 4)]
        elif op == 3:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3)))
        elif op == 4:
            del b[rng.randrange(len(b) + 1):]
        elif op == 5 and i < len(b):
            j = rng.randrange(i, len(b) + 1)
            b[j:j] = b[i:j]
        elif op == 6 and i < len(b) - 1:
            b[i], b[i + 1] = b[i + 1], b[i]
    return bytes(b)


def test_mutation_fuzz_keeps_the_promise(codec_path: CodecPath) -> None:
    rng = random.Random(20261122)
    vectors = _valid_vectors(codec_path)
    outcomes: dict[str, int] = {}
    cases = 0
    while cases < 10_000:
        for s, name, data in vectors:
            mutated = _mutate(rng, data)
            code = assert_promise(s, name if rng.random() < 0.5 else None, mutated)
            outcomes[code] = outcomes.get(code, 0) + 1
            cases += 1
    # The mutations reach deep into the decoder, not only its header checks.
    assert {"non_canonical", "type", "truncated", "length_exceeds_input", "bounds"} <= set(outcomes), outcomes


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_any_payload_keeps_the_promise(codec_path: CodecPath, data: st.DataObject) -> None:
    s = _hostile_schema(codec_path)
    name = data.draw(st.sampled_from(["Dec", "Map", "Node", "Str", "F32", "ColorMap", "Opt", "IntMap"]))
    payload = data.draw(st.binary(max_size=40))
    assert_promise(s, name, codec.pack_header(s.id_bytes(name)) + payload)


@functools.cache
def _hostile_schema(codec_path: CodecPath | None = None) -> fsf.Schema:
    s = fsf.compile_source(HOSTILE_SCHEMA, "hostile.fsf")
    return codec_path.use(s) if codec_path is not None else s
