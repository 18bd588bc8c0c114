"""Validators: the reference VM and the specialised fast path agree on verdict, message and path for every case."""

from __future__ import annotations

import collections
import copy
import datetime as dt
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import fsf
from fsf.bytecode import vm
from fsf.bytecode.specialize import generate, specialize
from tests.support import strategies

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bytecode.md"

SCHEMA = fsf.compile_source("""
/// Every type at once.
enum Strategy { sequential, parallel }
union Decision { NoPlan, Unlimited { planId: str }, Ok { planId: str, ratio: f64[0..1], remaining: u64 } }
shape Node { name: str[1..8], kids: arr[0..8]<Node> }
shape All {
  flag: bool,
  small: u8[0..5],
  signed: i8,
  big: u64,
  ratio: f64[0..1],
  single: f32,
  any: f64,
  text: str[1..4],
  blob: bytes[0..3],
  digest: hash,
  at: time,
  parent: ref<Node>?,
  strategy: Strategy,
  decision: Decision,
  tags: arr[0..2]<str>,
  weights: map[0..2]<str, f64[0..1]>,
  counts: map[0..2]<u8, bool>,
  byStrategy: map[0..2]<Strategy, i32>,
  maybe: str?,
  items: arr[0..3]<u8?>,
  tree: Node?,
}
""")
PROGRAM = SCHEMA.program
FAST = specialize(PROGRAM)

H = b"\x00" * 32
REF = "blake3:" + "ab" * 32
UTC = dt.timezone.utc
BASE: dict[str, Any] = {
    "flag": True, "small": 3, "signed": -5, "big": 2**64 - 1, "ratio": 0.5, "single": 0.25, "any": -1e300,
    "text": "héé", "blob": b"ab", "digest": H, "at": 0, "parent": REF, "strategy": "parallel",
    "decision": {"Ok": {"planId": "p", "ratio": 1.0, "remaining": 7}},
    "tags": ["a"], "weights": {"cpu": 0.5}, "counts": {3: True}, "byStrategy": {"sequential": -1},
    "maybe": None, "items": [1, None, 2], "tree": {"name": "root", "kids": [{"name": "k", "kids": []}]},
}
DROP = object()


def chain(n: int, leaf: Any = None) -> dict[str, Any]:
    """A Node with ``n`` levels of single children below it; the deepest node's kids are ``leaf`` or []."""
    node: dict[str, Any] = {"name": "n", "kids": [] if leaf is None else leaf}
    for _ in range(n):
        node = {"name": "n", "kids": [node]}
    return node


def cycle() -> dict[str, Any]:
    """A Node that is its own child."""
    node: dict[str, Any] = {"name": "loop", "kids": []}
    node["kids"].append(node)
    return node


class MyStr(str):
    pass


