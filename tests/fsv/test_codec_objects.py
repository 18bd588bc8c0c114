"""Decoding into generated classes: the native decoder's own objects against the reference (the reference reader's
Python form, converted by the reference walk ``objects._From``), on values, near misses and mutated bytes.

The native decoder builds the objects in its one pass (``Program.bind``); the guard makes a decode into a
module whose classes it should build, but does not, fail loudly (``on_fallback``: ``decode into``).
"""

from __future__ import annotations

import contextlib
import enum
import random
import sys
import types
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.codegen import objects
from fsf.errors import Refused
from fsf.fsv import codec, native
from tests.fsv.test_codec_hostile import _mutate
from tests.support.codec_paths import FallbackError, strict
from tests.support.generated import EVERY, EVERY_VALUE, generated_module
from tests.support.strategies import near_misses, schema_texts, values

pytestmark = pytest.mark.skipif("native" not in codec.DEFAULT_PATHS,
                                reason="the native codec is not built, or FSF_NO_NATIVE=1")

FORGE = fsf.load_schema("shapes/forge-plan.fsf")





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


# ---------------------------------------------------------------------------------------------------------------
# Encoding from generated objects: the native encoder reads the objects itself (Program.encode with the classes
# bound by Program.bind); the judge is the reference walk (objects._to) + the reference path.


def encode_outcome(schema: fsf.Schema, name: str, obj: Any, *, path: str) -> tuple[str, Any]:
    """What encoding ``obj`` gives: ``guarded`` (the native encoder must serve, or the refusal is reported as
    ``refused``), ``default`` (the schema's codec, unguarded) or ``reference`` (the reference walk's Python
    form, then the reference path alone)."""
    try:
        if path == "reference":
            return "ok", schema.using("reference").encode(name, objects._to(schema.object_plan, ir.Named(name), obj, 0))
        return "ok", (strict(schema) if path == "guarded" else schema).encode(name, obj)
    except FallbackError as err:
        if "encode objects" in str(err):  # the native encoder did not even try: a binding that should exist
            raise
        return "refused", None
    except fsf.ValidationError as err:
        return "invalid", (err.message, err.path)
    except AttributeError as err:  # an attribute the object lacks: the conversion raises it, on every path
        return "attribute", str(err)


def check_encode_alike(schema: fsf.Schema, name: str, obj: Any) -> tuple[str, Any]:
    """The native encoder accepts only what the reference accepts, with its bytes; whatever it refuses ends,
    unguarded, in the reference's bytes or error, word for word. Returns the native verdict."""
    want = encode_outcome(schema, name, obj, path="reference")
    got = encode_outcome(schema, name, obj, path="guarded")
    if got[0] != "refused":
        assert got == want, (got, want)
    assert encode_outcome(schema, name, obj, path="default") == want
    return got


def _spots(obj: Any) -> list[tuple[Any, str]]:
    """Every (object, attribute) of the generated objects inside ``obj``."""
    out: list[tuple[Any, str]] = []
    work = [obj]
    while work:
        x = work.pop()
        if attrs.has(type(x)):
            for f in attrs.fields(type(x)):
                out.append((x, f.name))
                work.append(getattr(x, f.name))
        elif isinstance(x, list):
            work.extend(x)
        elif isinstance(x, dict):
            work.extend(x.keys())
            work.extend(x.values())
    return out


class _Sub:
    """Made a subclass of the class of the object it replaces (see ``_near_miss``)."""


def _near_miss(rng: random.Random, obj: Any, mod: types.ModuleType, schema: fsf.Schema) -> bool:
    """Change one spot of the objects ``obj`` in place (an attribute deleted or set to a wrong, lenient or
    other-form value, an object made a subclass' or another class'); False when there is no spot."""
    spots = _spots(obj)
    if not spots:
        return False
    holder, attr = rng.choice(spots)
    current = getattr(holder, attr)
    others = [getattr(h, a) for h, a in spots if attrs.has(type(getattr(h, a)))]
    members = [m for c in vars(mod).values() if isinstance(c, type) and issubclass(c, enum.Enum) for m in c]
    choices: list[Any] = [None, "x", "", 2**70, -1, 0, 1.5, float("nan"), True, b"b", [], {}, ("t",), _Sub(),
                          *rng.sample(others, min(2, len(others))), *rng.sample(members, min(2, len(members)))]
    if attrs.has(type(current)):  # the same value as its Python form, or as an object of a subclass
        choices.append(objects._to(schema.object_plan, _type_of(schema, holder, attr), current, 0))
        sub = type("Sub", (type(current),), {"__slots__": ()})
        choices.append(sub(**{f.name: getattr(current, f.name) for f in attrs.fields(type(current))}))
    if isinstance(current, list):
        choices += [tuple(current), [*current, *current[:1]], current[1:]]
    if isinstance(current, dict) and current:
        choices += [{**current, "zz": next(iter(current.values()))},
                    {getattr(k, "value", k): v for k, v in current.items()}]  # enum keys by their names
    if isinstance(current, enum.Enum):
        choices.append(current.value)
    if isinstance(current, int) and not isinstance(current, bool):
        choices += [current + 1, current - 1, float(current), True]
    if isinstance(current, str):
        choices += [current + "a", current[:-1], "\udc80"]
    if rng.random() < 0.1:
        object.__delattr__(holder, attr)
    else:
        object.__setattr__(holder, attr, rng.choice(choices))
    return True


