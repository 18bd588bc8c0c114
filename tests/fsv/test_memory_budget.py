"""The memory promise and the decode budget: what a decoded value costs per payload byte, for every kind of the
language on every path (asserted against the table in ``docs/fsv.md``), and ``max_values``, which refuses with
``budget`` at the head of the first msgpack value beyond it, identically on every path, in decode, verify,
``into=`` and the ``fsv`` command line.
"""

from __future__ import annotations

import gc
import re
import struct
import tracemalloc
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import fsf
from fsf import limits
from fsf.cli.fsv_tool import app
from fsf.fsv import codec
from tests.support.strategies import schema_texts, values

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "fsv.md"
P = codec.HEADER_SIZE
ITEMS = 5_000

# Every kind of value, as the item of an array: its type and its (smallest, costliest) encoding.
KINDS: dict[str, tuple[str, str]] = {
    "empty shape": ("E", "90"),
    "shape of one bool": ("B1", "91 c3"),
    "unit union variant": ("U", "91 00"),
    "union variant of one bool": ("U", "92 01 c3"),
    "nested shape (`Nest`)": ("Nest", "91 90"),
    "empty arr": ("arr[0..0]<u8>", "90"),
    "empty map": ("map[0..0]<u8, u8>", "80"),
    "map of one entry": ("map[0..1]<u8, bool>", "81 01 c3"),
    "small int (-5..256)": ("u8", "07"),
    "int 257..65535": ("u16", "cd 01 2c"),
    "negative int below -5": ("i8", "d0 9c"),
    "u64": ("u64", "cf ff ff ff ff ff ff ff ff"),
    "bool": ("bool", "c3"),
    "absent optional": ("u8?", "c0"),
    "enum": ("En", "01"),
    "str, empty": ("str", "a0"),
    "str, 2 ASCII": ("str", "a2 61 62"),
    "str, 1 non-Latin-1": ("str", "a3 e2 82 ac"),
    "bytes, empty": ("bytes", "c4 00"),
    "bytes, 2": ("bytes", "c4 02 61 62"),
    "f64": ("f64", "cb 3f f8 00 00 00 00 00 00"),
    "f32": ("f32", "ca 3f c0 00 00"),
    "time": ("time", "d3 80 00 00 00 00 00 00 01"),
    "hash": ("hash", "c4 20" + " 61" * 32),
    "ref": ("ref<E>", "c4 20" + " 61" * 32),
}

SOURCE = """
shape E {}
shape B1 { b: bool }
union U { A, B { b: bool } }
shape Nest { xs: arr[0..4294967295]<Nest> }
enum En { a, b }
""" + "".join(f"shape K{i} {{ xs: arr[0..4294967295]<{t}> }}\n" for i, (t, _) in enumerate(KINDS.values()))
SCHEMA = fsf.compile_source(SOURCE, "kinds.fsf")


@pytest.fixture(params=codec.PATHS)
def path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def shown(encoding: str) -> str:
    """An encoding as the table shows it: a long one as its head and its size."""
    n = len(bytes.fromhex(encoding))
    return encoding if n <= 9 else f"{encoding[:5]} + {n - 2} bytes"


def count_values(payload: bytes) -> int:
    """The msgpack values of a payload, every head counted once (a map's keys and values, a union's index)."""
    def count(x: Any) -> int:
        if type(x) is list:
            return 1 + sum(map(count, x))
        if type(x) is dict:
            return 1 + sum(count(k) + count(v) for k, v in x.items())
        return 1

    return count(msgpack.unpackb(payload, strict_map_key=False, raw=True))


def content_bytes(value: Any) -> int:
    """The bytes of every str and bytes inside a Python-form value (code points for str: at most its UTF-8)."""
    if type(value) is list:
        return sum(map(content_bytes, value))
    if type(value) is dict:
        return sum(content_bytes(k) + content_bytes(v) for k, v in value.items())
    return len(value) if type(value) in (str, bytes) else 0