def with_(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(BASE)
    for key, new in changes.items():
        if new is DROP:
            del value[key]
        else:
            value[key] = new
    return value


OK = None
# (id, value of `All`, expected message or None, expected path)
CASES: list[tuple[str, Any, str | None, str]] = [
    ("base", with_(), OK, ""),
    ("optionals absent", with_(parent=DROP, maybe=DROP, tree=DROP), OK, ""),
    ("optionals None", with_(parent=None, maybe=None, tree=None), OK, ""),
    ("unit variant", with_(decision={"NoPlan": {}}), OK, ""),
    ("variant with one field", with_(decision={"Unlimited": {"planId": ""}}), OK, ""),
    ("aware datetime", with_(at=dt.datetime(2024, 5, 1, 12, tzinfo=UTC)), OK, ""),
    ("non-UTC datetime", with_(at=dt.datetime(2024, 5, 1, tzinfo=dt.timezone(dt.timedelta(hours=-7)))), OK, ""),
    ("int for f64", with_(any=3), OK, ""),
    ("int exact in f32", with_(single=16777216), OK, ""),
    ("int in float bounds", with_(ratio=1), OK, ""),
    ("negative zero in 0..1", with_(ratio=-0.0), OK, ""),
    ("astral code point counts once", with_(text="😀😀😀😀"), OK, ""),
    ("u64 zero", with_(big=0), OK, ""),
    ("i8 minimum", with_(signed=-128), OK, ""),
    ("time maximum", with_(at=2**63 - 1), OK, ""),
    ("time minimum", with_(at=-(2**63)), OK, ""),
    ("int map keys", with_(counts={0: False, 5: True}), OK, ""),
    ("enum map keys", with_(byStrategy={"sequential": 1, "parallel": -(2**31)}), OK, ""),
    ("empty containers", with_(tags=[], weights={}, counts={}, byStrategy={}, items=[]), OK, ""),
    ("deep tree within limit", with_(tree=chain(30)), OK, ""),
    # -- scalars
    ("int for bool", with_(flag=1), "Expected `bool`, got `int`", "$.flag"),
    ("bool for int", with_(small=True), "Expected `u8`, got `bool`", "$.small"),
    ("above bound", with_(small=6), "Expected `u8` in 0..5, got 6", "$.small"),
    ("below bound", with_(small=-1), "Expected `u8` in 0..5, got -1", "$.small"),
    ("float for int", with_(small=3.0), "Expected `u8`, got `float`", "$.small"),
    ("i8 underflow", with_(signed=-129), "Expected `i8` in -128..127, got -129", "$.signed"),
    ("u64 overflow", with_(big=2**64), "Expected `u64` in 0..18446744073709551615, got 18446744073709551616",
     "$.big"),
    ("huge int", with_(big=2**200), "Expected `u64` in 0..18446744073709551615, got an integer of 201 bits",
     "$.big"),
    ("nan", with_(ratio=float("nan")), "Expected finite `f64`, got nan", "$.ratio"),
    ("infinity", with_(any=float("-inf")), "Expected finite `f64`, got -inf", "$.any"),
    ("float above bound", with_(ratio=1.5), "Expected `f64` in 0..1, got 1.5", "$.ratio"),
    ("int above float bound", with_(ratio=2), "Expected `f64` in 0..1, got 2", "$.ratio"),
    ("str for float", with_(ratio="0.5"), "Expected `f64`, got `str`", "$.ratio"),
    ("bool for float", with_(any=False), "Expected `f64`, got `bool`", "$.any"),
    ("inexact int for f64", with_(any=2**53 + 1), "Expected `f64` exactly representable, got 9007199254740993",
     "$.any"),
    ("int beyond f64", with_(any=10**400),
     "Expected `f64` exactly representable, got an integer of 1329 bits", "$.any"),
    ("inexact f32", with_(single=0.1), "Expected `f32` exactly representable, got 0.1", "$.single"),
    ("f32 overflow", with_(single=1e39), "Expected `f32` exactly representable, got 1e+39", "$.single"),
    ("inexact int for f32", with_(single=16777217), "Expected `f32` exactly representable, got 16777217",
     "$.single"),
    ("nan for f32", with_(single=float("nan")), "Expected finite `f32`, got nan", "$.single"),
    ("empty str below bound", with_(text=""), "Expected `str` of length 1..4, got length 0", "$.text"),
    ("long str", with_(text="abcde"), "Expected `str` of length 1..4, got length 5", "$.text"),
    ("lone surrogate", with_(text="a\ud800"), "Expected `str` encodable as UTF-8, got a lone surrogate at index 1",
     "$.text"),
    ("bytes for str", with_(text=b"ab"), "Expected `str`, got `bytes`", "$.text"),
    ("str subclass", with_(text=MyStr("ab")), "Expected `str`, got `MyStr`", "$.text"),
    ("bytearray for bytes", with_(blob=bytearray(b"a")), "Expected `bytes`, got `bytearray`", "$.blob"),
    ("long bytes", with_(blob=b"abcd"), "Expected `bytes` of length 0..3, got length 4", "$.blob"),
    ("short hash", with_(digest=b"x" * 31), "Expected `hash` of length 32, got length 31", "$.digest"),
    ("hex for hash", with_(digest="00" * 32), "Expected `hash`, got `str`", "$.digest"),
    ("naive datetime", with_(at=dt.datetime(2024, 1, 1)), "Expected timezone-aware `time`, got naive `datetime`",
     "$.at"),
    ("time overflow", with_(at=2**63), "Expected `time` within signed 64-bit nanoseconds, got 9223372036854775808",
     "$.at"),
    ("datetime beyond 2262", with_(at=dt.datetime(9999, 1, 1, tzinfo=UTC)),
     "Expected `time` within signed 64-bit nanoseconds, got 9999-01-01T00:00:00+00:00", "$.at"),
    ("str for time", with_(at="2024-01-01"), "Expected `time`, got `str`", "$.at"),
    ("float for time", with_(at=1.5), "Expected `time`, got `float`", "$.at"),
    ("bool for time", with_(at=True), "Expected `time`, got `bool`", "$.at"),
    ("upper-case ref", with_(parent=REF.upper().replace("BLAKE3", "blake3")),
     'Expected `ref<Node>` as "blake3:" + 64 lowercase hex, got "blake3:ABABABABABABABABABABABABABABABABA…"',
     "$.parent"),
    ("short ref", with_(parent="blake3:ab"), 'Expected `ref<Node>` as "blake3:" + 64 lowercase hex, got "blake3:ab"',
     "$.parent"),
    ("bytes for ref", with_(parent=H), "Expected `ref<Node>`, got `bytes`", "$.parent"),
    # -- enums, unions
    ("unknown member", with_(strategy="random"), 'Expected a member of `Strategy`, got "random"', "$.strategy"),
    ("long unknown member", with_(strategy="x" * 100),
     'Expected a member of `Strategy`, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"', "$.strategy"),
    ("int for enum", with_(strategy=1), "Expected `Strategy`, got `int`", "$.strategy"),
    ("str for union", with_(decision="Ok"), "Expected `Decision`, got `str`", "$.decision"),
    ("empty union dict", with_(decision={}), "Expected `Decision` as a one-key dict, got 0 keys", "$.decision"),
    ("two variants", with_(decision={"NoPlan": {}, "Unlimited": {"planId": "p"}}),
     "Expected `Decision` as a one-key dict, got 2 keys", "$.decision"),
    ("unknown variant", with_(decision={"Maybe": {}}), 'Expected a variant of `Decision`, got "Maybe"',
     "$.decision"),
    ("None payload", with_(decision={"NoPlan": None}), "Expected `Decision.NoPlan`, got `None`", "$.decision.NoPlan"),
    ("field in unit variant", with_(decision={"NoPlan": {"x": 1}}), 'Unknown field "x" in `Decision.NoPlan`',
     "$.decision.NoPlan"),
    ("missing variant field", with_(decision={"Ok": {"planId": "p", "ratio": 0.5}}),
     "Missing required field `remaining` in `Decision.Ok`", "$.decision.Ok"),
    ("bad variant field", with_(decision={"Ok": {"planId": "p", "ratio": 2, "remaining": 1}}),
     "Expected `f64` in 0..1, got 2", "$.decision.Ok.ratio"),
    ("None variant field", with_(decision={"Unlimited": {"planId": None}}), "Expected `str`, got `None`",
     "$.decision.Unlimited.planId"),
    # -- arrays and maps
    ("tuple for arr", with_(tags=("a",)), "Expected `arr`, got `tuple`", "$.tags"),
    ("long arr", with_(tags=["a", "b", "c"]), "Expected `arr` of length 0..2, got length 3", "$.tags"),
    ("bad item", with_(tags=["a", 1]), "Expected `str`, got `int`", "$.tags[1]"),
    ("bad map value", with_(weights={"cpu": 2.0}), "Expected `f64` in 0..1, got 2.0", '$.weights["cpu"]'),
    ("int key for str", with_(weights={1: 0.5}), "Expected `str`, got `int`", "$.weights[1]"),
    ("quoted key", with_(weights={'a"b\n': 7.0}), "Expected `f64` in 0..1, got 7.0", '$.weights["a\\"b\\n"]'),
    ("long key", with_(weights={"k" * 50: 2.0}), "Expected `f64` in 0..1, got 2.0", f'$.weights["{"k" * 40}…"]'),
    ("list for map", with_(weights=[]), "Expected `map`, got `list`", "$.weights"),
    ("long map", with_(counts={1: True, 2: True, 3: True}), "Expected `map` of length 0..2, got length 3",
     "$.counts"),
    ("int key out of range", with_(counts={256: True}), "Expected `u8` in 0..255, got 256", "$.counts[256]"),
    ("str key for int", with_(counts={"3": True}), "Expected `u8`, got `str`", '$.counts["3"]'),
    ("bad map bool", with_(counts={3: 1}), "Expected `bool`, got `int`", "$.counts[3]"),
    ("tuple key", with_(counts={(1, 2): True}), "Expected `u8`, got `tuple`", "$.counts[<tuple>]"),
    ("unknown enum key", with_(byStrategy={"random": 1}), 'Expected a member of `Strategy`, got "random"',
     '$.byStrategy["random"]'),
    ("bad optional item", with_(items=[1, None, 300]), "Expected `u8` in 0..255, got 300", "$.items[2]"),
    ("str item", with_(items=["x"]), "Expected `u8`, got `str`", "$.items[0]"),
    ("bad optional field", with_(maybe=3), "Expected `str`, got `int`", "$.maybe"),
    # -- shapes and recursion
    ("empty name in tree", with_(tree={"name": "", "kids": []}), "Expected `str` of length 1..8, got length 0",
     "$.tree.name"),
    ("list for shape", with_(tree={"name": "a", "kids": [[]]}), "Expected `Node`, got `list`", "$.tree.kids[0]"),
    ("deep bad name", with_(tree=chain(2, [{"name": 5, "kids": []}])), "Expected `str`, got `int`",
     "$.tree.kids[0].kids[0].kids[0].name"),
    ("unknown key", with_(extra=1), 'Unknown field "extra" in `All`', "$"),
    ("unknown int key", {**with_(), 5: 1}, "Unknown field 5 in `All`", "$"),
    ("missing field", with_(flag=DROP), "Missing required field `flag` in `All`", "$"),
    ("unknown before missing", with_(flag=DROP, extra=1), 'Unknown field "extra" in `All`', "$"),
    ("None for required", with_(flag=None), "Expected `bool`, got `None`", "$.flag"),
    ("list at root", [], "Expected `All`, got `list`", "$"),
    ("None at root", None, "Expected `All`, got `None`", "$"),
    ("dict subclass", collections.OrderedDict(with_()), "Expected `All`, got `OrderedDict`", "$"),
    ("too deep", with_(tree=chain(31)), "Value nested deeper than 64 levels", "$.tree" + ".kids[0]" * 31 + ".kids"),
    ("cycle", with_(tree=cycle()), "Value nested deeper than 64 levels", "$.tree" + ".kids[0]" * 31 + ".kids"),
]


def outcome(fn: Any, value: Any) -> tuple[str, str] | None:
    try:
        fn(value)
    except fsf.ValidationError as err:
        assert str(err) == f"{err.message} - at `{err.path}`"
        return (err.message, err.path)
    return None


def both(name: str, value: Any, program: Any = PROGRAM, fast: Any = FAST) -> tuple[str, str] | None:
    """The outcome of the VM and the fast path, which must be the same."""
    by_vm = outcome(lambda v: vm.run(program, name, v), value)
    by_fast = outcome(fast[name], value)
    assert by_vm == by_fast
    return by_vm


def test_the_table_is_large_and_covers_every_opcode() -> None:
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)
    used = {ins.op for ins in PROGRAM.code}
    assert used == set(fsf.bytecode.opcodes.Op)