def _type_of(schema: fsf.Schema, holder: Any, attr: str) -> ir.Type:
    """The declared type of ``attr`` of the generated object ``holder``."""
    cls = type(holder)
    variant = getattr(cls, "FSF_VARIANT", None)
    decl = schema.ir[cls.FSF_NAME]
    fields = decl.fields if variant is None else next(v for v in decl.variants if v.name == variant).fields  # type: ignore[union-attr]
    names = schema.object_plan.names.fields[cls.FSF_NAME, variant]
    return fields[names.index(attr)].type


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_native_object_encode_agrees_with_the_reference_on_values_and_near_misses(data: st.DataObject) -> None:
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = s.decode(s.encode("Root", data.draw(values(s.ir, "Root"), label="value")))  # the canonical form
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    with generated_module(s, "gen_native_encode") as mod:
        def build() -> Any:
            return objects._From(s.object_plan, mod).convert(ir.Named("Root"), value)

        # A value in the canonical form, as objects: the native encoder serves it, with the dict form's bytes.
        assert check_encode_alike(s, "Root", build()) == ("ok", s.encode("Root", value))
        for _ in range(6):
            obj = build()
            if _near_miss(rng, obj, mod, s):
                check_encode_alike(s, "Root", obj)


def test_every_construct_is_encoded_by_the_native_encoder_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    data = EVERY.encode("Holder", EVERY_VALUE)
    with generated_module(EVERY, "gen_native_every_encode") as mod:
        obj = EVERY.decode(data, into=mod)
        monkeypatch.setattr(objects, "to_python_form", None)  # no conversion to dicts at all
        assert strict(EVERY).encode("Holder", obj) == data
        assert strict(EVERY).encode("Color", mod.Color.blue_ish) == EVERY.encode("Color", "blue_ish")
        assert strict(EVERY).encode("Plan", obj.plan) == EVERY.encode("Plan", EVERY_VALUE["plan"])
        monkeypatch.undo()
        rng = random.Random(18)
        verdicts = set()
        for _ in range(300):
            bad = EVERY.decode(data, into=mod)
            assert _near_miss(rng, bad, mod, EVERY)
            verdicts.add(check_encode_alike(EVERY, "Holder", bad)[0])
        assert verdicts == {"ok", "refused"}


def test_object_encode_refusals_end_in_the_reference_error() -> None:
    with generated_module(EVERY, "gen_native_encode_errors") as mod:
        obj = EVERY.decode(EVERY.encode("Holder", EVERY_VALUE), into=mod)
        bounded = obj.bounded
        # Two keys that name one member (a member and its name) are one map key: the validator refuses the dict.
        object.__setattr__(bounded, "byColor", {mod.Color.green: "g", "green": "h"})
        assert check_encode_alike(EVERY, "Holder", obj) == ("refused", None)
        with pytest.raises(fsf.ValidationError) as err:
            EVERY.encode("Holder", obj)
        assert (err.value.message, err.value.path) == ("Expected `Color`, got `Color`", "$.bounded.byColor[<Color>]")
        # An attribute the object lacks: the conversion's AttributeError, as before.
        object.__delattr__(bounded, "byColor")
        with pytest.raises(AttributeError, match="byColor"):
            EVERY.encode("Holder", obj)
        assert check_encode_alike(EVERY, "Holder", obj)[0] == "refused"
        # A variant object where a shape is expected, and an invalid field: the reference's message and path.
        object.__setattr__(bounded, "byColor", {})
        object.__setattr__(obj, "tree", mod.Plan_NoPlan())
        with pytest.raises(fsf.ValidationError) as err:
            EVERY.encode("Holder", obj)
        assert check_encode_alike(EVERY, "Holder", obj)[0] == "refused"
        assert (err.value.message, err.value.path) == ("Expected `Tree`, got `Plan_NoPlan`", "$.tree")