def kind_value(kind: str) -> tuple[str, bytes]:
    """The root type and the FSV bytes of an array of ITEMS items of ``kind``."""
    i = list(KINDS).index(kind)
    item = bytes.fromhex(KINDS[kind][1])
    payload = b"\x91\xdc" + struct.pack(">H", ITEMS) + item * ITEMS
    return f"K{i}", codec.pack_header(SCHEMA.id_bytes(f"K{i}")) + payload


def measure(data: bytes, path: str) -> tuple[Any, int, int]:
    """The value decoded on ``path``, the memory it holds and the peak while decoding (bytes, tracemalloc)."""
    codec.decode(SCHEMA, data, path=path)  # compiled converters and caches first: not the value's memory
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        value = codec.decode(SCHEMA, data, path=path)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return value, held - base, peak - base


def documented() -> dict[str, tuple[float, float]]:
    """The table of docs/fsv.md: kind -> (bytes held per payload byte, peak per payload byte on any path)."""
    section = DOCS.read_text().split("<!-- memory:")[1].split("<!-- end memory -->")[0]
    rows = re.findall(r"^\| (.+?) \| `[^`]+` \| (\d+) \| (\d+) \|$", section, re.M)
    return {kind: (float(held), float(peak)) for kind, held, peak in rows}


def test_the_documented_table_covers_every_kind() -> None:
    table = documented()
    assert list(table) == list(KINDS)
    section = DOCS.read_text().split("<!-- memory:")[1].split("<!-- end memory -->")[0]
    for kind, (_, encoding) in KINDS.items():
        assert f"| {kind} | `{shown(encoding)}` |" in section, kind
    assert max(held for held, _ in table.values()) == limits.BYTES_PER_VALUE


@pytest.mark.parametrize("kind", list(KINDS))
def test_memory_per_payload_byte_holds_for_every_kind(kind: str, path: str) -> None:
    name, data = kind_value(kind)
    payload = len(data) - P
    value, held, peak = measure(data, path)
    assert codec.decode(SCHEMA, data, name, path="reference") == value
    per_byte, peak_per_byte = documented()[kind]
    assert held <= per_byte * payload, (held / payload, per_byte)
    assert peak <= peak_per_byte * payload, (peak / payload, peak_per_byte)
    # The general bound, in the budget's unit: per msgpack value, besides the str and bin contents.
    assert held <= limits.BYTES_PER_VALUE * count_values(data[P:]) + content_bytes(value)


def test_the_issue_case_a_mebibyte_of_empty_nests(path: str) -> None:
    # 512 Ki empty `Nest`s, two bytes each: about 124 bytes per payload byte held, on every path. The slower paths
    # decode 32 Ki of them under tracemalloc (the per-byte bound does not depend on the count; the full mebibyte
    # there would cost minutes).
    count = 1 << 19 if path == "native" else 1 << 15
    head = b"\xdd" + struct.pack(">I", count) if count > 0xFFFF else b"\xdc" + struct.pack(">H", count)
    data = codec.pack_header(SCHEMA.id_bytes("Nest")) + b"\x91" + head + b"\x91\x90" * count
    _, held, peak = measure(data, path)
    held_per_byte, peak_per_byte = documented()["nested shape (`Nest`)"]
    assert held <= held_per_byte * (len(data) - P)
    assert peak <= peak_per_byte * (len(data) - P)
    values_ = 2 + 2 * count
    assert codec.decode(SCHEMA, data, max_values=values_, path=path)["xs"][-1] == {"xs": []}
    last = P + 1 + len(head) + 2 * (count - 1) + 1  # the last Nest's xs
    _refused(data, values_ - 1, "budget", last,
             f"more than {values_ - 1} msgpack value(s) (`max_values`) at `$.xs[{count - 1}].xs`", path)


