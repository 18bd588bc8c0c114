"""One depth rule for every path: a value's depth is the number of msgpack containers around it (a union
``[index, fields...]`` is one, its variant's dict sharing the union's level), and a container deeper than
``fsf.limits.MAX_DEPTH`` is refused by decode, verify, encode, validate (fast and VM), the pure and native codecs
and the generated-object converters alike. So whatever decode accepts re-encodes to its bytes.
"""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf import limits, schema
from fsf.bytecode import specialize, vm
from fsf.codegen import objects
from fsf.fsv import codec, native
from fsf.fsv import pure as fused
from fsf.views import read_provenance

LIMIT = limits.MAX_DEPTH

# Every kind of container, nested through one recursive union: each step wraps the inner value in its own
# containers, and its head bytes (the variant index is a byte of its own) precede the inner value's.
SCHEMA = fsf.compile_source("""
union N {
  Leaf,
  U { n: N },
  S { s: Sh },
  A { a: arr[0..1]<N> },
  M { m: map[0..1]<str, N> },
}
shape Sh { n: N }
""", "depth.fsf")

# step -> (the containers it adds, its head bytes, the offset of each container in them, the path segments
# from the step's first container to each of them and to the inner value)
STEPS: dict[str, tuple[bytes, tuple[int, ...], tuple[str, ...], str]] = {
    "U": (bytes.fromhex("92 01"), (0,), ("",), ".U.n"),
    "S": (bytes.fromhex("92 02 91"), (0, 2), ("", ".S.s"), ".S.s.n"),
    "A": (bytes.fromhex("92 03 91"), (0, 2), ("", ".A.a"), ".A.a[0]"),
    "M": (bytes.fromhex("92 04 81 a1 6b"), (0, 2), ("", ".M.m"), '.M.m["k"]'),
}


def wrap(step: str, inner: Any) -> Any:
    return {"U": {"U": {"n": inner}}, "S": {"S": {"s": {"n": inner}}}, "A": {"A": {"a": [inner]}},
            "M": {"M": {"m": {"k": inner}}}}[step]


def build(steps: list[str]) -> tuple[Any, bytes, list[tuple[int, str]]]:
    """The value of ``steps`` (outermost first) around a ``Leaf``, its payload bytes, and the offset and path
    of every container in order of depth, worked out by hand from the byte layout."""
    value: Any = {"Leaf": {}}
    for step in reversed(steps):
        value = wrap(step, value)
    payload = b""
    containers: list[tuple[int, str]] = []
    path = "$"
    for step in steps:
        head, offsets, segments, inner = STEPS[step]
        containers += [(codec.HEADER_SIZE + len(payload) + o, path + seg) for o, seg in zip(offsets, segments, strict=True)]
        payload += head
        path += inner
    containers.append((codec.HEADER_SIZE + len(payload), path))
    return value, payload + bytes.fromhex("91 00"), containers


@st.composite
def nested(draw: st.DrawFn) -> list[str]:
    """Steps whose containers nest exactly limit - 2 .. limit + 2 deep (with the Leaf's one)."""
    target = draw(st.integers(LIMIT - 2, LIMIT + 2))
    steps: list[str] = []
    depth = 1
    while depth < target:
        step = draw(st.sampled_from("USAM")) if target - depth >= 2 else "U"
        steps.append(step)
        depth += 1 if step == "U" else 2
    return steps


def _encode(path: str, value: Any) -> tuple[str, Any]:
    try:
        return "ok", codec.encode(SCHEMA, "N", value, path=path)
    except fsf.ValidationError as err:
        return "invalid", str(err)