def test_the_guard_fails_loudly_when_the_native_encoder_stops_reading_objects(
        monkeypatch: pytest.MonkeyPatch) -> None:
    value = {"sessionId": "s", "title": "t", "tasks": [], "batches": []}
    data = FORGE.encode("ForgePlan", value)
    with generated_module(FORGE, "gen_native_encode_guard") as mod:
        obj = FORGE.decode(data, into=mod)
        assert strict(FORGE).encode("ForgePlan", obj) == data  # it serves: no fallback
        monkeypatch.setattr(objects, "_bind_table", lambda plan, module: None)
        FORGE.object_plan.bound.clear()
        # Unguarded, the Python conversion serves the same bytes ...
        assert FORGE.encode("ForgePlan", obj) == data
        # ... guarded, it fails loudly.
        with pytest.raises(FallbackError, match="the native path refused during encode objects"):
            strict(FORGE).encode("ForgePlan", obj)
        monkeypatch.undo()
        FORGE.object_plan.bound.clear()
        # A native encoder that refuses every object: guarded, that fails loudly as well.
        real = native.codec
        monkeypatch.setattr(native, "codec", lambda schema: _RefusingObjects(real(schema)))
        broken = fsf.load_schema("shapes/forge-plan.fsf")
        assert broken.encode("ForgePlan", obj) == data
        with pytest.raises(FallbackError, match="the native path refused during encode"):
            strict(broken).encode("ForgePlan", obj)
    FORGE.object_plan.bound.clear()


class _RefusingObjects:
    """A native program that refuses every encode of objects (and is itself otherwise)."""

    def __init__(self, program: Any) -> None:
        self.program = program

    def encode(self, value: Any, root: int, prefix: bytes, classes: Any = None) -> bytes:
        if classes is not None:
            raise Refused
        data: bytes = self.program.encode(value, root, prefix)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.program, name)


def test_classes_that_are_not_plain_are_converted_not_read() -> None:
    """A class whose attributes are not read by the generic lookup, or whose FSF_VARIANT says another variant,
    is not bound: the conversion reads it as it always did, and the guard says the native encoder did not."""
    s = fsf.compile_source("shape T { v: u8 }\nunion U { A { v: u8 }, B { v: u8 } }")

    @attrs.frozen(kw_only=True)
    class T:
        FSF_ID = s.id("T")
        v: int

        def __getattribute__(self, name: str) -> Any:
            return 9 if name == "v" else object.__getattribute__(self, name)

    @attrs.frozen(kw_only=True)
    class U_A:
        FSF_ID = s.id("U")
        FSF_VARIANT = "B"
        v: int

    @attrs.frozen(kw_only=True)
    class U_B:
        FSF_ID = s.id("U")
        FSF_VARIANT = "B"
        v: int

    for cls, name, want in ((T, "T", s.encode("T", {"v": 9})), (U_A, "U", s.encode("U", {"B": {"v": 7}}))):
        mod = types.ModuleType("odd_classes")
        mod.T, mod.U_A, mod.U_B = T, U_A, U_B  # type: ignore[attr-defined]
        cls.__module__ = "odd_classes"
        sys.modules["odd_classes"] = mod
        try:
            obj = cls(v=7)
            assert s.encode(name, obj) == want
            with pytest.raises(FallbackError, match="encode objects"):
                strict(s).encode(name, obj)
        finally:
            del sys.modules["odd_classes"]
            s.object_plan.bound.clear()


def test_encode_with_classes_refuses_what_is_not_exactly_the_bound_class() -> None:
    program = fsf.compile_source("shape T { v: u8 }").codec.native

    class Plain:
        __slots__ = ("v",)
        v: int

    class Sub(Plain):
        __slots__ = ()

    bound = program.bind(((Plain, ("v",)), None))
    obj, sub, unset = Plain(), Sub(), Plain()
    obj.v = sub.v = 7
    assert program.encode(obj, 0, b"", bound) == b"\x91\x07" == program.encode({"v": 7}, 0, b"", bound)
    for refused in (sub, unset, {"v": 300}):
        with pytest.raises(Refused):
            program.encode(refused, 0, b"", bound)
    with pytest.raises(Refused):
        program.encode(obj, 0, b"")  # without the classes: the Python form only
    other = fsf.compile_source("shape T { v: u8 }").codec.native
    with pytest.raises(TypeError, match="bound to this Program"):
        other.encode(obj, 0, b"", bound)
    e = fsf.compile_source("enum E { a, b }").codec.native
    with pytest.raises(ValueError, match="distinct"):
        e.bind((("x", "x"),))