@pytest.mark.parametrize(("value", "message", "path"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_vm_and_fast_path_agree(value: Any, message: str | None, path: str) -> None:
    got = both("All", value)
    assert got == (None if message is None else (message, path))


def test_every_message_follows_a_documented_template() -> None:
    section = DOCS.read_text().split("<!-- messages:")[1].split("<!-- end messages -->")[0]
    templates = [m.group(1) for m in re.finditer(r"^\| ``(.+?) ?`` \|", section, re.M)]
    assert len(templates) == 15
    patterns = [re.compile(re.sub(r"\\\{\w+\\\}", ".+", re.escape(t.rstrip()))) for t in templates]
    for _, _value, message, _ in CASES:
        if message is not None:
            assert any(p.fullmatch(message) for p in patterns), message


def test_schema_validate_uses_both_engines() -> None:
    SCHEMA.validate("All", with_())
    for engine in ("fast", "vm"):
        with pytest.raises(fsf.ValidationError, match=r"^Expected `u8` in 0\.\.5, got 9 - at `\$\.small`$"):
            SCHEMA.validate("All", with_(small=9), engine=engine)
    with pytest.raises(fsf.UsageError):
        SCHEMA.validate("All", with_(), engine="turbo")
    assert issubclass(fsf.ValidationError, ValueError)


def test_recursive_schema_and_enum_roots() -> None:
    assert both("Node", chain(20)) is None
    assert both("Strategy", "parallel") is None
    assert both("Strategy", "x") == ('Expected a member of `Strategy`, got "x"', "$")
    assert both("Decision", {"NoPlan": {}}) is None


@pytest.mark.parametrize("levels", [32, 1000, 100_000])
def test_hostile_nesting_is_a_validation_error(levels: int) -> None:
    got = both("Node", chain(levels))
    assert got == ("Value nested deeper than 64 levels", "$" + ".kids[0]" * 32)


def test_max_depth_is_a_parameter_with_limits() -> None:
    fast = specialize(PROGRAM, 3)
    value = chain(1)  # Node (1), kids (2), Node (3), kids (4)
    assert outcome(fast["Node"], value) == ("Value nested deeper than 3 levels", "$.kids[0].kids")
    assert outcome(lambda v: vm.run(PROGRAM, "Node", v, 3), value) == ("Value nested deeper than 3 levels",
                                                                          "$.kids[0].kids")
    for bad in (0, 257, True):
        with pytest.raises(fsf.UsageError):
            specialize(PROGRAM, bad)
        with pytest.raises(fsf.UsageError):
            vm.run(PROGRAM, "Node", value, bad)


def _at_depth(n: int, fn: Any) -> Any:
    return fn() if n == 0 else _at_depth(n - 1, fn)


def test_fast_path_falls_back_to_the_vm_when_the_callers_stack_is_nearly_full(
        monkeypatch: pytest.MonkeyPatch) -> None:
    value, bad = chain(30), chain(30, [{"name": "", "kids": []}])
    fallbacks: list[Any] = []
    real = vm.run
    monkeypatch.setattr(vm, "run", lambda *a: fallbacks.append(a) or real(*a))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 50)
    try:
        assert _at_depth(20, lambda: outcome(FAST["Node"], value)) is None
        assert _at_depth(20, lambda: outcome(FAST["Node"], bad)) == (
            "Expected `str` of length 1..8, got length 0", "$" + ".kids[0]" * 31 + ".name")
    finally:
        sys.setrecursionlimit(limit)
    assert len(fallbacks) == 2


def test_generated_source_has_no_schema_text_and_is_in_linecache() -> None:
    hostile = fsf.compile_source('enum E { a }\nshape S { x_y: str, q: E }')
    source, consts = generate(hostile.program)
    assert "x_y" not in source and '"' not in source and "'" not in source
    assert "x_y" in consts.values()
    import linecache

    fast = specialize(hostile.program)
    with pytest.raises(fsf.ValidationError):
        fast["S"]({"x_y": 1, "q": "a"})
    assert any(name.startswith("<fsf-specialized") and source in "".join(entry[2])
               for name, entry in linecache.cache.items() if isinstance(entry, tuple) and len(entry) == 4)


def test_deeply_nested_types_are_outlined() -> None:
    text = "shape A { x: " + "arr[0..2]<" * 40 + "u8" + ">" * 40 + " }"
    schema = fsf.compile_source(text)
    fast = specialize(schema.program, 256)
    value: Any = 7
    for _ in range(40):
        value = [value]
    assert outcome(fast["A"], {"x": value}) is None
    bad = copy.deepcopy(value)
    inner = bad
    for _ in range(39):
        inner = inner[0]
    inner[0] = 300
    expected = ("Expected `u8` in 0..255, got 300", "$.x" + "[0]" * 40)
    assert outcome(fast["A"], {"x": bad}) == expected
    assert outcome(lambda v: vm.run(schema.program, "A", v, 256), {"x": bad}) == expected


@seed(20261122)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_hypothesis_differential(data: st.DataObject) -> None:
    text = data.draw(strategies.schema_texts())
    schema = fsf.compile_source(text)
    fast = specialize(schema.program)
    value = data.draw(strategies.values(schema.ir, "Root"))
    assert both("Root", value, schema.program, fast) is None
    missed = data.draw(strategies.near_misses(copy.deepcopy(value)))
    both("Root", missed, schema.program, fast)


INJECTIONS = ['"', "'", "\\", "\n", '"); import os; os.system("false") #', "__import__('os')", "{0}", "\u2028", "",
              "v0", "_c0", "d"]


def test_injection_through_every_name_is_inert() -> None:
    """Names from a hostile .fsb reach the generated code only as constants (the checker never lets them in)."""
    from fsf import ir
    from fsf.bytecode.compile import compile_schema
    from fsf.bytecode.container import dump_container, load_container

    members = tuple(ir.Member(n) for n in INJECTIONS)
    fields = tuple(ir.Field(n, ir.Named("E")) for n in INJECTIONS)
    variants = (ir.Variant("'\"", fields), ir.Variant("\n", ()))
    schema = ir.Schema(tuple(sorted((ir.Enum("E", members), ir.Shape("S\"", fields),
                                     ir.Union_("U'", variants)), key=lambda d: d.name)))
    program = compile_schema(schema)
    assert load_container(dump_container(schema, program), "x.fsb") == (schema, program)
    source, _ = generate(program)
    for name in INJECTIONS:
        if len(name) > 2 and not name.isidentifier():
            assert name not in source
    fast = specialize(program)
    good = {n: n for n in INJECTIONS}
    assert both("S\"", good, program, fast) is None
    assert both("U'", {"'\"": good}, program, fast) is None
    assert both("U'", {"\n": {}}, program, fast) is None
    assert both("S\"", {**good, '"': "nope"}, program, fast) == ('Expected a member of `E`, got "nope"', '$."')
    assert both("U'", {"'\"": {**good, "\n": 1}}, program, fast) == ("Expected `E`, got `int`", "$.'\".\n")
