"""The codec's execution paths agree: native, pure Python and reference (reader, canonical writer, validator)
give the same bytes, values, errors, codes, offsets and messages on every input.

``test_codec.py`` and ``test_codec_hostile.py`` run every one of their cases through every path as well; this
module adds direct differential properties, the non-strict ``canonical=False`` mode, the ``FSF_NO_NATIVE``
switch, the guard that makes a fast path that stops serving fail loudly, and the light ``import fsf`` (no
msgspec).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.codegen import objects
from fsf.errors import Refused
from fsf.fsv import codec, native, pure
from tests.fsv.test_codec_hostile import HOSTILE_SCHEMA, _mutate
from tests.fsv.test_codec_objects import _near_miss
from tests.support.codec_paths import FallbackError, strict
from tests.support.generated import generated_module
from tests.support.strategies import near_misses, schema_texts, values

ROOT = Path(__file__).resolve().parents[2]
FORGE_PLAN = ROOT / "shapes" / "forge-plan.fsf"


def _encode_outcome(s: fsf.Schema, name: str, value: Any, path: str) -> tuple[str, Any]:
    try:
        return "ok", codec.encode(s, name, value, path=path)
    except fsf.ValidationError as err:
        return "invalid", (err.message, err.path)


def _decode_outcome(s: fsf.Schema, data: bytes, name: str | None, path: str, canonical: bool = True
                    ) -> tuple[str, Any]:
    try:
        return "ok", codec.decode(s, data, name, path=path, canonical=canonical)
    except fsf.DecodeError as err:
        return "rejected", (err.code, err.offset, str(err))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_paths_agree_on_values_and_near_misses(data: st.DataObject) -> None:
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = data.draw(values(s.ir, "Root"), label="value")
    candidate = data.draw(st.one_of(st.just(value), near_misses(value)), label="candidate")
    outcomes = {p: _encode_outcome(s, "Root", candidate, p) for p in codec.PATHS}
    assert len({repr(o) for o in outcomes.values()}) == 1, outcomes
    verdict, result = outcomes["reference"]
    try:
        s.validate("Root", candidate, engine="vm")
        assert verdict == "ok"
    except fsf.ValidationError as err:
        assert result == (err.message, err.path)
    if verdict == "ok":
        decoded = {p: _decode_outcome(s, result, None, p) for p in codec.PATHS}
        assert len({repr(o) for o in decoded.values()}) == 1, decoded
        assert decoded["reference"][0] == "ok"


def _objects_outcome(s: fsf.Schema, obj: Any, path: str) -> tuple[str, Any]:
    try:
        return "ok", s.using(path).encode("Root", obj)
    except fsf.ValidationError as err:
        return "invalid", (err.message, err.path)
    except AttributeError as err:  # an attribute the object lacks: the conversion's own error, on every path
        return "attribute", str(err)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_paths_agree_on_objects_and_their_near_misses(data: st.DataObject) -> None:
    # Objects of the generated classes: the native encoder reads them itself, the other paths convert them first.
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = s.decode(s.encode("Root", data.draw(values(s.ir, "Root"), label="value")))
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    with generated_module(s, "gen_paths_objects") as mod:
        for attempt in range(4):
            obj = objects._From(s.object_plan, mod).convert(ir.Named("Root"), value)
            if attempt:
                _near_miss(rng, obj, mod, s)
            outcomes = {p: _objects_outcome(s, obj, p) for p in codec.PATHS}
            assert len({repr(o) for o in outcomes.values()}) == 1, outcomes
            if not attempt:  # as it is: every path writes the dict form's bytes, the native one without falling back
                assert outcomes["reference"] == ("ok", s.encode("Root", value))
                if "native" in codec.DEFAULT_PATHS:
                    assert strict(s.using("native")).encode("Root", obj) == s.encode("Root", value)


@pytest.mark.parametrize("path", ["native", "pure"])
@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_validate_agrees_with_the_vm_on_every_path(path: str, data: st.DataObject) -> None:
    # Schema.validate asks the fast path first (the native encoder, or the UTF-8-proving pure checker).
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = data.draw(values(s.ir, "Root"), label="value")
    candidate = data.draw(st.one_of(st.just(value), near_misses(value)), label="candidate")
    expected: tuple[str, ...] = ("ok",)
    try:
        s.validate("Root", candidate, engine="vm")
    except fsf.ValidationError as err:
        expected = (err.message, err.path)
    try:
        s.using(path).validate("Root", candidate)
        got: tuple[str, ...] = ("ok",)
    except fsf.ValidationError as err:
        got = (err.message, err.path)
    assert got == expected


@pytest.mark.parametrize("path", ["native", "pure"])
def test_validate_words_a_lone_surrogate_like_the_vm(path: str) -> None:
    s = fsf.load_schema(FORGE_PLAN).using(path)
    value = {"sessionId": "s", "title": "t", "batches": [], "tasks": [
        {"id": "T1", "title": "é", "status": "x", "category": "y", "dependsOn": [], "files": ["a\udc80"],
         "description": ""}]}
    with pytest.raises(fsf.ValidationError) as info:
        s.validate("ForgePlan", value)
    assert str(info.value) == ("Expected `str` encodable as UTF-8, got a lone surrogate at index 1"
                               " - at `$.tasks[0].files[0]`")
    with pytest.raises(fsf.ValidationError) as again:
        s.encode("ForgePlan", value)
    assert str(again.value) == str(info.value)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_paths_agree_on_mutated_bytes(data: st.DataObject) -> None:
    s = fsf.compile_source(data.draw(schema_texts(), label="schema"))
    value = data.draw(values(s.ir, "Root"), label="value")
    encoded = s.encode("Root", value)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    mutated = _mutate(random.Random(seed), encoded)
    outcomes = {p: _decode_outcome(s, mutated, "Root", p) for p in codec.PATHS}
    assert len({repr(o) for o in outcomes.values()}) == 1, outcomes


# ---------------------------------------------------------------------------------------------------------------
# One Codec: paths tried in order, only Refused caught, no path twice, the guard


def test_a_codec_runs_its_paths_in_order_and_the_reference_decides() -> None:
    s = fsf.compile_source(HOSTILE_SCHEMA)
    assert s.codec.paths == codec.DEFAULT_PATHS
    assert s.codec is s.codec  # built once
    assert s.codec.with_paths("pure").paths == ("pure", "reference")
    assert s.codec.with_paths("pure") is s.codec.with_paths("pure", "reference")  # shared, built once
    assert s.using("reference").codec.paths == ("reference",)
    with pytest.raises(fsf.UsageError):
        s.codec.with_paths("reference", "pure")
    with pytest.raises(fsf.UsageError):
        s.codec.with_paths("accel")


def test_an_invalid_encode_runs_each_path_once(monkeypatch: pytest.MonkeyPatch) -> None:
    s = fsf.compile_source("shape T { v: u8 }")
    fell: list[tuple[str, str]] = []
    logged = s.using(*codec.DEFAULT_PATHS, on_fallback=lambda path, op: fell.append((path, op)))
    with pytest.raises(fsf.ValidationError) as info:
        logged.encode("T", {"v": 300})
    assert str(info.value) == "Expected `u8` in 0..255, got 300 - at `$.v`"
    assert fell == [(p, "encode") for p in codec.DEFAULT_PATHS if p != "reference"]
    fell.clear()
    data = codec.pack_header(s.id_bytes("T")) + bytes.fromhex("91 cd 01 2c")
    with pytest.raises(fsf.DecodeError):
        logged.decode(data)
    # A decode the native path refuses goes straight to the reference reader.
    assert fell == [(codec.DEFAULT_PATHS[0], "decode")]


@pytest.mark.parametrize("path", ["native", "pure"])
def test_the_guard_fails_loudly_when_a_fast_path_stops_serving(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if path not in codec.DEFAULT_PATHS:
        pytest.skip("the native codec is not built, or FSF_NO_NATIVE=1")
    s = fsf.compile_source("shape T { v: u8 }")
    value = {"v": 7}
    data = s.encode("T", value)
    guarded = strict(s.using(path))
    assert guarded.decode(data) == value and guarded.encode("T", value) == data  # it serves: no fallback

    def refuse(*args: object) -> None:
        raise Refused

    if path == "pure":  # break the pure path: it refuses everything
        monkeypatch.setattr(pure.Pure, "decode", refuse)
        monkeypatch.setattr(pure.Pure, "encode", refuse)
    else:  # break the native path: its program refuses everything
        monkeypatch.setattr(native, "codec", lambda schema: _Refusing())
    s = fsf.compile_source("shape T { v: u8 }")
    guarded = strict(s.using(path))
    # Unguarded, a broken fast path is invisible: the reference path serves the same value and bytes ...
    assert s.using(path).decode(data) == value and s.using(path).encode("T", value) == data
    # ... guarded, it fails loudly.
    with pytest.raises(FallbackError, match=f"the {path} path refused during decode"):
        guarded.decode(data)
    with pytest.raises(FallbackError, match=f"the {path} path refused during encode"):
        guarded.encode("T", value)


class _Refusing:
    """A native program that refuses everything."""

    def decode(self, *args: object) -> None:
        raise Refused

    encode = check = decode


# ---------------------------------------------------------------------------------------------------------------
# canonical=False


@pytest.mark.parametrize("path", codec.PATHS)
def test_non_canonical_mode_validates_everything_but_the_spelling(path: str) -> None:
    s = fsf.compile_source(HOSTILE_SCHEMA)
    head = codec.pack_header(s.id_bytes("U8"))
    assert codec.decode(s, head + bytes.fromhex("91 05"), path=path, canonical=False) == {"v": 5}
    # A wider head than needed: refused when strict; when not, accepted or refused as non_canonical.
    wide = head + bytes.fromhex("91 cc 05")
    assert _decode_outcome(s, wide, None, path)[1][0] == "non_canonical"
    lenient = _decode_outcome(s, wide, None, path, canonical=False)
    assert lenient in (("ok", {"v": 5}), _decode_outcome(s, wide, None, path))
    # Everything else is still checked, with the same codes.
    for payload, code in (("91 cd 01 00", "bounds"), ("91 c3", "type"), ("92 01 02", "arity"), ("91 cd 01", "truncated"),
                          ("91 01 00", "trailing_bytes")):
        assert _decode_outcome(s, head + bytes.fromhex(payload), None, path, canonical=False)[1][0] == code


def test_schema_decode_takes_canonical() -> None:
    s = fsf.load_schema(FORGE_PLAN)
    value = {"sessionId": "s", "title": "t", "tasks": [], "batches": []}
    data = s.encode("ForgePlan", value)
    assert s.decode(data, canonical=False) == s.decode(data) == value


# ---------------------------------------------------------------------------------------------------------------
# The switch and the import


def _run(code: str, **env: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, **env}).stdout.strip()


def test_switches_select_the_path() -> None:
    code = "from fsf.fsv import native, codec; print(native.AVAILABLE, codec.DEFAULT_PATHS)"
    assert _run(code, FSF_NO_NATIVE="1") == "False ('pure', 'reference')"
    if native.AVAILABLE:
        assert _run(code, FSF_NO_NATIVE="0") == "True ('native', 'pure', 'reference')"


@pytest.mark.parametrize("no_native", ["0", "1"])
def test_decode_and_encode_do_not_import_msgspec(no_native: str) -> None:
    code = ("import sys, fsf; s = fsf.load_schema(sys.argv[1]); "
            "v = {'sessionId': 's', 'title': 't', 'tasks': [], 'batches': []}; "
            "assert s.decode(s.encode('ForgePlan', v)) == v; s.validate('ForgePlan', v); "
            "assert s.verify(s.encode('ForgePlan', v)) == 'ForgePlan'; "
            "assert 'msgspec' not in sys.modules, 'msgspec imported'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code, str(FORGE_PLAN)], capture_output=True, text=True, check=True,
                         env={**os.environ, "FSF_NO_NATIVE": no_native})
    assert out.stdout.strip() == "ok"


def test_import_fsf_and_loading_a_fsb_stay_light(tmp_path: Path) -> None:
    fsb = tmp_path / "plan.fsb"
    subprocess.run([sys.executable, "-c", "from fsf.cli.fsf_tool import main; main()", "compile", str(FORGE_PLAN), "-o",
                    str(fsb)], capture_output=True, check=True)
    code = ("import sys, fsf; s = fsf.load_schema(sys.argv[1]); "
            "print(sorted(m for m in ('lark', 'jinja2', 'typer', 'msgspec') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(fsb)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    # The lazy names still resolve.
    assert _run("import fsf; print(fsf.content_id(b'')[:7], fsf.render_markdown.__name__, fsf.ViewError.__name__)") \
        == "blake3: render_markdown ViewError"
