"""Objects: the generated converters (objects <-> Python form) against the generic walk they stand in for.

Every case runs through the generated code and through the reference walk (``objects._to``, ``objects._From``):
results (and errors) must be identical. The exact case must be served by the generated code alone.
"""

from __future__ import annotations

import contextlib
import enum
import linecache
import types
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.codegen import objects
from tests.support.generated import EVERY, EVERY_VALUE
from tests.support.generated import generated_module as generated
from tests.support.strategies import schema_texts, values


def reference_to(schema: fsf.Schema, name: str, value: Any) -> Any:
    """What the generic walk makes of ``value`` (the reference of :func:`objects.to_python_form`)."""
    if not objects.is_object(value):
        return value
    return objects._to(schema.object_plan, ir.Named(name), value, 0)


def reference_from(schema: fsf.Schema, module: types.ModuleType, name: str, value: Any) -> Any:
    return objects._From(schema.object_plan, module).convert(ir.Named(name), value)


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (a tuple is not a list, a member is not its value)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k, j) and same(a[k], b[j]) for k, j in zip(a, b, strict=True))
    return bool(a == b)


@pytest.fixture
def no_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the reference walks fail: whatever still converts was converted by the generated code."""
    def refuse(*args: Any) -> Any:
        raise AssertionError("the reference walk ran")

    monkeypatch.setattr(objects, "_to", refuse)
    monkeypatch.setattr(objects._From, "convert", refuse)


# -- random schemas: the exact case -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_random_values_convert_alike_both_ways(data: st.DataObject) -> None:
    schema = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    name = data.draw(st.sampled_from(schema.shapes), label="type")
    value = schema.decode(schema.encode(name, data.draw(values(schema.ir, name), label="value")))
    plan = schema.object_plan
    with generated(schema, "gen_fast_random") as mod:
        obj = objects.from_python_form(schema.object_plan, mod, name, value)
        fast_from = plan.from_fast[mod][name]  # cached: the module has every class
        assert same(fast_from(value), obj)  # the generated code alone, no fallback
        assert obj == reference_from(schema, mod, name, value)

        form = objects.to_python_form(schema.object_plan, name, obj)
        assert same(plan.to_fast[name](obj, 0), form)  # the generated code alone, no fallback
        assert same(form, reference_to(schema, name, obj))
        assert same(form, value)
        assert schema.encode(name, obj) == schema.encode(name, value)


def test_forge_plan_is_served_by_the_generated_code_alone(no_reference: None) -> None:
    schema = fsf.load_schema("shapes/forge-plan.fsf")
    value = {"sessionId": "s", "title": "t", "batches": [{"id": "B1", "taskIds": ["T1"], "strategy": "x",
                                                          "worktreeRef": "w"}],
             "tasks": [{"id": "T1", "title": "a", "status": "todo", "category": "c", "dependsOn": [],
                        "files": ["f.py"], "description": "d"}]}
    data = schema.encode("ForgePlan", value)
    with generated(schema, "gen_fast_forge") as mod:
        obj = schema.decode(data, into=mod)
        assert isinstance(obj, mod.ForgePlan) and isinstance(obj.tasks[0], mod.ForgeTask)
        assert obj.tasks[0].files == ["f.py"] and obj.batches[0].taskIds == ["T1"]
        assert schema.encode("ForgePlan", obj) == data


def test_every_construct_is_served_by_the_generated_code_alone(no_reference: None) -> None:
    data = EVERY.encode("Holder", EVERY_VALUE)
    with generated(EVERY, "gen_fast_every") as mod:
        obj = EVERY.decode(data, into=mod)
        assert obj.plan.colors[mod.Color.red] == mod.Plan_NoPlan()
        assert obj.bounded.byColor == {mod.Color.green: "g"}
        assert EVERY.encode("Holder", obj) == data
        assert EVERY.decode(EVERY.encode("Color", mod.Color.blue_ish), into=mod.Color) is mod.Color.blue_ish


def test_converters_are_built_once_per_schema_and_module() -> None:
    schema = fsf.compile_source("shape A { x: u8 }")
    plan = schema.object_plan
    with generated(schema, "gen_fast_once") as mod:
        objects.to_python_form(schema.object_plan, "A", mod.A(x=1))
        to_fast = dict(plan.to_fast)
        objects.from_python_form(schema.object_plan, mod, "A", {"x": 1})
        from_fast = plan.from_fast[mod]
        assert objects.to_python_form(schema.object_plan, "A", mod.A(x=2)) == {"x": 2}
        assert objects.from_python_form(schema.object_plan, mod, "A", {"x": 2}) == mod.A(x=2)
        assert plan.to_fast == to_fast and plan.from_fast[mod] is from_fast
        with generated(schema, "gen_fast_once_again") as other:
            assert objects.from_python_form(schema.object_plan, other, "A", {"x": 3}) == other.A(x=3)
            assert plan.from_fast[other] is not from_fast


def test_generated_source_holds_no_schema_text() -> None:
    """Names and strings of the schema reach the generated code through its globals, never its text."""
    hostile = fsf.compile_source("shape Q { from: str, class: arr[0..2]<E>, m: map[0..2]<E, Q> }\n"
                                 "enum E { raise, pass }\n")
    plan = hostile.object_plan
    with generated(hostile, "gen_fast_hostile") as mod:
        obj = objects.from_python_form(hostile.object_plan, mod, "Q", {"from": "v", "class": ["raise"], "m": {}})
        assert objects.to_python_form(hostile.object_plan, "Q", obj) == {"from": "v", "class": ["raise"], "m": {}}
        sources = ["".join(linecache.getlines(fn.__code__.co_filename))
                   for fn in (plan.to_fast["Q"], plan.from_fast[mod]["Q"])]
    for source in sources:
        assert source.startswith("def ")
        for text in ('"', "'", "class", "from", "raise_", "pass_"):
            assert text not in source


# -- odd values: what does not fit is left for the validator, exactly as the walk leaves it ---------------------

ODD = fsf.compile_source(
    "shape A { x: u8 }\nshape B { x: u8 }\nenum C { red, blue }\n"
    "shape Holder { a: A, many: arr[0..3]<A>, keys: map[0..3]<C, u8>, counts: map[0..3]<str, u8>, c: C?, u: U? }\n"
    "shape Link { next: Link?, c: C, note: str?, leaf: Leaf? }\nshape Leaf { n: u8, note: str?, tags: arr[0..2]<str> }\n"
    "union U { Empty, Full { a: A } }\n"
    "shape Node { next: Node?, c: C, grid: arr[0..2]<arr[0..2]<arr[0..2]<arr[0..2]<arr[0..2]<arr[0..2]<C>>>>>> }\n"
)


class Foreign(enum.Enum):
    red = "red"


class Numbered(enum.Enum):
    one = 1


class Counts(dict[str, int]):
    pass


def odd_values(mod: types.ModuleType) -> list[Any]:
    a = mod.A(x=1)

    def holder(**kw: Any) -> Any:
        fields: dict[str, Any] = {"a": a, "many": [a], "keys": {mod.C.red: 1}, "counts": {"n": 1}, "c": mod.C.blue,
                                  "u": None}
        return mod.Holder(**{**fields, **kw})

    class Sub(mod.A):  # type: ignore[name-defined,misc]
        pass

    class Stray:
        FSF_ID = "blake3:" + "0" * 64

    return [
        holder(),
        holder(a=mod.B(x=1)),  # a class of another type
        holder(a={"x": 1}),  # a dict where an object is expected: converted field-wise
        holder(a={"x": mod.C.red, "y": a}),
        holder(many=(a, a)),  # tuples stay tuples
        holder(many=[a, {"x": 2}, mod.B(x=3), None]),
        holder(many="no list"),
        holder(keys={mod.C.red: 1, "red": 2}),  # two keys naming one member stay apart
        holder(keys={mod.C.red: 1, "blue": 2}),
        holder(keys=[("red", 1)]),
        holder(c="blue"),
        holder(c=Foreign.red),  # a member of another enum: its value, as the walk does
        holder(c=42),
        holder(c=Numbered.one),  # a member whose value is no text stays as it is
        holder(counts=Counts(n=1)),  # a dict subclass becomes a dict
        holder(counts=[("n", 1)]),
        holder(u=mod.U_Full(a=a)),
        holder(u=mod.U_Empty()),
        holder(u={"Full": {"a": a}}),
        holder(u={"Full": a}),
        holder(u=mod.A(x=1)),
        holder(u=Stray()),
        holder(a=Sub(x=4)),  # a subclass is the class, for the walk
        holder(a=Stray()),
        mod.Node(next=None, c=mod.C.red, grid=[[[[[[mod.C.red, "blue"]]]]]]),
        mod.Node(next=None, c=mod.C.red, grid=[[[[[(mod.C.red,)]]]]]),
        mod.Node(next=None, c=mod.C.red, grid=[[[[[[mod.C.red], {"no": 1}]]]]]),
        mod.C.red,
        {"x": 1},
        [mod.A(x=1)],
        None,
    ]


def test_odd_values_become_what_the_walk_makes_of_them() -> None:
    with generated(ODD, "gen_fast_odd") as mod:
        for value in odd_values(mod):
            name = {mod.Node: "Node", mod.C: "C", mod.Link: "Link"}.get(type(value), "Holder")
            form = objects.to_python_form(ODD.object_plan, name, value)
            assert same(form, reference_to(ODD, name, value)), value
            if not objects.is_object(value):
                assert form is value
            with contextlib.suppress(fsf.ValidationError):
                ODD.encode(name, value)  # the validator refuses it with its path, as it always did


def test_what_does_not_fit_is_refused_by_the_validator_at_its_path() -> None:
    with generated(ODD, "gen_fast_paths") as mod:
        a = mod.A(x=1)
        cases = [
            (dict(a=mod.B(x=1)), "$.a"),
            (dict(many=[a, mod.B(x=1)]), "$.many[1]"),
            (dict(many=(a,)), "$.many"),
            (dict(keys={mod.C.red: 1, "red": 2}), "$.keys["),
            (dict(u=mod.A(x=1)), "$.u"),
        ]
        for kw, path in cases:
            fields: dict[str, Any] = {"a": a, "many": [], "keys": {}, "counts": {}, "c": None, "u": None, **kw}
            holder = mod.Holder(**fields)
            with pytest.raises(fsf.ValidationError) as err:
                ODD.encode("Holder", holder)
            with pytest.raises(fsf.ValidationError) as ref:
                ODD.encode("Holder", reference_to(ODD, "Holder", holder))
            assert err.value.path.startswith(path) and str(err.value) == str(ref.value)


def test_nesting_beyond_the_walk_limit_is_passed_through_unconverted() -> None:
    with generated(ODD, "gen_fast_deep") as mod:
        for name, make in [("Node", lambda n: mod.Node(next=n, c=mod.C.blue, grid=[])),
                           ("Node", lambda n: mod.Node(next=n, c=mod.C.blue, grid=[[[[[[mod.C.red]]]]]])),
                           ("Link", lambda n: mod.Link(next=n, c=mod.C.blue))]:
            for depth in [*range(60, 74), 100]:
                node = None
                for _ in range(depth):
                    node = make(node)
                form = objects.to_python_form(ODD.object_plan, name, node)
                assert same(form, reference_to(ODD, name, node))
                inner = form
                for _ in range(min(depth - 1, objects._MAX_WALK + 1)):
                    inner = inner["next"] if isinstance(inner, dict) else inner.next
                assert isinstance(inner, dict) == (depth <= objects._MAX_WALK + 1)


def test_deep_values_decode_into_objects_alike() -> None:
    """64 containers deep (the codec's limit) in one chain of named types, and deep anonymous arrays."""
    node: dict[str, Any] | None = None
    for _ in range(63):  # 63 shapes, and the innermost one's empty array: 64 containers
        node = {"next": node, "c": "red", "grid": []}
    assert node is not None
    node["grid"] = [[[[[["blue", "red"]]]]], [[[[[]]]]]]
    data = ODD.encode("Node", node)
    with generated(ODD, "gen_fast_deep_decode") as mod:
        obj = ODD.decode(data, into=mod)
        assert obj == reference_from(ODD, mod, "Node", ODD.decode(data))
        assert ODD.encode("Node", obj) == data
        assert ODD.object_plan.to_fast["Node"](obj, 0) == ODD.decode(data)


def test_a_valid_value_without_its_optional_fields_converts_as_the_walk_converts_it() -> None:
    with generated(ODD, "gen_fast_lenient") as mod:
        for value in [{"c": "red"}, {"c": "red", "next": {"c": "blue", "note": "n"}}, {"c": "red", "note": None},
                      {"c": "red", "leaf": {"n": 1, "tags": []}}, {"c": "red", "leaf": {"n": 1, "tags": [], "note": "n"}}]:
            ODD.validate("Link", value)
            obj = objects.from_python_form(ODD.object_plan, mod, "Link", value)
            assert same(obj, reference_from(ODD, mod, "Link", value))
            assert obj.next is None or obj.next.note == "n"
            assert obj.leaf is None or obj.leaf.n == 1
        for value in [{"n": 1, "tags": []}, {"n": 1, "tags": ["t"], "note": None}]:
            ODD.validate("Leaf", value)
            assert same(objects.from_python_form(ODD.object_plan, mod, "Leaf", value), mod.Leaf(n=1, tags=value["tags"]))
            assert same(objects.from_python_form(ODD.object_plan, mod, "Leaf", value), reference_from(ODD, mod, "Leaf", value))


# -- classes the module lacks or got from another schema --------------------------------------------------------


def test_a_missing_class_is_refused_only_when_a_value_needs_it() -> None:
    schema = fsf.compile_source("shape A { b: B?, c: C? }\nshape B { x: u8 }\nshape C { y: u8 }")
    data = schema.encode("A", {"b": {"x": 1}, "c": {"y": 2}})
    empty = schema.encode("A", {"b": None, "c": None})
    with generated(schema, "gen_fast_missing") as mod:
        del mod.B, mod.C
        assert schema.decode(empty, into=mod) == mod.A(b=None, c=None)
        assert mod not in schema.object_plan.from_fast  # a module with a class missing is not cached
        with pytest.raises(fsf.UsageError) as err:
            schema.decode(data, into=mod)
        with pytest.raises(fsf.UsageError) as ref:
            reference_from(schema, mod, "A", schema.decode(data))
        assert str(err.value) == str(ref.value) == (
            "module `gen_fast_missing` has no class `B` for `B`; regenerate it with `fsf codegen --target python`")


def test_a_class_or_enum_from_another_schema_is_refused_as_the_walk_refuses_it() -> None:
    schema = fsf.compile_source("enum E { a, b }\nshape A { e: E }")
    data = schema.encode("A", {"e": "b"})
    with generated(fsf.compile_source("enum E { a, c }\nshape A { e: E }"), "gen_fast_other") as other:
        with pytest.raises(fsf.UsageError) as err:
            schema.decode(data, into=other)
        assert str(err.value).startswith("`gen_fast_other.A` was generated from another schema")
    with generated(schema, "gen_fast_enum") as mod:
        class E(enum.Enum):
            a = "a"
            c = "c"

        mod.E = E
        with pytest.raises(fsf.UsageError) as err:
            schema.decode(data, into=mod)
        assert str(err.value) == ("`gen_fast_enum.E` does not have the members of enum `E`; "
                                  "regenerate it with `fsf codegen --target python`")


def test_decode_into_passes_canonical_on() -> None:
    from fsf.fsv import codec

    # The pure path: one that may take a wider head when not strict.
    schema = fsf.compile_source("shape Small { v: u8 }").using("pure")
    wide = codec.pack_header(schema.id_bytes("Small")) + bytes.fromhex("91 cc 05")  # 5 in a wider head
    with generated(schema, "gen_fast_canonical") as mod:
        with pytest.raises(fsf.DecodeError) as info:
            schema.decode(wide, into=mod)
        assert info.value.code == "non_canonical"
        assert schema.decode(wide, into=mod, canonical=False) == mod.Small(v=5)
