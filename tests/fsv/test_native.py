"""The native decoder and encoder on their own: they accept exactly what the reference accepts, same results.

Through ``codec.decode`` and ``codec.encode`` a refusal of the native code is invisible (the reference reader,
or the next path and the validator, then decide), so native code that refused everything would pass every
other test. Here it is called directly. The decoder must return the value of valid bytes itself and refuse
every other input itself. The encoder must write the reference bytes for every value in the canonical Python
form, and may accept another spelling only when the validator accepts it too (it takes only the exact types
of the canonical form; the rest goes on to the other paths). Neither may leak or crash on a malformed table.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
import sys
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf.errors import Refused
from fsf.fsv import codec, native
from tests.fsv.test_codec_hostile import HOSTILE, VECTORS, _hostile_schema, _mutate, _valid_vectors
from tests.support.strategies import lenient, near_misses, schema_texts, values

if not native.AVAILABLE:
    if os.environ.get("FSF_REQUIRE_NATIVE") == "1":
        raise RuntimeError("FSF_REQUIRE_NATIVE=1 but fsf.fsv._native is not built (re-run `pip install -e .`)")
    pytest.skip("the native decoder is not built, or FSF_NO_NATIVE=1", allow_module_level=True)

P = codec.HEADER_SIZE


def _native(s: fsf.Schema, name: str, data: bytes) -> tuple[str, Any]:
    if len(data) < P:  # a mutation cut into the header: the codec never gives the native reader such bytes
        return "refused", None
    program = s.codec.native
    assert program is not None
    try:
        return "ok", program.decode(data, P, s.codec.nodes[name])
    except Refused:
        return "refused", None


def _check(s: fsf.Schema, name: str, data: bytes) -> str:
    """The verdict of the check-only reader (``Program.check``: builds nothing)."""
    if len(data) < P:  # a mutation cut into the header: the codec never gives the native reader such bytes
        return "refused"
    try:
        assert s.codec.native.check(data, P, s.codec.nodes[name]) is None
    except Refused:
        return "refused"
    return "ok"


def _reference(s: fsf.Schema, name: str, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", codec.decode(s, data, name, path="reference")
    except fsf.DecodeError:
        return "refused", None


def test_every_valid_vector_is_decoded_natively() -> None:
    doc = json.loads((VECTORS / "fsv-vectors.json").read_text("utf-8"))
    assert len(doc["valid"]) >= 20
    for s, name, data in _valid_vectors():
        verdict, value = _native(s, name, data)
        assert verdict == _check(s, name, data) == "ok", name
        assert value == codec.decode(s, data, name, path="reference")
        assert repr(value) == repr(codec.decode(s, data, name, path="reference"))  # same types: 1 vs 1.0, etc.


@pytest.mark.parametrize(("case", "name", "payload"), [(c, n, p) for c, n, p, _, _ in HOSTILE],
                         ids=[c for c, *_ in HOSTILE])
def test_every_hostile_payload_is_refused_natively(case: str, name: str, payload: str) -> None:
    s = _hostile_schema()
    data = codec.pack_header(s.id_bytes(name)) + bytes.fromhex(payload)
    assert _native(s, name, data) == ("refused", None)
    assert _check(s, name, data) == "refused"


def test_the_forge_plan_examples_decode_natively() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    s = fsf.load_schema(root / "shapes" / "forge-plan.fsf")
    for example in sorted((root / "shapes" / "examples" / "forge-plan").glob("*.fsv")):
        data = example.read_bytes()
        assert _native(s, "ForgePlan", data) == _reference(s, "ForgePlan", data), example.name


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_native_agrees_with_the_reference_on_values_and_mutations(data: st.DataObject) -> None:
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = data.draw(values(s.ir, "Root"), label="value")
    encoded = s.encode("Root", value)
    got = _native(s, "Root", encoded)
    assert got[0] == "ok"
    assert repr(got[1]) == repr(codec.decode(s, encoded, "Root", path="reference"))
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    for _ in range(8):
        mutated = _mutate(rng, encoded)
        native_outcome, reference_outcome = _native(s, "Root", mutated), _reference(s, "Root", mutated)
        assert native_outcome[0] == reference_outcome[0] == _check(s, "Root", mutated), mutated.hex()
        assert repr(native_outcome[1]) == repr(reference_outcome[1])


def test_mutated_vectors_agree_with_the_reference() -> None:
    rng = random.Random(20261122)
    accepted = refused = 0
    for _ in range(300):
        for s, name, data in _valid_vectors():
            mutated = _mutate(rng, data)
            outcome = _native(s, name, mutated)
            assert outcome[0] == _reference(s, name, mutated)[0] == _check(s, name, mutated), mutated.hex()
            accepted += outcome[0] == "ok"
            refused += outcome[0] == "refused"
    assert accepted > 100 and refused > 1000, (accepted, refused)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["Dec", "Map", "Node", "Str", "F32", "ColorMap", "Opt", "IntMap", "Time", "Hash"]),
       st.binary(max_size=40))
def test_any_payload_gets_the_reference_verdict(name: str, payload: bytes) -> None:
    s = _hostile_schema()
    data = codec.pack_header(s.id_bytes(name)) + payload
    assert _native(s, name, data)[0] == _reference(s, name, data)[0] == _check(s, name, data)


_UTF8_EDGES = [b"\x7f", b"\x80", b"\xc1\xbf", b"\xc2\x80", b"\xdf\xbf", b"\xe0\x9f\xbf", b"\xe0\xa0\x80",
               b"\xed\x9f\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xee\x80\x80", b"\xef\xbf\xbf",
               b"\xf0\x8f\xbf\xbf", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80",
               b"\xf5\x80\x80\x80", b"\xff", b"\xe2\x82", b"\xe2\x82\xac", b"\xc3", b"\xc3\xa9"]


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.sampled_from(_UTF8_EDGES), st.binary(max_size=6),
                          st.text(max_size=4).map(lambda t: t.encode("utf-8", "surrogatepass"))), max_size=6))
def test_the_checker_reads_utf8_as_cpython(parts: list[bytes]) -> None:
    # Str { v: str[0..300] }: the check-only reader validates UTF-8 and counts code points itself.
    s = _hostile_schema()
    text = b"".join(parts)[:255]
    data = codec.pack_header(s.id_bytes("Str")) + b"\x91" + (bytes([0xA0 + len(text)]) if len(text) < 32 else
                                                              b"\xd9" + bytes([len(text)])) + text
    try:
        expected = "ok" if len(text.decode("utf-8")) <= 300 else "refused"
    except UnicodeDecodeError:
        expected = "refused"
    assert _check(s, "Str", data) == _native(s, "Str", data)[0] == expected


def test_the_checker_counts_code_points_for_bounds() -> None:
    s = fsf.compile_source("shape S { v: str[2..3] }")
    for text, verdict in (("é", "refused"), ("éé", "ok"), ("€€€", "ok"), ("😀😀😀😀", "refused"), ("ab", "ok")):
        data = s.encode("S", {"v": text}) if verdict == "ok" else (
            codec.pack_header(s.id_bytes("S")) + b"\x91" + bytes([0xA0 + len(text.encode())]) + text.encode())
        assert _check(s, "S", data) == _native(s, "S", data)[0] == verdict, text


def test_nesting_limit_is_the_reference_one() -> None:
    s = _hostile_schema()
    head = codec.pack_header(s.id_bytes("Node"))
    # Node { kids: arr<Node> }: each level is two containers (the shape's array, then its kids array).
    deepest = "91 91 " * 31 + "91 90"  # 64 containers
    assert _native(s, "Node", head + bytes.fromhex(deepest))[0] == "ok"
    assert _native(s, "Node", head + bytes.fromhex("91 91 " * 32 + "91 90"))[0] == "refused"
    assert _reference(s, "Node", head + bytes.fromhex(deepest))[0] == "ok"


def test_large_arrays_grow_past_the_preallocation() -> None:
    s = fsf.compile_source("shape Big { v: arr[0..100000]<u16> }")
    value = {"v": list(range(5000))}
    data = s.encode("Big", value)
    assert _native(s, "Big", data) == ("ok", value)
    assert _native(s, "Big", data[:-1])[0] == "refused"


# ---------------------------------------------------------------------------------------------------------------
# The encoder


def _encode(s: fsf.Schema, name: str, value: Any) -> tuple[str, Any]:
    program = s.codec.native
    assert program is not None
    try:
        return "ok", program.encode(value, s.codec.nodes[name], codec.pack_header(s.id_bytes(name)))
    except Refused:
        return "refused", None


def _validator(s: fsf.Schema, name: str, value: Any) -> str:
    try:
        s.validate(name, value, engine="vm")
    except fsf.ValidationError:
        return "refused"
    return "ok"


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_native_encoder_writes_the_reference_bytes(data: st.DataObject) -> None:
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = data.draw(values(s.ir, "Root"), label="value")
    assert _encode(s, "Root", value) == ("ok", codec.encode(s, "Root", value, path="reference"))
    for candidate in (data.draw(lenient(s.ir, "Root", copy.deepcopy(value)), label="lenient"),
                      data.draw(near_misses(copy.deepcopy(value)), label="near miss")):  # (changes its argument)
        verdict, written = _encode(s, "Root", candidate)
        if verdict == "ok":
            assert _validator(s, "Root", candidate) == "ok"
            assert written == codec.encode(s, "Root", candidate, path="reference")


def test_native_encoder_writes_every_vector() -> None:
    for s, name, data in _valid_vectors():
        value = codec.decode(s, data, name, path="reference")
        assert _encode(s, name, value) == ("ok", data)


class _Str(str):
    pass


@pytest.mark.parametrize(("name", "value", "payload"), [
    ("F64", {"v": -0.0}, "91 cb 00 00 00 00 00 00 00 00"),  # one zero on the wire
    ("F32", {"v": 0.5}, "91 ca 3f 00 00 00"),
    ("F32", {"v": -0.0}, "91 ca 00 00 00 00"),
    ("I64", {"v": -(2**63)}, "91 d3 80 00 00 00 00 00 00 00"),
    ("I64", {"v": -33}, "91 d0 df"),
    ("U8", {"v": 200}, "91 cc c8"),
    ("Opt", {}, "91 c0"),  # a missing optional is absent
    ("Map", {"v": {"é": 3, "a": 2, "Z": 1}}, "91 83 a1 5a 01 a1 61 02 a2 c3 a9 03"),
    ("IntMap", {"v": {1: True, -1: False}}, "91 82 ff c2 01 c3"),
    ("ColorMap", {"v": {"blue": True, "red": False}}, "91 82 00 c2 02 c3"),
    ("Dec", {"v": {"NoPlan": {}}}, "91 91 00"),
])
def test_native_encoder_spellings(name: str, value: Any, payload: str) -> None:
    s = _hostile_schema()
    assert _encode(s, name, value) == ("ok", codec.pack_header(s.id_bytes(name)) + bytes.fromhex(payload))


@pytest.mark.parametrize(("name", "value", "valid"), [
    ("F64", {"v": float("nan")}, False),
    ("F64", {"v": float("inf")}, False),
    ("F64", {"v": 1}, True),  # an int for a float: valid, but not the canonical form's type
    ("F32", {"v": 0.1}, False),  # not exactly an f32
    ("F32", {"v": 1e300}, False),
    ("U8", {"v": True}, False),
    ("U8", {"v": 256}, False),
    ("I64", {"v": 2**63}, False),
    ("Str", {"v": "a\udc80"}, False),
    ("Str", {"v": _Str("a")}, False),  # exact types only, as the validator
    ("Str", {"v": "x" * 301}, False),
    ("Pair", {"a": 1}, False),
    ("Pair", {"a": 1, "b": 2, "c": 3}, False),
    ("Dec", {"v": {"Ok": {"ratio": 0.5, "remaining": 1}, "NoPlan": {}}}, False),
    ("Dec", {"v": {"Maybe": {}}}, False),
    ("Pick", {"v": "purple"}, False),
    ("Hash", {"v": b"\0" * 31}, False),
    ("Time", {"v": 2**63}, False),
    ("Arr", {"v": (1, 2)}, False),
    ("ColorMap", {"v": {"red": True, 0: False}}, False),
])
def test_native_encoder_refuses_what_it_does_not_take(name: str, value: Any, valid: bool) -> None:
    s = _hostile_schema()
    assert _encode(s, name, value) == ("refused", None)
    assert _validator(s, name, value) == ("ok" if valid else "refused")


@pytest.mark.parametrize("when", [
    dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc),
    dt.datetime(2026, 11, 22, 3, 4, 5, 678901, tzinfo=dt.timezone.utc),
    dt.datetime(2026, 11, 22, 3, 4, 5, 678901, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone(-dt.timedelta(hours=23, minutes=59))),
    dt.datetime(1677, 9, 21, 0, 12, 43, 145225, tzinfo=dt.timezone.utc),  # the earliest whole microsecond
    dt.datetime(2262, 4, 11, 23, 47, 16, 854775, tzinfo=dt.timezone.utc),  # the latest
    dt.datetime(2000, 2, 29, 12, tzinfo=dt.timezone(dt.timedelta(seconds=1, microseconds=1))),
])
def test_native_encoder_takes_aware_datetimes_as_the_validator(when: dt.datetime) -> None:
    s = _hostile_schema()
    assert _encode(s, "Time", {"v": when}) == ("ok", codec.encode(s, "Time", {"v": when}, path="reference"))


@pytest.mark.parametrize(("when", "valid"), [
    (dt.datetime(2026, 1, 1), False),  # naive
    (dt.datetime(1677, 9, 21, 0, 12, 43, 145224, tzinfo=dt.timezone.utc), False),  # before int64 nanoseconds
    (dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc), False),
    (dt.datetime(2026, 1, 1, tzinfo=ZoneInfo("Europe/Paris")), True),  # runs Python code: the other paths' job
    (dt.date(2026, 1, 1), False),
])
def test_native_encoder_leaves_other_times_to_the_validator(when: Any, valid: bool) -> None:
    s = _hostile_schema()
    assert _encode(s, "Time", {"v": when}) == ("refused", None)
    assert _validator(s, "Time", {"v": when}) == ("ok" if valid else "refused")


def test_native_encoder_runs_no_code_of_the_value() -> None:
    # A key that looks like field `a` to a dict lookup (same hash) and empties the value when compared.
    calls: list[str] = []
    outer: dict[str, Any] = {}

    class Sly:
        def __hash__(self) -> int:
            return hash("a")

        def __eq__(self, other: object) -> bool:
            if outer:  # armed once the value is built
                calls.append("eq")
                outer["v"].clear()
            return False

    s = fsf.compile_source("shape Pair { a: u8, b: u8 }\nshape Outer { v: arr[0..4]<Pair> }")
    outer["v"] = [{"b": 2, Sly(): 1, "a": 1}, {"a": 1, "b": 2}]
    assert _encode(s, "Outer", outer) == ("refused", None)
    assert calls == []


def test_native_encoder_nesting_limit() -> None:
    s = fsf.compile_source("shape N { kids: arr[0..4]<N> }\nunion U { Leaf, Node { u: U } }\nshape W { u: U }")
    deep: dict[str, Any] = {"kids": []}
    for _ in range(31):
        deep = {"kids": [deep]}
    assert _encode(s, "N", deep)[0] == "ok"  # 64 containers
    assert _encode(s, "N", {"kids": [deep]})[0] == "refused"
    # A union counts its dict and its variant's dict, as the validator does.
    u: dict[str, Any] = {"Leaf": {}}
    while _validator(s, "W", {"u": u}) == "ok":
        u = {"Node": {"u": u}}
    assert _encode(s, "W", {"u": u})[0] == "refused"


def test_no_reference_leaks() -> None:
    s = _hostile_schema()
    program = s.codec.native
    cases = [(s.codec.nodes[n], codec.pack_header(s.id_bytes(n)) + bytes.fromhex(p))
             for _, n, p, _, _ in HOSTILE if len(p) < 200]
    good = [(s.codec.nodes[name], data) for t, name, data in _valid_vectors() if t is s]

    values = [codec.decode(s, data, path="reference") for _, data in good]
    bad = [{"v": "a\udc80"}, {"v": float("nan")}, {"v": {"Maybe": {}}}, {"v": {"é": 1, 2: 3}}]

    def run() -> None:
        for node, data in cases + good:
            for read in (program.decode, program.check):
                try:
                    read(data, P, node)
                except Refused:
                    pass
        for (node, _), value in zip(good, values, strict=True):
            program.encode(value, node, b"head")
        for node, _ in good:
            for value in bad:
                try:
                    program.encode(value, node, b"")
                except Refused:
                    pass

    for _ in range(50):
        run()
    before = sys.getallocatedblocks()
    for _ in range(500):
        run()
    assert sys.getallocatedblocks() - before < 100


@pytest.mark.parametrize("nodes", [
    ((99,),),
    ((native.OPT, 5),),
    ((native.ARR, 3, 1, 0),),
    ((native.INT, -(2**64), 0),),
    ((native.INT, 0, 2**64),),
    ((native.FLOAT, 16, None, None),),
    ((native.SHAPE, ("a",), ()),),
    ((native.SHAPE, (1,), (0,)),),
    ((native.UNION, ("A",), (0,)),),
    ("not a tuple",),
    ((native.MAP, 0, 1, 0),),
])
def test_malformed_node_tables_are_refused(nodes: tuple[Any, ...]) -> None:
    with pytest.raises((ValueError, TypeError, OverflowError)):
        native._native.Program(nodes, codec.MAX_DEPTH)


def test_decode_arguments_are_checked() -> None:
    s = _hostile_schema()
    program = s.codec.native
    for start, root in ((-1, 0), (10**6, 0), (P, -1), (P, 10**6)):
        with pytest.raises(ValueError, match="out of range"):
            program.decode(b"\x00" * P, start, root)
    with pytest.raises(TypeError):
        program.decode("text", P, 0)