def _refused(data: bytes, max_values: int, code: str, offset: int, message: str, path: str,
             schema: fsf.Schema = SCHEMA) -> None:
    whole = f"{message} - at byte {offset} [{code}]"
    with pytest.raises(fsf.DecodeError) as decoded:
        codec.decode(schema, data, max_values=max_values, path=path)
    assert (decoded.value.code, decoded.value.offset, str(decoded.value)) == (code, offset, whole)
    with pytest.raises(fsf.DecodeError) as verified:
        codec.verify(schema, data, max_values=max_values, path=path)
    assert str(verified.value) == whole
    with pytest.raises(fsf.DecodeError) as lax:
        codec.decode(schema, data, canonical=False, max_values=max_values, path=path)
    assert str(lax.value) == whole


BUDGET = fsf.compile_source("""
shape Nest { xs: arr[0..4294967295]<Nest> }
union U { A { x: u8 } }
shape M { m: map[0..2]<str, u8> }
shape O { a: u8?, b: str }
""", "budget.fsf")


def _fsv(name: str, payload: str) -> bytes:
    return codec.pack_header(BUDGET.id_bytes(name)) + bytes.fromhex(payload)


@pytest.mark.parametrize(("name", "payload", "budget", "offset", "where"), [
    ("Nest", "91 93 91 90 91 90 91 90", 5, 5, "$.xs[1].xs"),   # root, xs, Nest, xs, Nest | xs
    ("Nest", "91 93 91 90 91 90 91 90", 0, 0, "$"),
    ("Nest", "91 93 91 90 91 90 91 90", 7, 7, "$.xs[2].xs"),
    ("U", "92 00 01", 1, 1, "$"),                                # the variant index is a value of its own
    ("U", "92 00 01", 2, 2, "$.A.x"),
    ("M", "91 81 a1 6b 01", 2, 2, "$.m"),                       # a map key
    ("M", "91 81 a1 6b 01", 3, 4, '$.m["k"]'),                  # its value
    ("O", "92 c0 a1 62", 2, 2, "$.b"),                          # an absent optional is a value (nil)
])
def test_the_budget_refuses_at_the_first_value_beyond_it(name: str, payload: str, budget: int, offset: int,
                                                          where: str, path: str) -> None:
    data = _fsv(name, payload)
    _refused(data, budget, "budget", P + offset, f"more than {budget} msgpack value(s) (`max_values`) at `{where}`",
             path, BUDGET)
    total = count_values(data[P:])
    assert codec.decode(BUDGET, data, max_values=total, path=path) == codec.decode(BUDGET, data, path="reference")
    assert codec.verify(BUDGET, data, max_values=total, path=path) == name


def test_the_first_problem_in_reading_order_wins(path: str) -> None:
    data = _fsv("Nest", "91 93 91 90 91 c3 91 90")  # `true` where the second Nest's xs should be
    # The budget is checked before a value's head is read ...
    _refused(data, 5, "budget", P + 5, "more than 5 msgpack value(s) (`max_values`) at `$.xs[1].xs`", path, BUDGET)
    # ... and a problem before the budget runs out is the one reported.
    _refused(data, 6, "type", P + 5, "Expected `arr[0..4294967295]<Nest>`, got `bool` at `$.xs[1].xs`", path,
             BUDGET)


