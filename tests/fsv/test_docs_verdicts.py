"""docs/fsv.md settles every decoder verdict a second implementation needs: each case of "Reading the header",
"Verdicts in detail" and "JSON numbers for `f32` and `f64`", with its code and offset, on every codec path.

Where the page gives an example input, the test reads it from the page, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fsf
from fsf.fsv import codec, jsonform
from tests.support.codec_paths import CodecPath

DOC = Path(__file__).resolve().parents[2] / "docs" / "fsv.md"
P = codec.HEADER_SIZE

SCHEMA = """
union Decision { NoPlan, Ok { ratio: f64[0..1], remaining: u64 } }
shape U8 { v: u8 }
shape I64 { v: i64 }
shape F64 { v: f64[0..1] }
shape F32 { v: f32[0..1] }
shape Str { v: str }
shape Short { v: str[0..1] }
shape Bin { v: bytes }
shape Pair { a: arr[0..2]<u8>, b: u8 }
shape Dec { v: Decision }
shape Keys { v: map[0..3]<str[0..1], u8> }
shape IntKeys { v: map[0..3]<i16[0..9], bool> }
shape Real { v: f32 }
shape Wide { v: f64 }
"""


@pytest.fixture(autouse=True)
def _every_path(codec_path: CodecPath) -> None:
    """Every test here runs through every execution path of the codec (the ``codec_path`` fixture), with the
    same expectations."""


@pytest.fixture(scope="module")
def base_schema() -> fsf.Schema:
    return fsf.compile_source(SCHEMA, "verdicts.fsf")


@pytest.fixture
def schema(base_schema: fsf.Schema, codec_path: CodecPath) -> fsf.Schema:
    return codec_path.use(base_schema)


def _doc() -> str:
    return " ".join(DOC.read_text(encoding="utf-8").split())


def _bullet(title: str) -> str:
    """The text of the bullet of "Verdicts in detail" that starts with ``title`` (whitespace folded)."""
    m = re.search(r"- \*" + re.escape(title) + r"(.*?)(?= - \*|## )", _doc())
    assert m, title
    return m.group(1)


def fsv(schema: fsf.Schema, name: str, payload_hex: str) -> bytes:
    return codec.pack_header(schema.id_bytes(name)) + bytes.fromhex(payload_hex)


def verdict(schema: fsf.Schema, data: bytes, name: str | None = None) -> tuple[str, int, str]:
    """The code, offset and message of the refusal of ``data``; ``verify`` must refuse with the same error."""
    with pytest.raises(fsf.DecodeError) as decoded:
        schema.decode(data, name)
    with pytest.raises(fsf.DecodeError) as verified:
        schema.verify(data, name)
    assert str(verified.value) == str(decoded.value)
    err = decoded.value
    return err.code, err.offset, str(err)


# -- Reading the header ------------------------------------------------------------------------------------------


def test_the_header_steps_are_documented() -> None:
    text = _doc()
    assert "(1) the first `min(n, 4)` bytes must equal the start of the magic, else `bad_magic` at offset 0" in text
    assert "(2) if `n < 5`, `truncated` at offset `n`" in text
    assert "else `unsupported_version` at offset 4, however short the rest is" in text
    assert "(4) if `n < 37`, `truncated` at offset `n`" in text
    assert "an input of exactly 37 bytes has an empty payload, which is `truncated` at offset 37" in text


@pytest.mark.parametrize("n", range(P))
def test_a_truncated_header_is_reported_at_the_input_length(schema: fsf.Schema, n: int) -> None:
    header = codec.pack_header(schema.id_bytes("U8"))
    assert verdict(schema, header[:n])[:2] == ("truncated", n)


@pytest.mark.parametrize("n", range(1, P))
def test_a_wrong_magic_prefix_is_bad_magic_at_every_length(schema: fsf.Schema, n: int) -> None:
    header = codec.pack_header(schema.id_bytes("U8"))
    for k in range(min(n, 4)):  # each byte of the magic that the input has, changed
        data = bytearray(header[:n])
        data[k] ^= 0x80
        assert verdict(schema, bytes(data))[:2] == ("bad_magic", 0), data.hex()


@pytest.mark.parametrize("n", range(5, P + 3))
def test_the_version_is_checked_before_the_length_of_the_id(schema: fsf.Schema, n: int) -> None:
    data = (codec.MAGIC + b"\x02" + schema.id_bytes("U8") + b"\x91\x01")[:n]
    assert verdict(schema, data)[:2] == ("unsupported_version", 4)


def test_the_header_alone_is_a_truncated_payload(schema: fsf.Schema) -> None:
    assert verdict(schema, fsv(schema, "U8", ""))[:2] == ("truncated", P)


# -- Verdicts in detail ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "payload", "code", "offset"), [
    ("I64", "91 cf 00 00", "truncated", P + 1),         # a uint 64 head cut inside its argument
    ("I64", "91 d1", "truncated", P + 1),               # an int 16 head with no argument at all
    ("Str", "91 d9", "truncated", P + 1),               # a str 8 head without its length
    ("Bin", "91 c5 00", "truncated", P + 1),            # a bin 16 head cut inside its length
    ("Pair", "92 dc 00", "truncated", P + 1),           # an array 16 head cut inside its count
    ("F64", "91 cb 3f f0 00", "truncated", P + 1),      # a float 64 cut inside its 8 bytes
    ("Pair", "92 92 01 02", "truncated", P + 4),        # the input ends where a value should start
    ("Str", "91 a3 61", "length_exceeds_input", P + 1),  # a str whose data is cut
    ("Bin", "91 c4 05 00", "length_exceeds_input", P + 1),
    ("Pair", "92 01", "length_exceeds_input", P),       # more items than the remaining bytes could hold
    ("U8", "91", "length_exceeds_input", P),
])
def test_truncation_in_the_payload(schema: fsf.Schema, name: str, payload: str, code: str, offset: int) -> None:
    assert "is `truncated` at the head's offset; an input that ends where a value should start is `truncated` at " \
           "the input's length" in _bullet("Truncation in the payload.*")
    assert verdict(schema, fsv(schema, name, payload))[:2] == (code, offset)


@pytest.mark.parametrize("head", ["c7", "c8", "c9", "d4", "d5", "d6", "d7", "d8", "c1"])
def test_a_cut_ext_head_is_type_at_its_offset(schema: fsf.Schema, head: str) -> None:
    text = _bullet("Ext heads.*")
    assert "a cut ext head (`c7`, or `d6 ff` at the end of the input) is `type`, never `truncated`" in text
    for payload in (head, "91 " + head, "91 " + head + " ff", "91 " + head + " 01 ff"):
        at = P if payload == head else P + 1
        assert verdict(schema, fsv(schema, "U8", payload))[:2] == ("type", at), payload
    assert verdict(schema, fsv(schema, "U8", "91 d6 ff"))[:2] == ("type", P + 1)


def test_a_float_of_the_other_width_is_non_canonical_whatever_its_value(schema: fsf.Schema) -> None:
    text = _bullet("A float of the other width*")
    example = re.search(r"\(`(cb[0-9a-f ]+)`, the binary64 0.1, for an `f32\[0..1\]`\)", text)
    assert example and "finiteness first, then the width, then `-0.0`, then the bounds" in text
    cases = [
        ("F32", "91 " + example.group(1), "non_canonical"),   # not representable in f32
        ("F32", "91 cb 40 00 00 00 00 00 00 00", "non_canonical"),   # 2.0: outside f32[0..1] too
        ("F32", "91 cb 7f ef ff ff ff ff ff ff", "non_canonical"),   # the largest binary64
        ("F32", "91 cb 80 00 00 00 00 00 00 00", "non_canonical"),   # -0.0 as float 64
        ("F32", "91 cb 7f f0 00 00 00 00 00 00", "not_finite"),      # infinity as float 64
        ("F64", "91 ca 40 00 00 00", "non_canonical"),               # 2.0 as float 32: outside f64[0..1] too
        ("F64", "91 ca 80 00 00 00", "non_canonical"),
        ("F64", "91 ca 7f c0 00 00", "not_finite"),                  # NaN as float 32
    ]
    for name, payload, code in cases:
        got = verdict(schema, fsv(schema, name, payload))
        assert got[:2] == (code, P + 1), payload
        if code == "non_canonical":
            assert "is written as float" in got[2]


def test_utf8_points_at_the_first_byte_of_the_first_bad_sequence(schema: fsf.Schema) -> None:
    text = _bullet("`utf8`*")
    examples = re.findall(r"`((?:[0-9a-f]{2} )+[0-9a-f]{2})`: the `([0-9a-f]{2})`", text)
    assert len(examples) == 4
    for payload, bad in examples:
        raw = bytes.fromhex(payload)
        at = P + 1 + raw.index(bytes.fromhex(bad), 1)
        assert verdict(schema, fsv(schema, "Str", "91 " + payload))[:2] == ("utf8", at), payload
    # Before the bounds: two code points in a str[0..1], the second one cut.
    assert verdict(schema, fsv(schema, "Short", "91 a2 61 e2"))[:2] == ("utf8", P + 3)


@pytest.mark.parametrize(("payload", "code", "offset"), [
    ("91 81 00 00", "type", P + 1),              # a map, not an array
    ("91 90", "arity", P + 1),                   # empty
    ("91 91 a0", "type", P + 2),                 # the variant index is a str
    ("91 91 cc 01", "non_canonical", P + 2),     # the variant index in a wider head
    ("91 92 05 01", "bounds", P + 2),            # out of range: before the length of the array
    ("91 91 ff", "bounds", P + 2),               # negative
    ("91 91 01", "arity", P + 1),                # `Ok` without its two fields
    ("91 92 00 01", "arity", P + 1),             # `NoPlan` with a field
    ("91 93 01 c3 01", "type", P + 3),           # then the fields in order
])
def test_the_check_order_of_a_union(schema: fsf.Schema, payload: str, code: str, offset: int) -> None:
    text = _bullet("Unions.*")
    assert "So `92 05 01` for a union of two variants is `bounds`, not `arity`" in text
    assert verdict(schema, fsv(schema, "Dec", payload))[:2] == (code, offset)


def test_map_keys_are_checked_before_their_order(schema: fsf.Schema) -> None:
    text = _bullet("Map keys before key order.*")
    assert '(`bounds` for `"aa"` after `"b"` in a `map[0..3]<str[0..1], u8>`) at the key\'s offset, with the ' \
           "map's path; an order or duplicate error has the key's path (`$.v[\"a\"]`)" in text
    code, offset, message = verdict(schema, fsv(schema, "Keys", "91 82 a1 62 01 a2 61 61 02"))
    assert (code, offset) == ("bounds", P + 5) and message.endswith("at `$.v` - at byte 42 [bounds]")
    code, offset, message = verdict(schema, fsv(schema, "Keys", "91 82 a1 62 01 a1 61 02"))
    assert (code, offset) == ("non_canonical", P + 5) and '`$.v["a"]`' in message
    for payload, code in [("91 82 a1 62 01 01 02", "type"), ("91 82 a1 62 01 a1 ff 02", "utf8"),
                          ("91 82 a1 62 01 a1 62 02", "non_canonical")]:
        assert verdict(schema, fsv(schema, "Keys", payload))[:2] == (code, P + 5 + (code == "utf8")), payload
    # Integer keys: 0 after 5 is out of order, but an invalid key reports its own error first.
    for payload, code in [("91 82 05 c3 0a c3", "bounds"), ("91 82 05 c3 ff c3", "bounds"),
                          ("91 82 05 c3 cc 01 c3", "non_canonical"), ("91 82 05 c3 c3 c3", "type"),
                          ("91 82 05 c3 00 c3", "non_canonical")]:
        assert verdict(schema, fsv(schema, "IntKeys", payload))[:2] == (code, P + 4), payload
    # The value of an entry is read before the next key.
    assert verdict(schema, fsv(schema, "Keys", "91 82 a1 62 cc 01 a1 61 02"))[:2] == ("non_canonical", P + 4)


def test_an_expected_type_name_that_differs_is_schema_mismatch_at_5(schema: fsf.Schema) -> None:
    text = _bullet("An expected type name.*")
    assert "a different id is `schema_mismatch` at offset 5, before any payload byte is read" in text
    for payload in ("91 01", "c1", ""):
        code, offset, message = verdict(schema, fsv(schema, "U8", payload), "I64")
        assert (code, offset) == ("schema_mismatch", 5)
        assert message == (f"the value's root type is `U8` {schema.id('U8')}; expected `I64` {schema.id('I64')}"
                           " - at byte 5 [schema_mismatch]")
    unknown = codec.pack_header(bytes(32)) + b"\x91\x01"
    assert verdict(schema, unknown, "U8")[2] == (
        f"the value's root type is a type unknown to this schema, blake3:{'0' * 64}; expected `U8` "
        f"{schema.id('U8')} - at byte 5 [schema_mismatch]")
    # The same payload fault without a name is reported at the payload.
    assert verdict(schema, fsv(schema, "U8", "c1"))[:2] == ("type", P)


def test_a_name_the_schema_lacks_is_a_usage_error_after_the_header(schema: fsf.Schema) -> None:
    assert "raises `fsf.UsageError` (not a `DecodeError`), after the header checks" in _bullet("An expected type name.*")
    data = fsv(schema, "U8", "91 01")
    for call in (schema.decode, schema.verify):
        with pytest.raises(fsf.UsageError) as info:
            call(data, "Nope")
        assert not isinstance(info.value, fsf.DecodeError)
        for bad, code in ((b"", "truncated"), (data[:20], "truncated"), (b"\x00" + data[1:], "bad_magic")):
            with pytest.raises(fsf.DecodeError) as refused:
                call(bad, "Nope")
            assert refused.value.code == code


# -- JSON numbers for f32 and f64 --------------------------------------------------------------------------------


def _from_json(schema: fsf.Schema, name: str, number: str) -> bytes:
    return schema.encode(name, jsonform.from_json(schema, name, jsonform.loads('{"v": ' + number + "}")))


def _refusal(schema: fsf.Schema, name: str, number: str) -> str:
    with pytest.raises(fsf.ValidationError) as info:
        _from_json(schema, name, number)
    return info.value.message


def test_a_json_number_for_an_f32_must_be_exactly_representable(schema: fsf.Schema) -> None:
    text = _doc()
    assert "`0.5` and `0.10000000149011612` (whose nearest binary64 is the binary32 nearest 0.1) are taken, and " \
           "`0.1`, `16777217` and `3.5e38` are refused with ``Expected `f32` exactly representable, got 0.1``" in text
    assert _from_json(schema, "Real", "0.5")[P:] == bytes.fromhex("91 ca 3f 00 00 00")
    taken = _from_json(schema, "Real", "0.10000000149011612")
    assert taken[P:] == bytes.fromhex("91 ca 3d cc cc cd")
    assert jsonform.dumps(jsonform.to_json(schema, "Real", schema.decode(taken))) == \
        '{\n  "v": 0.10000000149011612\n}\n'
    for number, shown in (("0.1", "0.1"), ("16777217", "16777217"), ("3.5e38", "3.5e+38")):
        assert _refusal(schema, "Real", number) == f"Expected `f32` exactly representable, got {shown}"
    assert _from_json(schema, "Real", "16777216")[P:] == bytes.fromhex("91 ca 4b 80 00 00")


def test_json_numbers_for_an_f64(schema: fsf.Schema) -> None:
    text = _doc()
    assert "(`9007199254740993` is refused for an `f64` with ``Expected `f64` exactly representable, got " \
           "9007199254740993``, while `9007199254740993.0` reads as the binary64 9007199254740992 and is taken)" in text
    assert _refusal(schema, "Wide", "9007199254740993") == \
        "Expected `f64` exactly representable, got 9007199254740993"
    assert schema.decode(_from_json(schema, "Wide", "9007199254740993.0")) == {"v": 9007199254740992.0}
    assert "(`1e400`) reads as infinity and is refused with ``Expected finite `f64`, got inf``" in text
    assert _refusal(schema, "Wide", "1e400") == "Expected finite `f64`, got inf"
    assert "`-0.0` reads as `0.0`" in text
    assert _from_json(schema, "Wide", "-0.0")[P:] == bytes.fromhex("91 cb 00 00 00 00 00 00 00 00")
