"""Decoding into generated classes: the native decoder's own objects against the reference (the reference reader's
Python form, converted by the reference walk ``objects._From``), on values, near misses and mutated bytes.

The native decoder builds the objects in its one pass (``Program.bind``); the guard makes a decode into a
module whose classes it should build, but does not, fail loudly (``on_fallback``: ``decode into``).
"""

from __future__ import annotations

import contextlib
import random
import sys
import types
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.codegen import objects
from fsf.errors import Refused
from fsf.fsv import codec
from tests.fsv.test_codec_hostile import _mutate
from tests.support.codec_paths import FallbackError, strict
from tests.support.strategies import near_misses, schema_texts, values

pytestmark = pytest.mark.skipif("native" not in codec.DEFAULT_PATHS,
                                reason="the native codec is not built, or FSF_NO_NATIVE=1")

EVERY = fsf.load_schema("tests/golden/codegen/every.fsf")
FORGE = fsf.load_schema("shapes/forge-plan.fsf")


@contextlib.contextmanager
def generated_module(schema: fsf.Schema, name: str) -> Iterator[types.ModuleType]:
    """The generated Python of ``schema`` imported as module ``name`` (registered in sys.modules meanwhile)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(fsf.codegen(schema, "python"), f"<{name}>", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[name]


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (an enum member is itself)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k, j) and same(a[k], b[j]) for k, j in zip(a, b, strict=True))
    if attrs.has(type(a)):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)))
    return bool(a == b)


def outcome(schema: fsf.Schema, data: bytes, module: types.ModuleType, *, reference: bool) -> tuple[str, Any]:
    """What decoding ``data`` into ``module`` gives: by the native decoder's objects (guarded: it must serve a
    value it accepts), or by the reference reader + the reference walk."""
    try:
        if reference:
            ref = schema.using("reference")
            name = ref.verify(data)
            value = objects._From(schema.object_plan, module).convert(ir.Named(name), ref.decode(data))
        else:
            value = strict(schema).decode(data, into=module)
        return "ok", value
    except FallbackError as err:
        if "decode into" in str(err):
            raise
        return "rejected", None  # the native decoder refused: the reference must reject too (compared below)
    except fsf.DecodeError as err:
        return "rejected", None if not reference else (err.code, err.offset, str(err))


def check_alike(schema: fsf.Schema, data: bytes, module: types.ModuleType) -> None:
    got, want = outcome(schema, data, module, reference=False), outcome(schema, data, module, reference=True)
    assert got[0] == want[0], (got, want)
    if got[0] == "ok":
        assert same(got[1], want[1]), (got, want)
    else:  # unguarded, the native refusal ends in the reference's error, word for word
        with pytest.raises(fsf.DecodeError) as err:
            schema.decode(data, into=module)
        assert (err.value.code, err.value.offset, str(err.value)) == want[1]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_native_objects_agree_with_the_reference_on_values_near_misses_and_mutations(data: st.DataObject) -> None:
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = data.draw(values(s.ir, "Root"), label="value")
    encoded = s.encode("Root", value)
    candidate = data.draw(st.one_of(st.just(value), near_misses(value)), label="candidate")
    with contextlib.suppress(fsf.ValidationError):  # a near miss that is still valid: its bytes too
        encoded = s.encode("Root", candidate)
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    with generated_module(s, "gen_native_objects") as mod:
        check_alike(s, encoded, mod)
        for _ in range(5):
            check_alike(s, _mutate(rng, encoded), mod)


EVERY_VALUE = {
    "plan": {"Nested": {"inner": {"Fixed": {"price": 3, "currency": "EUR"}},
                        "trees": [{"label": "t", "children": [], "origin": None, "note": "n", "color": "green",
                                   "tags": ["a", None]}],
                        "colors": {"red": {"NoPlan": {}}, "blue_ish": {"Fixed": {"price": 1, "currency": "USD"}}}}},
    "tree": {"label": "root", "origin": "blake3:" + "ab" * 32, "note": None, "color": None, "tags": [],
             "children": [{"label": "c", "children": [], "origin": None, "note": None, "color": "red", "tags": []}]},
    "primitives": {"flag": True, "tiny": -1, "short": 2, "medium": 3, "long": -4, "byte": 5, "word": 6,
                   "dword": 7, "qword": 8, "single": 1.5, "double": 2.25, "text": "x", "blob": b"b",
                   "digest": b"d" * 32, "at": 12},
    "bounded": {"small": 1, "count": 11, "ratio": 0.5, "half": 0.5, "code": "c", "blob": b"1", "items": [1],
                "byKey": {"a": 1}, "byNumber": {3: True}, "byColor": {"green": "g"}},
    "plans": [{"NoPlan": {}}],
}


def test_every_construct_is_built_by_the_native_decoder_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    data = EVERY.encode("Holder", EVERY_VALUE)
    with generated_module(EVERY, "gen_native_every") as mod:
        want = outcome(EVERY, data, mod, reference=True)[1]
        monkeypatch.setattr(objects, "from_python_form", None)  # no conversion after the fact either
        obj = strict(EVERY).decode(data, into=mod)
        assert same(obj, want)
        assert obj.plan.colors[mod.Color.red] == mod.Plan_NoPlan() and obj.bounded.byColor == {mod.Color.green: "g"}
        assert strict(EVERY).decode(EVERY.encode("Color", mod.Color.blue_ish), into=mod.Color) is mod.Color.blue_ish
        assert EVERY.encode("Holder", obj) == data
        rng = random.Random(18)
        for _ in range(300):
            check_alike(EVERY, _mutate(rng, data), mod)


def test_the_guard_fails_loudly_when_the_native_decoder_stops_building_objects(
        monkeypatch: pytest.MonkeyPatch) -> None:
    value = {"sessionId": "s", "title": "t", "tasks": [], "batches": []}
    data = FORGE.encode("ForgePlan", value)
    with generated_module(FORGE, "gen_native_guard") as mod:
        assert isinstance(strict(FORGE).decode(data, into=mod), mod.ForgePlan)  # it serves: no fallback
        monkeypatch.setattr(objects, "_bind_table", lambda plan, module: None)
        FORGE.object_plan.bound.clear()
        # Unguarded, the Python conversion serves the same objects ...
        assert FORGE.decode(data, into=mod) == mod.ForgePlan(sessionId="s", title="t", tasks=[], batches=[])
        # ... guarded, it fails loudly.
        with pytest.raises(FallbackError, match="the native path refused during decode into"):
            strict(FORGE).decode(data, into=mod)
    FORGE.object_plan.bound.clear()


def test_a_refusal_while_building_objects_is_reported_and_decided_by_the_reference(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = FORGE.encode("ForgePlan", {"sessionId": "s", "title": "t", "tasks": [], "batches": []})
    with generated_module(FORGE, "gen_native_refusal") as mod:
        bad = data[:-1]  # truncated
        with pytest.raises(FallbackError, match="the native path refused during decode"):
            strict(FORGE).decode(bad, into=mod)
        with pytest.raises(fsf.DecodeError) as err:
            FORGE.decode(bad, into=mod)
        assert err.value.code == "truncated"


def test_classes_that_do_more_than_store_their_fields_are_called_not_built() -> None:
    """A module whose class has an init hook (or a validator, a converter, a __dict__) is not bound: the
    conversion calls the class, so the hook runs, and the guard says the native decoder did not build it."""
    s = fsf.compile_source("shape T { v: u8 }")
    data = s.encode("T", {"v": 7})
    calls: list[int] = []

    @attrs.frozen(kw_only=True)
    class T:
        FSF_ID = s.id("T")
        v: int

        def __attrs_post_init__(self) -> None:
            calls.append(self.v)

    mod = types.ModuleType("hooked")
    mod.T = T  # type: ignore[attr-defined]
    sys.modules["hooked"] = mod
    try:
        assert s.decode(data, into=mod) == T(v=7) and calls == [7, 7]  # built once here, once by the test
        with pytest.raises(FallbackError, match="decode into"):
            strict(s).decode(data, into=mod)
    finally:
        del sys.modules["hooked"]


def test_bind_refuses_a_table_that_does_not_fit_the_program() -> None:
    program = fsf.compile_source("shape T { v: u8 }").codec.native

    class Plain:
        __slots__ = ("v",)

    class NoSlots:
        pass

    assert program.bind(((Plain, ("v",)), None)) is not None
    for table in ((), ((Plain, ("v",)),), ((NoSlots, ("v",)), None), ((Plain, ("w",)), None),
                  ((Plain, ("v", "v")), None), ((Plain, ("v",)), Plain), (None, None)):
        with pytest.raises(ValueError):
            program.bind(table)
    other = fsf.compile_source("shape T { v: u8 }").codec.native
    with pytest.raises(TypeError, match="bound to this Program"):
        other.decode(b"\x91\x07", 0, 0, 10, program.bind(((Plain, ("v",)), None)))
    with pytest.raises(Refused):
        program.decode(b"\x91\xff", 0, 0, 10, program.bind(((Plain, ("v",)), None)))
    obj = program.decode(b"\x91\x07", 0, 0, 10, program.bind(((Plain, ("v",)), None)))
    assert type(obj) is Plain and obj.v == 7