def _decode(path: str, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", codec.decode(SCHEMA, data, path=path)
    except fsf.DecodeError as err:
        return "refused", (err.code, err.offset, str(err))


def _verify(path: str, data: bytes) -> tuple[str, Any]:
    try:
        return "ok", codec.verify(SCHEMA, data, path=path)
    except fsf.DecodeError as err:
        return "refused", (err.code, err.offset, str(err))


def _validate(value: Any, engine: str) -> str:
    try:
        SCHEMA.validate("N", value, engine=engine)
    except fsf.ValidationError as err:
        return str(err)
    return "ok"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(nested())
def test_decode_accepts_exactly_what_encode_and_validate_accept(steps: list[str]) -> None:
    value, payload, containers = build(steps)
    data = codec.pack_header(SCHEMA.id_bytes("N")) + payload
    depth = len(containers)
    if depth <= LIMIT:
        assert {p: _encode(p, value) for p in codec.PATHS} == dict.fromkeys(codec.PATHS, ("ok", data))
        assert {p: _decode(p, data) for p in codec.PATHS} == dict.fromkeys(codec.PATHS, ("ok", value))
        assert {p: _verify(p, data) for p in codec.PATHS} == dict.fromkeys(codec.PATHS, ("ok", "N"))
        assert _validate(value, "fast") == _validate(value, "vm") == "ok"
        return
    offset, where = containers[LIMIT]  # the first container too deep
    invalid = f"Value nested deeper than {LIMIT} levels - at `{where}`"
    assert {p: _encode(p, value) for p in codec.PATHS} == dict.fromkeys(codec.PATHS, ("invalid", invalid))
    assert _validate(value, "fast") == _validate(value, "vm") == invalid
    refused = ("refused", ("too_deep", offset,
                           f"containers nested deeper than {LIMIT} at `{where}` - at byte {offset} [too_deep]"))
    assert {p: _decode(p, data) for p in codec.PATHS} == dict.fromkeys(codec.PATHS, refused)
    assert {p: _verify(p, data) for p in codec.PATHS} == dict.fromkeys(codec.PATHS, refused)


def _json_nest(levels: int) -> Any:
    """A `JsonValue` of ``levels`` `List` values around a `Null`: 2 x levels + 1 containers."""
    value: Any = {"Null": {}}
    for _ in range(levels):
        value = {"List": {"items": [value]}}
    return value


@pytest.mark.parametrize("path", codec.PATHS)
def test_json_value_at_and_beyond_the_limit(path: str) -> None:
    # The case: 21 List levels decoded, then encode and validate refused what decode returned.
    dispatch = fsf.load_schema("shapes/dispatch.fsf")
    deepest = _json_nest((LIMIT - 1) // 2)  # 63 containers
    data = codec.encode(dispatch, "JsonValue", deepest, path=path)
    assert codec.decode(dispatch, data, path=path) == deepest
    assert codec.encode(dispatch, "JsonValue", codec.decode(dispatch, data, path=path), path=path) == data
    too_deep = _json_nest(LIMIT // 2)  # 65 containers
    where = "$" + ".List.items[0]" * (LIMIT // 2)
    with pytest.raises(fsf.ValidationError) as invalid:
        codec.encode(dispatch, "JsonValue", too_deep, path=path)
    assert str(invalid.value) == f"Value nested deeper than {LIMIT} levels - at `{where}`"
    bytes_ = codec.pack_header(dispatch.id_bytes("JsonValue")) + bytes.fromhex("92 04 91") * (LIMIT // 2) + b"\x91\x00"
    with pytest.raises(fsf.DecodeError) as refused:
        codec.decode(dispatch, bytes_, path=path)
    offset = codec.HEADER_SIZE + 3 * (LIMIT // 2)
    assert (refused.value.code, refused.value.offset) == ("too_deep", offset)
    assert str(refused.value) == f"containers nested deeper than {LIMIT} at `{where}` - at byte {offset} [too_deep]"


def test_the_limit_is_stated_once() -> None:
    assert codec.MAX_DEPTH is limits.MAX_DEPTH == 64
    assert schema.DEFAULT_MAX_DEPTH == LIMIT
    for fn in (vm.run, specialize.specialize, specialize.generate, fused.decoders, fused.encoders):
        assert fn.__defaults__ is not None and LIMIT in fn.__defaults__, fn
    assert objects._MAX_WALK == LIMIT + 6
    if native.AVAILABLE:  # the C codec takes the limit from Python, and nothing else
        assert not hasattr(native._native, "MAX_DEPTH")
        with pytest.raises(TypeError):
            native._native.Program(native.program(SCHEMA.ir))
        for bad in (0, 257):
            with pytest.raises(ValueError, match="max_depth"):
                native._native.Program(native.program(SCHEMA.ir), bad)


def test_static_depth_counts_a_union_once() -> None:
    flat = fsf.compile_source("union U { A { xs: arr[0..1]<u8> }, B }\nshape S { u: U }")
    assert fused._static_depth(flat.ir) == 3  # S, U (and its variant's dict), arr


@contextlib.contextmanager
def _generated(s: fsf.Schema, name: str) -> Iterator[types.ModuleType]:
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(fsf.codegen(s, "python"), f"<{name}>", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[name]


@pytest.mark.parametrize("path", codec.PATHS)
def test_generated_objects_and_views_take_values_at_the_limit(path: str) -> None:
    schema = SCHEMA.using(path)
    steps = ["M", "A", "S"] * ((LIMIT - 1) // 6) + ["U"] * ((LIMIT - 1) % 6)
    value, payload, containers = build(steps)
    assert len(containers) == LIMIT
    data = codec.pack_header(schema.id_bytes("N")) + payload
    with _generated(schema, "depth_objects") as module:
        obj = schema.decode(data, into=module)
        assert not isinstance(obj, dict)
        assert schema.encode("N", obj) == data
        assert objects.to_python_form(schema.object_plan, "N", obj) == value
    view = fsf.render_markdown(schema, data)
    origin = read_provenance(view.splitlines()[0])
    assert origin is not None and origin.value == fsf.content_id(data)
    assert view.endswith("n: Leaf\n")  # the innermost value, at the limit, is in the view


def test_vm_counts_a_variant_dict_at_its_union_level() -> None:
    program = fsf.compile_source("union U { A { u: U? } }").program
    value: Any = {"A": {}}
    for _ in range(2):
        value = {"A": {"u": value}}
    # Three unions: three levels, though six dicts.
    vm.run(program, "U", value, 3)
    specialize.specialize(program, 3)["U"](value)
    message = "Value nested deeper than 2 levels - at `$.A.u.A.u`"
    for run in (lambda v: vm.run(program, "U", v, 2), specialize.specialize(program, 2)["U"]):
        with pytest.raises(fsf.ValidationError) as err:
            run(value)
        assert str(err.value) == message