def test_objects_and_the_schema_api_take_the_budget() -> None:
    data = _fsv("Nest", "91 93 91 90 91 90 91 90")
    assert BUDGET.decode(data, max_values=8) == {"xs": [{"xs": []}] * 3}
    assert BUDGET.verify(data, max_values=8) == "Nest"
    for call in (lambda: BUDGET.decode(data, max_values=7), lambda: BUDGET.verify(data, max_values=7)):
        with pytest.raises(fsf.DecodeError) as err:
            call()
        assert (err.value.code, err.value.offset) == ("budget", P + 7)
    import types

    module = types.ModuleType("budget_objects")
    exec(compile(fsf.codegen(BUDGET, "python"), "<budget_objects>", "exec"), module.__dict__)
    import sys

    sys.modules["budget_objects"] = module
    try:
        assert len(BUDGET.decode(data, into=module, max_values=8).xs) == 3
        with pytest.raises(fsf.DecodeError) as err:
            BUDGET.decode(data, into=module, max_values=7)
        assert (err.value.code, err.value.offset) == ("budget", P + 7)
    finally:
        del sys.modules["budget_objects"]


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3"])
def test_a_budget_that_is_not_a_count_is_a_usage_error(bad: Any) -> None:
    data = _fsv("Nest", "91 90")
    for call in (lambda: BUDGET.decode(data, max_values=bad), lambda: BUDGET.verify(data, max_values=bad)):
        with pytest.raises(fsf.UsageError) as err:
            call()
        assert str(err.value) == f"max_values must be None or a non-negative integer, got {bad!r}"


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_no_payload_holds_more_values_than_bytes(data: st.DataObject) -> None:
    # What lets the paths that do not count serve a budget at least as long as the payload: every msgpack value
    # takes at least one byte. And the budget is exact on every path: the count passes, one less is refused.
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    encoded = s.encode("Root", data.draw(values(s.ir, "Root"), label="value"))
    total = count_values(encoded[P:])
    assert total <= len(encoded) - P
    expected = codec.decode(s, encoded, path="reference")
    for p in codec.PATHS:
        assert codec.decode(s, encoded, max_values=len(encoded) - P, path=p) == expected
        assert codec.decode(s, encoded, max_values=total, path=p) == expected
        with pytest.raises(fsf.DecodeError) as err:
            codec.decode(s, encoded, max_values=total - 1, path=p)
        assert err.value.code == "budget"
        assert err.value.message.startswith(f"more than {total - 1} msgpack value(s) (`max_values`) at `$")


def test_the_library_default_is_no_limit_and_the_cli_default_is_safe(tmp_path: Path) -> None:
    assert limits.CLI_MAX_VALUES == 1 << 20
    schema_file = tmp_path / "nest.fsf"
    schema_file.write_text("shape Nest { xs: arr[0..4294967295]<Nest> }\n")
    nest = fsf.load_schema(schema_file)
    count = 1 << 19  # 2 + 2 x count values: two more than the CLI allows
    data = codec.pack_header(nest.id_bytes("Nest")) + b"\x91\xdd" + struct.pack(">I", count) + b"\x91\x90" * count
    assert len(nest.decode(data)["xs"]) == count
    value_file = tmp_path / "nest.fsv"
    value_file.write_bytes(data)
    runner = CliRunner()
    at = P + 6 + 2 * (count - 1)  # the last Nest is the 1 048 577th value
    refusal = (f"more than {1 << 20} msgpack value(s) (`max_values`) at `$.xs[{count - 1}]` - at byte {at} "
               "[budget]")
    for command in (["decode", "-s", str(schema_file), str(value_file)],
                    ["verify", "-s", str(schema_file), str(value_file)],
                    ["render", "-s", str(schema_file), str(value_file)]):
        refused = runner.invoke(app, command)
        assert refused.exit_code == 1, refused.output
        assert refusal in refused.output
        if command[0] != "render":  # (a view of a mebibyte of Nests exceeds the template limits anyway)
            for budget in ("0", str(2 + 2 * count)):
                lifted = runner.invoke(app, [*command, "--max-values", budget])
                assert (lifted.exit_code, "[budget]" in lifted.output) == (0, False), command
        tight = runner.invoke(app, [*command, "--max-values", "3"])
        assert tight.exit_code == 1
        assert f"more than 3 msgpack value(s) (`max_values`) at `$.xs[0].xs` - at byte {P + 7} [budget]" in tight.output
    assert runner.invoke(app, ["verify", "-s", str(schema_file), str(value_file), "--max-values", "-1"]).exit_code == 2
