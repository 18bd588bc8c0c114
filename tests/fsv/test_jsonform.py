"""The JSON boundary: the JSON form of every type, strict parsing, precise errors, and round trips."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf.fsv.jsonform import dumps, format_time, from_json, loads, to_json
from tests.support.strategies import schema_texts, values

SCHEMA = fsf.compile_source("""
enum Color { red, green, blue }
union Decision { NoPlan, Ok { ratio: f64[0..1], remaining: u64 } }
shape T {
  blob: bytes?,
  digest: hash?,
  parent: ref<T>?,
  at: time?,
  ratio: f32?,
  byNum: map[0..4]<i32, bool>?,
  byColor: map[0..3]<Color, u8>?,
  byName: map[0..3]<str, u8>?,
  decision: Decision?,
  color: Color?,
  items: arr[0..3]<T>?,
}
""")
NULLS = {"blob": None, "digest": None, "parent": None, "at": None, "ratio": None, "byNum": None, "byColor": None,
         "byName": None, "decision": None, "color": None, "items": None}


def js(**fields: Any) -> dict[str, Any]:
    return {**NULLS, **fields}


@pytest.mark.parametrize(("python", "json_form"), [
    ({"blob": b"\x00\x01\xff"}, js(blob="AAH/")),
    ({"blob": b"ab"}, js(blob="YWI=")),
    ({"digest": bytes(range(32))}, js(digest=bytes(range(32)).hex())),
    ({"parent": "blake3:" + "ab" * 32}, js(parent="blake3:" + "ab" * 32)),
    ({"at": 0}, js(at="1970-01-01T00:00:00Z")),
    ({"at": 1_500_000_000}, js(at="1970-01-01T00:00:01.500Z")),
    ({"at": 1_000_001_000}, js(at="1970-01-01T00:00:01.000001Z")),
    ({"at": 1_000_000_001}, js(at="1970-01-01T00:00:01.000000001Z")),
    ({"at": -1}, js(at="1969-12-31T23:59:59.999999999Z")),
    ({"at": dt.datetime(2026, 11, 22, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2)))},
     js(at="2026-11-21T23:02:03Z")),
    ({"ratio": 1}, js(ratio=1.0)),
    ({"byNum": {10: True, -5: False, 2: True}}, js(byNum={"-5": False, "2": True, "10": True})),
    ({"byColor": {"blue": 1, "red": 2}}, js(byColor={"red": 2, "blue": 1})),
    ({"byName": {"b": 1, "a": 2}}, js(byName={"a": 2, "b": 1})),
    ({"decision": {"NoPlan": {}}}, js(decision={"NoPlan": {}})),
    ({"decision": {"Ok": {"ratio": 0.5, "remaining": 3}}}, js(decision={"Ok": {"ratio": 0.5, "remaining": 3}})),
    ({"color": "green"}, js(color="green")),
    ({"items": [{}]}, js(items=[dict(NULLS)])),
])
def test_json_form_of_each_type(python: dict[str, Any], json_form: dict[str, Any]) -> None:
    got = to_json(SCHEMA, "T", python)
    assert got == json_form
    assert json.dumps(got) == json.dumps(json_form)  # key order too: declaration order, canonical map order
    back = from_json(SCHEMA, "T", json.loads(dumps(got)))
    assert SCHEMA.encode("T", back) == SCHEMA.encode("T", python)


@pytest.mark.parametrize(("text", "ns"), [
    ("2026-11-22T00:46:54Z", 1795308414 * 10**9),
    ("2026-11-22t00:46:54z", 1795308414 * 10**9),
    ("2026-11-22T02:46:54+02:00", 1795308414 * 10**9),
    ("2026-11-21T23:16:54-01:30", 1795308414 * 10**9),
    ("2026-11-22T00:46:54.5Z", 1795308414 * 10**9 + 500_000_000),
    ("2026-11-22T00:46:54.000000007Z", 1795308414 * 10**9 + 7),
    ("2026-11-23T00:45:54+23:59", 1795308414 * 10**9),
    ("2026-11-22T00:46:54-00:00", 1795308414 * 10**9),
    ("1990-12-31T15:59:59-08:00", 662687999 * 10**9),
    ("0001-01-01T00:00:00+23:59", -62135683140 * 10**9),  # before year 1 in UTC: left for validate's range
])
def test_times_in_every_rfc3339_spelling(text: str, ns: int) -> None:
    assert from_json(SCHEMA, "T", {"at": text}) == {"at": ns}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("blob", "AAH", 'Expected `bytes` as standard padded base64, got "AAH" - at `$.blob`'),
    ("blob", "YQ", 'Expected `bytes` as standard padded base64, got "YQ" - at `$.blob`'),
    ("blob", "YR==", 'Expected `bytes` as standard padded base64, got "YR==" - at `$.blob`'),
    ("blob", "-_8=", 'Expected `bytes` as standard padded base64, got "-_8=" - at `$.blob`'),
    ("blob", 5, "Expected `bytes` as standard padded base64, got `int` - at `$.blob`"),
    ("digest", "AB" * 32, 'Expected `hash` as 64 lowercase hex digits, got "ABABABABABABABABABABABABABABABABABAB..." '
                          "- at `$.digest`"),
    ("at", "2026-11-22 00:46:54Z",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "2026-11-22 00:46:54Z" - at `$.at`'),
    ("at", "2026-11-22T00:46:54", 'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "2026-11-22T00:46:54" '
                                  "- at `$.at`"),
    ("at", "2026-11-22T00:46:54.1234567891Z",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "2026-11-22T00:46:54.1234567891Z" - at `$.at`'),
    ("at", "2026-02-30T00:00:00Z",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "2026-02-30T00:00:00Z" (day is out of range for '
     "month) - at `$.at`"),
    ("at", "2016-12-31T23:59:60Z",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "2016-12-31T23:59:60Z" (leap seconds are not '
     "representable) - at `$.at`"),
    ("at", "1990-12-31T15:59:60-08:00",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "1990-12-31T15:59:60-08:00" (leap seconds are not '
     "representable) - at `$.at`"),
    ("at", "2026-11-22T24:00:00Z",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "2026-11-22T24:00:00Z" (hour must be in 0..23) '
     "- at `$.at`"),
    ("at", "1990-12-31T15:59:59-24:00",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "1990-12-31T15:59:59-24:00" (offset hours must be '
     "00-23) - at `$.at`"),
    ("at", "1990-12-31T15:59:59+99:99",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "1990-12-31T15:59:59+99:99" (offset hours must be '
     "00-23) - at `$.at`"),
    ("at", "1990-12-31T15:59:59+23:60",
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "1990-12-31T15:59:59+23:60" (offset minutes must '
     "be 00-59) - at `$.at`"),
    ("items", [{"at": "1990-12-31T15:59:59+05:75"}],
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "1990-12-31T15:59:59+05:75" (offset minutes must '
     "be 00-59) - at `$.items[0].at`"),
    ("at", 0, "Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got `int` - at `$.at`"),
    *(("byNum", {"0": True, key: True}, "Expected an integer map key as a decimal string (no `+`, leading zeros or "
       f'`-0`), got "{key}" - at `$.byNum["{key}"]`') for key in ("-0", "01", "+1", " 1", "1 ", "-01", "00", "")),
    ("items", [{"at": "yesterday"}],
     'Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`), got "yesterday" - at `$.items[0].at`'),
    ("decision", {"Ok": {"ratio": 0.5, "remaining": 1, "x": None}}, None),
])
def test_bad_json_spellings_say_where(field: str, value: Any, message: str | None) -> None:
    if message is None:  # not a spelling problem: left for validate, whose message names the field
        with pytest.raises(fsf.ValidationError) as info:
            SCHEMA.encode("T", from_json(SCHEMA, "T", {field: value}))
        assert info.value.path.startswith("$.decision")
        return
    with pytest.raises(fsf.ValidationError) as info:
        from_json(SCHEMA, "T", {field: value})
    assert str(info.value) == message


def test_time_out_of_range_is_left_for_validate() -> None:
    value = from_json(SCHEMA, "T", {"at": "9999-12-31T23:59:59Z"})
    with pytest.raises(fsf.ValidationError) as info:
        SCHEMA.encode("T", value)
    assert info.value.path == "$.at"


def test_missing_and_null_optionals_are_the_same() -> None:
    assert SCHEMA.encode("T", from_json(SCHEMA, "T", {})) == SCHEMA.encode("T", from_json(SCHEMA, "T", NULLS))


def test_unknown_fields_are_refused_by_validate() -> None:
    with pytest.raises(fsf.ValidationError) as info:
        SCHEMA.encode("T", from_json(SCHEMA, "T", {"colour": "red"}))
    assert "colour" in str(info.value)


def test_to_json_validates() -> None:
    with pytest.raises(fsf.ValidationError):
        to_json(SCHEMA, "T", {"color": "purple"})


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": 1, "a": 2}', 'Invalid JSON: duplicate object key "a" - at `$`'),
    ('{"a": NaN}', "Invalid JSON: `NaN` is not a JSON number - at `$`"),
    ('{"a": -Infinity}', "Invalid JSON: `-Infinity` is not a JSON number - at `$`"),
    ('{"a": 1,}', "Invalid JSON: Expecting property name enclosed in double quotes at line 1 column 9 - at `$`"),
    ("", "Invalid JSON: Expecting value at line 1 column 1 - at `$`"),
    (b"\xff{}", "Invalid JSON: not UTF-8 (byte 0) - at `$`"),
    ("[" * 100_000, "Invalid JSON: nested deeper than 64 at line 1 column 65 - at `$`"),
    ("\n[" + "{\"[\": [" * 50_000, "Invalid JSON: nested deeper than 64 at line 2 column 225 - at `$`"),
    ('{"a": ' + "1" * 4301 + "}", "Invalid JSON: integer of 4301 digits (at most 640) at line 1 column 7 - at `$`"),
])
def test_strict_json_parsing(text: str | bytes, message: str) -> None:
    with pytest.raises(fsf.ValidationError) as info:
        loads(text)
    assert str(info.value) == message


def test_deep_json_against_a_recursive_schema_is_a_validation_error() -> None:
    data: Any = {}
    for _ in range(200):
        data = {"items": [data]}
    with pytest.raises(fsf.ValidationError) as info:
        SCHEMA.encode("T", from_json(SCHEMA, "T", data))
    assert "deeper" in str(info.value)


def test_format_time_keeps_nanoseconds() -> None:
    assert format_time(-(1 << 63)) == "1677-09-21T00:12:43.145224192Z"
    assert format_time((1 << 63) - 1) == "2262-04-11T23:47:16.854775807Z"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_json_round_trip(data: st.DataObject) -> None:
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = data.draw(values(s.ir, "Root"), label="value")
    text = dumps(to_json(s, "Root", value))
    back = from_json(s, "Root", loads(text))
    assert s.encode("Root", back) == s.encode("Root", value)
    assert s.decode(s.encode("Root", back)) == value


@pytest.mark.parametrize(("key", "number"), [("0", 0), ("-1", -1), ("7", 7), ("-2147483648", -2**31)])
def test_integer_map_keys_in_canonical_decimal(key: str, number: int) -> None:
    assert from_json(SCHEMA, "T", {"byNum": {key: True}}) == {"byNum": {number: True}}
