"""Read-time resolution by the rules of ``docs/evolution.md``: every rule of its tables in both directions (a new
reader reading old values, an old reader reading new values), on every codec path, then the API around it
(``Schema.read``, ``decode(store=, exact=)``, ``verify``, ``render_markdown``, ``into=``) and the ``fsv`` commands.

The writer's schema always comes from a store (``fsf.init_store`` + ``add_schema``): the value is encoded with the
writer's compiled schema, and decoded with the reader's, which finds the writer's closure in the store by the id
the value carries. Annotations are added at the IR level (:func:`tests.support.evolve.annotate`), so nothing here
depends on their FSF syntax.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from typer.testing import CliRunner

import fsf
from fsf import ir
from fsf.cli.fsv_tool import app as fsv_app
from fsf.errors import IncompatibleError, Source, Span
from fsf.evolve.plan import MapStep, ShapeStep, build
from fsf.fsv.header import HEADER_SIZE
from fsf.schema import Read, Schema
from fsf.store import Store, locate_store
from tests.support.codec_paths import CodecPath
from tests.support.evolve import Notes, OnPath, annotate, container_keeps_annotations, same
from tests.support.generated import generated_module

STORE_KEEPS_ANNOTATIONS = container_keeps_annotations()
_NO_STORED_ANNOTATIONS = "the `.fsb` container (so the store) does not keep annotations: a writer's `@was` is lost"
REF = "blake3:" + "ab" * 32


@attrs.frozen
class Refuse:
    """The expected refusal: an :class:`fsf.errors.IncompatibleError` with ``rule`` at value path ``path``."""

    rule: str
    path: str = "$"


@attrs.frozen
class Case:
    """One change: the old and the new schema (with annotations by item path), old values with what the new
    reader reads them as (``forward``), new values with what the old reader reads them as (``backward``)."""

    id: str
    old: str
    new: str
    forward: tuple[tuple[Any, Any], ...]
    backward: tuple[tuple[Any, Any], ...]
    old_notes: Notes = attrs.field(factory=dict)
    new_notes: Notes = attrs.field(factory=dict)
    old_root: str = "T"
    new_root: str = "T"
    backward_needs_writer_notes: bool = False
    """The old reader reads new values by the new schema's annotations, which it finds in the store."""


LEVEL = "enum Level { low, high }\n"
LEVEL3 = "enum Level { low, mid, high }\n"
LEVELS = "shape T { l: Level, ls: arr[0..5]<Level>, m: map[0..3]<Level, u8> }\n"
EV = "union Ev { Start { at: u8 }, Stop }\nshape T { e: Ev, es: arr[0..3]<Ev> }\n"
EV3 = "union Ev { Start { at: u8 }, Stop, Pause { why: str } }\nshape T { e: Ev, es: arr[0..3]<Ev> }\n"


def levels(one: str, ls: list[str], m: dict[str, int]) -> dict[str, Any]:
    return {"l": one, "ls": ls, "m": m}


def evs(e: dict[str, Any], *es: dict[str, Any]) -> dict[str, Any]:
    return {"e": e, "es": list(es)}


START: dict[str, Any] = {"Start": {"at": 1}}
STOP: dict[str, Any] = {"Stop": {}}
PAUSE: dict[str, Any] = {"Pause": {"why": "x"}}
DEFAULTS_NEW = (LEVEL + "shape T { id: str, n: i32, s: str[0..9], f: f64, g: f64, b: bool, l: Level, "
                "xs: arr[0..3]<u8>, m: map[0..2]<str, u8>, o: u8? }")
DEFAULTS = {"T.n": {"default": "-3"}, "T.s": {"default": '"a\\"b"'}, "T.f": {"default": "1.5"},
            "T.g": {"default": "2"}, "T.b": {"default": "true"}, "T.l": {"default": "high"},
            "T.xs": {"default": "[]"}, "T.m": {"default": "{}"}, "T.o": {"default": "7"}}

CASES = [
    # -- shape fields ------------------------------------------------------------------------------------------
    Case("add an optional field", "shape T { id: str }", "shape T { id: str, note: str? }",
         forward=(({"id": "a"}, {"id": "a", "note": None}),),
         backward=(({"id": "a", "note": "x"}, {"id": "a"}), ({"id": "a", "note": None}, {"id": "a"}))),
    Case("add fields with a default", LEVEL + "shape T { id: str }", DEFAULTS_NEW, new_notes=DEFAULTS,
         forward=(({"id": "a"}, {"id": "a", "n": -3, "s": 'a"b', "f": 1.5, "g": 2.0, "b": True, "l": "high",
                                 "xs": [], "m": {}, "o": 7}),),
         backward=(({"id": "a", "n": 1, "s": "", "f": 0.0, "g": -1.0, "b": False, "l": "low", "xs": [1],
                     "m": {"k": 1}, "o": None}, {"id": "a"}),)),
    Case("add a required field without a default", "shape T { id: str }", "shape T { id: str, n: u8 }",
         forward=(({"id": "a"}, Refuse("FIELD_ADDED_REQUIRED")),),
         backward=(({"id": "a", "n": 1}, {"id": "a"}),)),
    Case("remove fields that were optional or had a default", "shape T { id: str, maybe: u8?, dflt: u8 }",
         "shape T { id: str }", old_notes={"T.dflt": {"default": "5"}},
         forward=(({"id": "a", "maybe": 1, "dflt": 2}, {"id": "a"}),),
         backward=(({"id": "a"}, {"id": "a", "maybe": None, "dflt": 5}),)),
    Case("remove a required field", "shape T { id: str, gone: u8 }", "shape T { id: str }",
         forward=(({"id": "a", "gone": 1}, {"id": "a"}),),
         backward=(({"id": "a"}, Refuse("FIELD_ADDED_REQUIRED")),)),
    Case("rename a field with @was", "shape T { owner: str, n: u8 }", "shape T { n: u8, lead: str }",
         new_notes={"T.lead": {"was": "owner"}}, backward_needs_writer_notes=True,
         forward=(({"owner": "x", "n": 1}, {"n": 1, "lead": "x"}),),
         backward=(({"n": 1, "lead": "x"}, {"owner": "x", "n": 1}),)),
    Case("rename a field twice with @was", "shape T { owner: str }", "shape T { chief: str }",
         new_notes={"T.chief": {"was": ("owner", "lead")}}, backward_needs_writer_notes=True,
         forward=(({"owner": "x"}, {"chief": "x"}),), backward=(({"chief": "x"}, {"owner": "x"}),)),
    Case("rename a field without @was to an optional one", "shape T { owner: str }", "shape T { lead: str? }",
         forward=(({"owner": "x"}, {"lead": None}),), backward=(({"lead": "x"}, Refuse("FIELD_ADDED_REQUIRED")),)),
    Case("names match exactly before @was", "shape T { a: u8, b: u8 }", "shape T { a: u8, c: u8? }",
         new_notes={"T.c": {"was": "a"}},
         forward=(({"a": 1, "b": 2}, {"a": 1, "c": None}),), backward=(({"a": 1, "c": 3}, Refuse(
             "FIELD_ADDED_REQUIRED")),)),
    Case("reorder fields", "shape T { a: u8, b: str, c: bool }", "shape T { c: bool, a: u8, b: str }",
         forward=(({"a": 1, "b": "x", "c": True}, {"c": True, "a": 1, "b": "x"}),),
         backward=(({"c": False, "a": 2, "b": ""}, {"a": 2, "b": "", "c": False}),)),
    Case("make a field optional", "shape T { n: u8, xs: arr[0..3]<u8> }", "shape T { n: u8?, xs: arr[0..3]<u8?> }",
         forward=(({"n": 3, "xs": [1, 2]}, {"n": 3, "xs": [1, 2]}),),
         backward=(({"n": 3, "xs": [1]}, {"n": 3, "xs": [1]}),
                   ({"n": None, "xs": []}, Refuse("FIELD_OPTIONAL_TO_REQUIRED", "$.n")),
                   ({"n": 1, "xs": [1, None]}, Refuse("FIELD_OPTIONAL_TO_REQUIRED", "$.xs[1]")))),
    Case("make a field required", "shape Task { n: u8? }\nshape T { tasks: arr[0..9]<Task> }",
         "shape Task { n: u8 }\nshape T { tasks: arr[0..9]<Task> }",
         forward=(({"tasks": [{"n": 1}, {"n": 2}]}, {"tasks": [{"n": 1}, {"n": 2}]}),
                  ({"tasks": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": None}]},
                   Refuse("FIELD_OPTIONAL_TO_REQUIRED", "$.tasks[3].n"))),
         backward=(({"tasks": [{"n": 1}]}, {"tasks": [{"n": 1}]}),)),
    Case("make a field required with a default", "shape T { n: u8?, l: Level? }\n" + LEVEL,
         "shape T { n: u8, l: Level }\n" + LEVEL, new_notes={"T.n": {"default": "9"}, "T.l": {"default": "low"}},
         forward=(({"n": None, "l": None}, {"n": 9, "l": "low"}), ({"n": 3, "l": "high"}, {"n": 3, "l": "high"})),
         backward=(({"n": 3, "l": "high"}, {"n": 3, "l": "high"}),)),
    Case("an optional map value made required", "shape T { m: map[0..3]<str, u8?> }",
         "shape T { m: map[0..3]<str, u8> }",
         forward=(({"m": {"a": 1}}, {"m": {"a": 1}}), ({"m": {"a": 1, "b": None}},
                                                     Refuse("FIELD_OPTIONAL_TO_REQUIRED", '$.m["b"]'))),
         backward=(({"m": {"a": 1}}, {"m": {"a": 1}}),)),
    # -- enum members ------------------------------------------------------------------------------------------
    Case("add an enum member", LEVEL + LEVELS, LEVEL3 + LEVELS,
         forward=((levels("high", ["low", "high"], {"low": 1}), levels("high", ["low", "high"], {"low": 1})),),
         backward=((levels("low", ["high"], {"high": 2}), levels("low", ["high"], {"high": 2})),
                   (levels("mid", [], {}), Refuse("ENUM_MEMBER_REMOVED_NO_FALLBACK", "$.l")),
                   (levels("low", ["low", "high", "mid"], {}), Refuse("ENUM_MEMBER_REMOVED_NO_FALLBACK", "$.ls[2]")),
                   (levels("low", [], {"mid": 1}), Refuse("ENUM_MEMBER_REMOVED_NO_FALLBACK", '$.m["mid"]')))),
    Case("add an enum member, the old reader has a fallback", LEVEL + LEVELS, LEVEL3 + LEVELS,
         old_notes={"Level.low": {"fallback": True}},
         forward=((levels("high", [], {}), levels("high", [], {})),),
         backward=((levels("mid", ["mid", "high"], {"mid": 1}), levels("low", ["low", "high"], {"low": 1})),
                   (levels("low", [], {"low": 1, "mid": 2}), Refuse("MAP_KEYS_MERGE", "$.m")))),
    Case("remove an enum member", LEVEL3 + LEVELS, LEVEL + LEVELS,
         forward=((levels("low", ["high"], {"high": 2}), levels("low", ["high"], {"high": 2})),
                  (levels("high", ["mid"], {}), Refuse("ENUM_MEMBER_REMOVED_NO_FALLBACK", "$.ls[0]"))),
         backward=((levels("high", ["low"], {}), levels("high", ["low"], {})),)),
    Case("remove an enum member, the new reader has a fallback", LEVEL3 + LEVELS, LEVEL + LEVELS,
         new_notes={"Level.high": {"fallback": True}},
         forward=((levels("mid", ["low", "mid"], {"mid": 3}), levels("high", ["low", "high"], {"high": 3})),
                  (levels("low", [], {"low": 1, "mid": 2}), levels("low", [], {"low": 1, "high": 2})),
                  (levels("low", [], {"mid": 2, "high": 1}), Refuse("MAP_KEYS_MERGE", "$.m"))),
         backward=((levels("high", [], {}), levels("high", [], {})),)),
    Case("rename an enum member with @was", LEVEL3 + LEVELS, "enum Level { low, medium, high }\n" + LEVELS,
         new_notes={"Level.medium": {"was": "mid"}}, backward_needs_writer_notes=True,
         forward=((levels("mid", ["mid", "low"], {"mid": 1}), levels("medium", ["medium", "low"], {"medium": 1})),),
         backward=((levels("medium", ["high"], {"low": 1, "medium": 2}), levels("mid", ["high"], {"low": 1,
                                                                                                "mid": 2})),)),
    Case("an enum none of whose members the reader has", "enum Level { a, b }\nshape T { l: Level }",
         "enum Level { c }\nshape T { l: Level }",
         forward=(({"l": "a"}, Refuse("ENUM_MEMBER_REMOVED_NO_FALLBACK")),),
         backward=(({"l": "c"}, Refuse("ENUM_MEMBER_REMOVED_NO_FALLBACK")),)),
    Case("an enum none of whose members the reader has, held by an optional",
         "enum Level { a, b }\nshape T { l: Level? }", "enum Level { c }\nshape T { l: Level? }",
         forward=(({"l": None}, {"l": None}), ({"l": "b"}, Refuse("ENUM_MEMBER_REMOVED_NO_FALLBACK", "$.l"))),
         backward=(({"l": None}, {"l": None}),)),
    # -- union variants ----------------------------------------------------------------------------------------
    Case("add a union variant", EV, EV3,
         forward=((evs(START, STOP), evs(START, STOP)),),
         backward=((evs(STOP, START), evs(STOP, START)),
                   (evs(PAUSE), Refuse("VARIANT_REMOVED_NO_FALLBACK", "$.e")),
                   (evs(STOP, START, PAUSE), Refuse("VARIANT_REMOVED_NO_FALLBACK", "$.es[1]")))),
    Case("add a union variant, the old reader has a fallback", EV, EV3, old_notes={"Ev.Stop": {"fallback": True}},
         forward=((evs(STOP), evs(STOP)),),
         backward=((evs(PAUSE, START, {"Pause": {"why": ""}}), evs(STOP, START, STOP)),)),
    Case("remove a union variant", EV3, EV,
         forward=((evs(START, STOP), evs(START, STOP)), (evs(STOP, PAUSE), Refuse("VARIANT_REMOVED_NO_FALLBACK",
                                                                                  "$.es[0]"))),
         backward=((evs(STOP), evs(STOP)),)),
    Case("remove a union variant, the new reader has a fallback", EV3, EV, new_notes={"Ev.Stop": {"fallback": True}},
         forward=((evs(PAUSE, PAUSE, START), evs(STOP, STOP, START)),),
         backward=((evs(START), evs(START)),)),
    Case("rename a union variant with @was", EV, EV.replace("Start", "Begin", 1),
         new_notes={"Ev.Begin": {"was": "Start"}}, backward_needs_writer_notes=True,
         forward=((evs(START, STOP, START), evs({"Begin": {"at": 1}}, STOP, {"Begin": {"at": 1}})),),
         backward=((evs({"Begin": {"at": 7}}), evs({"Start": {"at": 7}})),)),
    Case("a variant's fields resolve as a shape's", "union Ev { Start { at: u8 }, Stop }\nshape T { e: Ev }",
         "union Ev { Start { at: u8[0..9], by: str?, n: u16 }, Stop }\nshape T { e: Ev }",
         new_notes={"Ev.Start.n": {"default": "4"}},
         forward=(({"e": START}, {"e": {"Start": {"at": 1, "by": None, "n": 4}}}), ({"e": STOP}, {"e": STOP}),
                  ({"e": {"Start": {"at": 50}}}, Refuse("RANGE_NARROWED", "$.e.Start.at"))),
         backward=(({"e": {"Start": {"at": 1, "by": "x", "n": 9}}}, {"e": START}),)),
    Case("a variant gains a required field", "union Ev { Start { at: u8 }, Stop }\nshape T { e: Ev }",
         "union Ev { Start { at: u8, by: str }, Stop }\nshape T { e: Ev }",
         forward=(({"e": STOP}, {"e": STOP}), ({"e": START}, Refuse("FIELD_ADDED_REQUIRED", "$.e.Start.by"))),
         backward=(({"e": {"Start": {"at": 1, "by": "x"}}}, {"e": START}),)),
    Case("every variant of a union is gone", "union Ev { A, B { x: u8 } }\nshape T { e: Ev }",
         "union Ev { C }\nshape T { e: Ev }",
         forward=(({"e": {"A": {}}}, Refuse("VARIANT_REMOVED_NO_FALLBACK")),),
         backward=(({"e": {"C": {}}}, Refuse("VARIANT_REMOVED_NO_FALLBACK")),)),
    Case("every variant of a union fails, each its own way", "union Ev { A { x: u8 }, B { y: str } }\n"
         "shape T { e: Ev }", "union Ev { A { x: u8, z: u8 }, B { y: bool } }\nshape T { e: Ev }",
         forward=(({"e": {"A": {"x": 1}}}, Refuse("FIELD_ADDED_REQUIRED", "$.e.A.z")),
                  ({"e": {"B": {"y": "s"}}}, Refuse("TYPE_CHANGED", "$.e.B.y"))),
         backward=(({"e": {"A": {"x": 1, "z": 2}}}, {"e": {"A": {"x": 1}}}),
                   ({"e": {"B": {"y": True}}}, Refuse("TYPE_CHANGED", "$.e.B.y")))),
    Case("every variant of a union holds a type that fails", "shape Task { n: u8 }\n"
         "union Ev { A { t: Task }, B { x: u8, t: Task } }\nshape T { e: Ev }",
         "shape Task { n: u8, m: u8 }\nunion Ev { A { t: Task }, B { x: u8, t: Task } }\nshape T { e: Ev }",
         forward=(({"e": {"A": {"t": {"n": 1}}}}, Refuse("FIELD_ADDED_REQUIRED")),),
         backward=(({"e": {"B": {"x": 1, "t": {"n": 1, "m": 2}}}}, {"e": {"B": {"x": 1, "t": {"n": 1}}}}),)),
    # -- numbers -----------------------------------------------------------------------------------------------
    Case("widen and narrow integers", "shape T { a: u8, b: i32, c: u32, k: i64 }",
         "shape T { a: u16, b: i64, c: i64, k: u64 }",
         forward=(({"a": 255, "b": -5, "c": 4294967295, "k": 7}, {"a": 255, "b": -5, "c": 4294967295, "k": 7}),
                  ({"a": 0, "b": 0, "c": 0, "k": -1}, Refuse("RANGE_NARROWED", "$.k"))),
         backward=(({"a": 255, "b": 2**31 - 1, "c": 2**32 - 1, "k": 2**63 - 1},
                    {"a": 255, "b": 2**31 - 1, "c": 2**32 - 1, "k": 2**63 - 1}),
                   ({"a": 256, "b": 0, "c": 0, "k": 0}, Refuse("RANGE_NARROWED", "$.a")),
                   ({"a": 1, "b": -(2**31) - 1, "c": 0, "k": 0}, Refuse("RANGE_NARROWED", "$.b")),
                   ({"a": 1, "b": 0, "c": 2**32, "k": 0}, Refuse("RANGE_NARROWED", "$.c")),
                   ({"a": 1, "b": 0, "c": -1, "k": 0}, Refuse("RANGE_NARROWED", "$.c")),
                   ({"a": 1, "b": 0, "c": 0, "k": 2**63}, Refuse("RANGE_NARROWED", "$.k")))),
    Case("narrow an integer range", "shape T { n: u8[0..100] }", "shape T { n: u8[10..50] }",
         forward=(({"n": 20}, {"n": 20}), ({"n": 5}, Refuse("RANGE_NARROWED", "$.n")),
                  ({"n": 60}, Refuse("RANGE_NARROWED", "$.n"))),
         backward=(({"n": 50}, {"n": 50}), ({"n": 10}, {"n": 10}))),
    Case("f32 to f64", "shape T { d: f32 }", "shape T { d: f64 }",
         forward=(({"d": 0.5}, {"d": 0.5}), ({"d": 3.4028234663852886e38}, {"d": 3.4028234663852886e38}),
                  ({"d": 0.10000000149011612}, {"d": 0.10000000149011612})),
         backward=(({"d": 0.25}, {"d": 0.25}), ({"d": 0.1}, Refuse("PRECISION_LOST", "$.d")),
                   ({"d": 1e39}, Refuse("RANGE_NARROWED", "$.d")))),
    Case("narrow a float range", "shape T { x: f64 }", "shape T { x: f64[0..1] }",
         forward=(({"x": 0.5}, {"x": 0.5}), ({"x": 1.5}, Refuse("RANGE_NARROWED", "$.x")),
                  ({"x": -0.25}, Refuse("RANGE_NARROWED", "$.x"))),
         backward=(({"x": 1.0}, {"x": 1.0}),)),
    Case("an integer to a float", "shape T { e: u32, big: u64 }", "shape T { e: f64, big: f64 }",
         forward=(({"e": 7, "big": 2**60}, {"e": 7.0, "big": float(2**60)}),
                  ({"e": 2**32 - 1, "big": 2**53}, {"e": float(2**32 - 1), "big": float(2**53)}),
                  ({"e": 0, "big": 2**53 + 1}, Refuse("PRECISION_LOST", "$.big"))),
         backward=(({"e": 1.0, "big": 1.0}, Refuse("TYPE_CHANGED")),)),
    Case("an integer to an f32", "shape T { e: u32 }", "shape T { e: f32 }",
         forward=(({"e": 16777216}, {"e": 16777216.0}), ({"e": 16777217}, Refuse("PRECISION_LOST", "$.e"))),
         backward=(({"e": 1.0}, Refuse("TYPE_CHANGED")),)),
    Case("a float never reads as an integer, per value under an optional", "shape T { x: f64? }",
         "shape T { x: i64? }",
         forward=(({"x": None}, {"x": None}), ({"x": 1.0}, Refuse("TYPE_CHANGED", "$.x"))),
         backward=(({"x": None}, {"x": None}), ({"x": 1}, {"x": 1.0}))),
    # -- lengths and counts ------------------------------------------------------------------------------------
    Case("str and bytes lengths", "shape T { s: str[0..10], b: bytes[0..8] }",
         "shape T { s: str[2..3], b: bytes[0..2] }",
         forward=(({"s": "\u00e9\u00e9\u00e9", "b": b"ab"}, {"s": "\u00e9\u00e9\u00e9", "b": b"ab"}),
                  ({"s": "abcd", "b": b""}, Refuse("LENGTH_NARROWED", "$.s")),
                  ({"s": "a", "b": b""}, Refuse("LENGTH_NARROWED", "$.s")),
                  ({"s": "ab", "b": b"abc"}, Refuse("LENGTH_NARROWED", "$.b"))),
         backward=(({"s": "abc", "b": b"xy"}, {"s": "abc", "b": b"xy"}),)),
    Case("arr and map counts, items, keys and values", "shape T { xs: arr[0..9]<u16>, m: map[0..9]<str, u16> }",
         "shape T { xs: arr[1..3]<u8>, m: map[0..2]<str[0..2], u8> }",
         forward=(({"xs": [1], "m": {}}, {"xs": [1], "m": {}}),
                  ({"xs": [], "m": {}}, Refuse("COUNT_NARROWED", "$.xs")),
                  ({"xs": [1, 2, 3, 4], "m": {}}, Refuse("COUNT_NARROWED", "$.xs")),
                  ({"xs": [1, 300], "m": {}}, Refuse("RANGE_NARROWED", "$.xs[1]")),
                  ({"xs": [1], "m": {"a": 1, "b": 2, "c": 3}}, Refuse("COUNT_NARROWED", "$.m")),
                  ({"xs": [1], "m": {"a": 1, "b": 300}}, Refuse("RANGE_NARROWED", '$.m["b"]')),
                  ({"xs": [1], "m": {"abc": 1}}, Refuse("LENGTH_NARROWED", '$.m["abc"]'))),
         backward=(({"xs": [255, 1, 2], "m": {"ab": 1, "c": 2}}, {"xs": [255, 1, 2], "m": {"ab": 1, "c": 2}}),)),
    Case("a value path through arrays of shapes", "shape Task { n: u16 }\nshape T { tasks: arr[0..9]<Task> }",
         "shape Task { n: u8 }\nshape T { tasks: arr[0..9]<Task> }",
         forward=(({"tasks": [{"n": 1}, {"n": 255}]}, {"tasks": [{"n": 1}, {"n": 255}]}),
                  ({"tasks": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 300}, {"n": 400}]},
                   Refuse("RANGE_NARROWED", "$.tasks[3].n"))),
         backward=(({"tasks": [{"n": 3}]}, {"tasks": [{"n": 3}]}),)),
    # -- refs, bool, hash, time --------------------------------------------------------------------------------
    Case("ref to a renamed type with @was", "shape Doc { x: u8 }\nshape T { d: ref<Doc> }",
         "shape Paper { x: u8 }\nshape T { d: ref<Paper> }", new_notes={"Paper": {"was": "Doc"}},
         backward_needs_writer_notes=True,
         forward=(({"d": REF}, {"d": REF}),), backward=(({"d": REF}, {"d": REF}),)),
    Case("ref to another type", "shape Doc { x: u8 }\nshape T { d: ref<Doc> }",
         "shape Paper { x: u8 }\nshape T { d: ref<Paper> }",
         forward=(({"d": REF}, Refuse("TYPE_CHANGED")),), backward=(({"d": REF}, Refuse("TYPE_CHANGED")),)),
    Case("bool only to itself", "shape T { b: bool }", "shape T { b: u8 }",
         forward=(({"b": True}, Refuse("TYPE_CHANGED")),), backward=(({"b": 1}, Refuse("TYPE_CHANGED")),)),
    Case("time only to itself", "shape T { t: time, n: u8 }", "shape T { t: i64, n: u16 }",
         forward=(({"t": 5, "n": 1}, Refuse("TYPE_CHANGED")),),
         backward=(({"t": 5, "n": 1}, Refuse("TYPE_CHANGED")),)),
    Case("hash only to itself", "shape T { h: hash }", "shape T { h: bytes }",
         forward=(({"h": b"\x01" * 32}, Refuse("TYPE_CHANGED")),),
         backward=(({"h": b"\x01" * 32}, Refuse("TYPE_CHANGED")),)),
    Case("bool, hash and time to themselves", "shape T { b: bool, h: hash, t: time, n: u8 }",
         "shape T { b: bool, h: hash, t: time, n: u16 }",
         forward=(({"b": False, "h": b"\x02" * 32, "t": -1, "n": 1}, {"b": False, "h": b"\x02" * 32, "t": -1,
                                                                     "n": 1}),),
         backward=(({"b": True, "h": b"\x03" * 32, "t": 2**62, "n": 300}, Refuse("RANGE_NARROWED", "$.n")),)),
    # -- declarations ------------------------------------------------------------------------------------------
    Case("rename a type with @was", "shape Task { n: u8 }\nshape T { t: Task, ts: arr[0..2]<Task> }",
         "shape Job { n: u8, extra: str? }\nshape T { t: Job, ts: arr[0..2]<Job> }",
         new_notes={"Job": {"was": "Task"}}, backward_needs_writer_notes=True,
         forward=(({"t": {"n": 1}, "ts": [{"n": 2}]}, {"t": {"n": 1, "extra": None}, "ts": [{"n": 2, "extra": None}]}),),
         backward=(({"t": {"n": 1, "extra": "x"}, "ts": []}, {"t": {"n": 1}, "ts": []}),)),
    Case("rename a type without @was", "shape Task { n: u8 }\nshape T { t: Task }",
         "shape Job { n: u8 }\nshape T { t: Job }",
         forward=(({"t": {"n": 1}}, Refuse("TYPE_CHANGED")),), backward=(({"t": {"n": 1}}, Refuse("TYPE_CHANGED")),)),
    Case("rename the root type with @was", "shape Plan { n: u8 }", "shape Schedule { n: u8, note: str? }",
         new_notes={"Schedule": {"was": "Plan"}}, old_root="Plan", new_root="Schedule",
         backward_needs_writer_notes=True,
         forward=(({"n": 1}, {"n": 1, "note": None}),), backward=(({"n": 1, "note": "x"}, {"n": 1}),)),
    Case("a declaration of another kind", "shape L { x: u8 }\nshape T { l: L }", "enum L { x }\nshape T { l: L }",
         forward=(({"l": {"x": 1}}, Refuse("TYPE_CHANGED")),), backward=(({"l": "x"}, Refuse("TYPE_CHANGED")),)),
    Case("another kind of field", "shape T { n: str }", "shape T { n: u32 }",
         forward=(({"n": "1"}, Refuse("TYPE_CHANGED")),), backward=(({"n": 1}, Refuse("TYPE_CHANGED")),)),
    Case("another kind of field under an optional", "shape T { n: str? }", "shape T { n: u32? }",
         forward=(({"n": None}, {"n": None}), ({"n": "1"}, Refuse("TYPE_CHANGED", "$.n"))),
         backward=(({"n": None}, {"n": None}), ({"n": 1}, Refuse("TYPE_CHANGED", "$.n")))),
    Case("a required field added to a shape held by an optional and an array",
         "shape Sub { a: u8 }\nshape T { sub: Sub?, subs: arr[0..3]<Sub> }",
         "shape Sub { a: u8, b: u8 }\nshape T { sub: Sub?, subs: arr[0..3]<Sub> }",
         forward=(({"sub": None, "subs": []}, {"sub": None, "subs": []}),
                  ({"sub": {"a": 1}, "subs": []}, Refuse("FIELD_ADDED_REQUIRED", "$.sub.b")),
                  ({"sub": None, "subs": [{"a": 1}]}, Refuse("FIELD_ADDED_REQUIRED", "$.subs[0].b"))),
         backward=(({"sub": {"a": 1, "b": 2}, "subs": []}, {"sub": {"a": 1}, "subs": []}),)),
    Case("a required field added to a shape every value holds", "shape Sub { a: u8 }\nshape T { subs: arr[1..3]<Sub> }",
         "shape Sub { a: u8, b: u8 }\nshape T { subs: arr[1..3]<Sub> }",
         forward=(({"subs": [{"a": 1}]}, Refuse("FIELD_ADDED_REQUIRED")),),
         backward=(({"subs": [{"a": 1, "b": 2}]}, {"subs": [{"a": 1}]}),)),
    Case("a recursive type", "shape N { v: u16, kids: arr[0..3]<N>, next: N? }",
         "shape N { v: u8, kids: arr[0..3]<N>, next: N?, tag: str? }",
         forward=(({"v": 1, "kids": [{"v": 2, "kids": [], "next": None}], "next": {"v": 3, "kids": [], "next": None}},
                   {"v": 1, "kids": [{"v": 2, "kids": [], "next": None, "tag": None}],
                    "next": {"v": 3, "kids": [], "next": None, "tag": None}, "tag": None}),
                  ({"v": 1, "kids": [{"v": 2, "kids": [], "next": None},
                                     {"v": 2, "kids": [{"v": 300, "kids": [], "next": None}], "next": None}],
                    "next": None}, Refuse("RANGE_NARROWED", "$.kids[1].kids[0].v"))),
         backward=(({"v": 1, "kids": [], "next": {"v": 2, "kids": [], "next": None, "tag": "x"}, "tag": "y"},
                    {"v": 1, "kids": [], "next": {"v": 2, "kids": [], "next": None}}),),
         old_root="N", new_root="N"),
]

DIRECTIONS = ("old values", "old readers")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return fsf.init_store(tmp_path / "s")


def compiled(text: str, notes: Notes | None = None) -> Schema:
    return annotate(fsf.compile_source(text), notes or {})


def label(schema: Schema, name: str) -> str:
    return f"`{name}` {schema.id(name)}"


def check_read(reader: Schema, writer: Schema, wroot: str, rroot: str, on: Any, value: Any, want: Any) -> None:
    """Encode ``value`` as the writer's ``wroot``, read it with ``reader`` through the store ``on``: it reads as
    exactly ``want`` (a valid ``rroot`` value in the form decode gives), or is refused as ``want`` says."""
    data = writer.encode(wroot, value)
    if isinstance(want, Refuse):
        with pytest.raises(IncompatibleError) as caught:
            reader.read(data, store=on)
        err = caught.value
        assert (err.rule, err.path) == (want.rule, want.path), str(err)
        assert (err.code, err.offset) == ("incompatible", HEADER_SIZE)
        assert (err.writer, err.reader) == (label(writer, wroot), label(reader, rroot))
        assert str(err).startswith(f"cannot read {err.writer} as {err.reader}: {err.message} [{want.rule}] - at "
                                   f"`{want.path}`")
        return
    got = reader.read(data, store=on)
    assert (got.name, got.writer_id, got.resolved) == (rroot, writer.id(wroot), True)
    assert same(got.value, want), f"read {got.value!r}, expected {want!r}"
    assert same(reader.decode(reader.encode(rroot, got.value)), got.value), "not the form decode gives"


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule(case: Case, direction: str, codec_path: CodecPath, store: Store, request: pytest.FixtureRequest) -> None:
    old, new = compiled(case.old, case.old_notes), compiled(case.new, case.new_notes)
    store.add_schema(old)
    store.add_schema(new)
    old, new = codec_path.use(old), codec_path.use(new)
    on = OnPath(store, codec_path)
    if direction == "old values":
        writer, reader, wroot, rroot, pairs = old, new, case.old_root, case.new_root, case.forward
    else:
        writer, reader, wroot, rroot, pairs = new, old, case.new_root, case.old_root, case.backward
        if case.backward_needs_writer_notes and not STORE_KEEPS_ANNOTATIONS:
            request.applymarker(pytest.mark.xfail(reason=_NO_STORED_ANNOTATIONS, strict=True))
    assert pairs
    for value, want in pairs:
        check_read(reader, writer, wroot, rroot, on, value, want)


# -- messages, sites and locations --------------------------------------------------------------------------------


def test_a_plan_failure_is_at_the_root_with_its_whole_message(codec_path: CodecPath, store: Store) -> None:
    old, new = compiled("shape T { id: str }"), compiled("shape T { id: str, n: u8 }")
    store.add_schema(old)
    with pytest.raises(IncompatibleError) as caught:
        codec_path.use(new).decode(old.encode("T", {"id": "a"}), store=OnPath(store, codec_path))
    err = caught.value
    assert str(err) == (f"cannot read `T` {old.id('T')} as `T` {new.id('T')}: the reader's required field `n` of "
                        "`T` is not in the writer's type and has no `@default` [FIELD_ADDED_REQUIRED] - at `$` "
                        "(reader: <memory>:1:20)")
    assert (err.rule, err.path, err.site, err.location) == ("FIELD_ADDED_REQUIRED", "$", "T.n", "<memory>:1:20")
    assert isinstance(err, fsf.DecodeError) and err.code == "incompatible"


def test_a_value_failure_names_its_path_with_its_whole_message(codec_path: CodecPath, store: Store) -> None:
    old = compiled("shape Task { n: u16 }\nshape T { tasks: arr[0..9]<Task> }")
    new = compiled("shape Task { n: u8 }\nshape T { tasks: arr[0..9]<Task> }")
    store.add_schema(old)
    data = old.encode("T", {"tasks": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 300}]})
    with pytest.raises(IncompatibleError) as caught:
        codec_path.use(new).decode(data, store=OnPath(store, codec_path))
    assert str(caught.value) == (f"cannot read `T` {old.id('T')} as `T` {new.id('T')}: a number is outside the "
                                 "reader's range: 300 is not in ..255 [RANGE_NARROWED] - at `$.tasks[3].n` "
                                 "(reader: <memory>:1:14)")
    assert caught.value.site == "Task.n"


@pytest.mark.parametrize(("old_text", "new_text", "value", "message"), [
    (LEVEL3 + "shape T { l: Level }", LEVEL + "shape T { l: Level }", {"l": "mid"},
     "the reader's enum `Level` has no such member and no `@fallback`: member `mid` "
     "[ENUM_MEMBER_REMOVED_NO_FALLBACK] - at `$.l` (reader: <memory>:1:6)"),
    (EV3, EV, evs(STOP, PAUSE), "the reader's union `Ev` has no such variant and no `@fallback`: variant `Pause` "
                                "[VARIANT_REMOVED_NO_FALLBACK] - at `$.es[0]` (reader: <memory>:1:7)"),
    ("shape T { s: str }", "shape T { s: str[0..2] }", {"s": "abc"},
     "a string's length is outside the reader's bounds: length 3 is not in 0..2 [LENGTH_NARROWED] - at `$.s` (reader: <memory>:1:11)"),
    ("shape T { b: bytes[0..9] }", "shape T { b: bytes[4..9] }", {"b": b"abc"},
     "a byte string's length is outside the reader's bounds: length 3 is not in 4..9 [LENGTH_NARROWED] - at `$.b` (reader: <memory>:1:11)"),
    ("shape T { xs: arr[0..9]<u8> }", "shape T { xs: arr[0..2]<u8> }", {"xs": [1, 2, 3]},
     "an array's count is outside the reader's bounds: 3 item(s), not ..2 [COUNT_NARROWED] - at `$.xs` (reader: <memory>:1:11)"),
    ("shape T { m: map[0..9]<str, u8> }", "shape T { m: map[1..2]<str, u8> }", {"m": {}},
     "a map's count is outside the reader's bounds: 0 entries, not 1..2 [COUNT_NARROWED] - at `$.m` (reader: <memory>:1:11)"),
    ("shape T { x: f64 }", "shape T { x: f32 }", {"x": 0.1},
     "a number has no exact spelling in the reader's type: 0.1 is not exact as an `f32` [PRECISION_LOST] - at `$.x` (reader: <memory>:1:11)"),
    ("shape T { x: u64 }", "shape T { x: f64 }", {"x": 2**53 + 1},
     "a number has no exact spelling in the reader's type: 9007199254740993 is not exact as a binary64 "
     "[PRECISION_LOST] - at `$.x` (reader: <memory>:1:11)"),
    ("shape T { x: f64 }", "shape T { x: f64[0..1] }", {"x": 2.5},
     "a number is outside the reader's range: 2.5 is not in 0.0..1.0 [RANGE_NARROWED] - at `$.x` (reader: <memory>:1:11)"),
    ("shape T { x: u8? }", "shape T { x: u8 }", {"x": None},
     "`x` of `T` is required in the reader, and this value lacks it (no `@default`) [FIELD_OPTIONAL_TO_REQUIRED] "
     "- at `$.x` (reader: <memory>:1:11)"),
])
def test_every_value_failure_message(old_text: str, new_text: str, value: Any, message: str, store: Store) -> None:
    old, new = compiled(old_text), compiled(new_text)
    store.add_schema(old)
    with pytest.raises(IncompatibleError) as caught:
        new.decode(old.encode("T", value), store=store)
    assert str(caught.value) == f"cannot read `T` {old.id('T')} as `T` {new.id('T')}: {message}"


@pytest.mark.parametrize(("old_text", "new_text", "notes", "value", "rule", "path"), [
    ("shape T { owner: u16 }", "shape T { lead: u8 }", {"T.lead": {"was": "owner"}}, {"owner": 300},
     "RANGE_NARROWED", "$.lead"),
    ("union E { Start { at: u16 }, Stop }\nshape T { e: E }", "union E { Begin { at: u8 }, Stop }\nshape T { e: E }",
     {"E.Begin": {"was": "Start"}}, {"e": {"Start": {"at": 300}}}, "RANGE_NARROWED", "$.e.Begin.at"),
    (LEVEL3 + "shape T { m: map[0..3]<Level, u16> }", "enum Level { low, medium, high }\n"
     "shape T { m: map[0..3]<Level, u8> }", {"Level.medium": {"was": "mid"}}, {"m": {"low": 1, "mid": 300}},
     "RANGE_NARROWED", '$.m["medium"]'),
    ("shape T { m: map[0..3]<str, u16> }", "shape T { m: map[0..3]<str[0..2], u8> }", {}, {"m": {"abc": 300}},
     "LENGTH_NARROWED", '$.m["abc"]'),  # a key is read before its value
])
def test_paths_name_the_readers_items(old_text: str, new_text: str, notes: Notes, value: Any, rule: str, path: str,
                                      store: Store) -> None:
    old, new = compiled(old_text), compiled(new_text, notes)
    store.add_schema(old)
    with pytest.raises(IncompatibleError) as caught:
        new.decode(old.encode("T", value), store=store)
    assert (caught.value.rule, caught.value.path) == (rule, path)


def test_a_reader_loaded_from_source_quotes_where_it_was_written(store: Store) -> None:
    text = "shape T {\n  id: str,\n  n: u8,\n}\n"
    checked = fsf.compile_source(text, "new.fsf")
    shape = checked.ir["T"]
    assert isinstance(shape, ir.Shape)
    at = Span(Source("new.fsf", text), 3, 3)  # where the checker puts the field (set here, whether or not it does)
    new = Schema(ir.Schema((attrs.evolve(shape, fields=(shape.fields[0], attrs.evolve(shape.fields[1], span=at))),)))
    old = compiled("shape T { id: str }")
    store.add_schema(old)
    for reader, where in ((new, "new.fsf:3:3"), (checked, checked.locate("T", "n"))):
        with pytest.raises(IncompatibleError) as caught:
            reader.decode(old.encode("T", {"id": "a"}), store=store)
        assert caught.value.location == where
        suffix = f" (reader: {where})" if where else ""
        assert str(caught.value).endswith(f" [FIELD_ADDED_REQUIRED] - at `$`{suffix}")


def test_a_failure_in_a_variant_quotes_where_its_field_was_written(store: Store) -> None:
    old = compiled("union U { A { x: u16 }, B }\nshape T { u: U }")
    new = fsf.compile_source("union U {\n  A { x: u8, y: u8 },\n  B,\n}\nshape T { u: U }\n", "new.fsf")
    store.add_schema(old)
    for value, rule, path, where in (({"u": {"A": {"x": 1}}}, "FIELD_ADDED_REQUIRED", "$.u.A.y", "new.fsf:2:14"),
                                     ({"u": {"A": {"x": 300}}}, "RANGE_NARROWED", "$.u.A.x", "new.fsf:2:7")):
        with pytest.raises(IncompatibleError) as caught:
            new.decode(old.encode("T", value), store=store)
        err = caught.value
        assert (err.rule, err.path, err.location) == (rule, path, new.locate("U", path.removeprefix("$.u.")))
        assert err.location == where


def test_of_several_plan_failures_the_first_in_reading_order_is_reported(store: Store) -> None:
    old = compiled("shape T { a: u8, b: u8 }")
    store.add_schema(old)
    data = old.encode("T", {"a": 1, "b": 2})
    for text, rule, site in (("shape T { a: str, b: u8, c: u8 }", "TYPE_CHANGED", "T.a"),
                             ("shape T { c: u8, a: str }", "FIELD_ADDED_REQUIRED", "T.c"),
                             ("shape T { b: u8, a: bool }", "TYPE_CHANGED", "T.a")):
        with pytest.raises(IncompatibleError) as caught:
            compiled(text).decode(data, store=store)
        assert (caught.value.rule, caught.value.path, caught.value.site) == (rule, "$", site)


def test_the_root_type_missing(store: Store, tmp_path: Path) -> None:
    old, new = compiled("shape Plan { n: u8 }"), compiled("shape Schedule { n: u8 }")
    store.add_schema(old)
    data = old.encode("Plan", {"n": 1})
    with pytest.raises(IncompatibleError) as caught:
        new.decode(data, store=store)
    err = caught.value
    assert (err.rule, err.path, err.writer, err.reader) == ("ROOT_TYPE_MISSING", "$", label(old, "Plan"),
                                                            "this schema")
    assert (err.code, err.offset, err.site, err.location) == ("incompatible", HEADER_SIZE, "Plan", None)
    assert str(err) == (f"cannot read `Plan` {old.id('Plan')} as this schema: the reader has no type `Plan` (nor one "
                        "whose `@was` names it) [ROOT_TYPE_MISSING] - at `$`")
    path = tmp_path / "new.fsf"  # a reader loaded from a file is named by it (it has no type to label or locate)
    path.write_text("shape Schedule { n: u8 }\n", encoding="utf-8")
    with pytest.raises(IncompatibleError) as caught:
        fsf.load_schema(path).decode(data, store=store)
    assert caught.value.reader == f"the schema `{path}`"
    assert str(caught.value) == (f"cannot read `Plan` {old.id('Plan')} as the schema `{path}`: the reader has no "
                                 "type `Plan` (nor one whose `@was` names it) [ROOT_TYPE_MISSING] - at `$`")


def test_a_name_asked_for_is_the_reader_type(store: Store) -> None:
    old = compiled("shape Plan { n: u8 }")
    new = compiled("shape Plan { n: u8, z: u8? }\nshape Other { n: u16, x: str? }", {"Other": {"was": "Plan"}})
    store.add_schema(old)
    data = old.encode("Plan", {"n": 1})
    assert new.read(data, store=store) == Read({"n": 1, "z": None}, "Plan", old.id("Plan"), True)
    assert new.read(data, "Other", store=store) == Read({"n": 1, "x": None}, "Other", old.id("Plan"), True)
    with pytest.raises(fsf.UsageError):
        new.read(data, "Nope", store=store)


# -- the store, exact, no store ----------------------------------------------------------------------------------


def test_a_writer_missing_from_the_store_is_schema_unknown(codec_path: CodecPath, store: Store) -> None:
    old, new = compiled("shape T { id: str }"), codec_path.use(compiled("shape T { id: str, note: str? }"))
    data = old.encode("T", {"id": "a"})
    for call in (lambda: new.decode(data, store=store), lambda: new.verify(data, store=store),
                 lambda: fsf.render_markdown(new, data, store=store)):
        with pytest.raises(fsf.StoreError) as caught:
            call()
        assert caught.value.code == "schema_unknown"
        assert str(caught.value) == (f"the schema of type {old.id('T')} is not in the store {store.where}; add it "
                                     "with `fsf store add SCHEMA` (`fsf store import-history SCHEMA` for its "
                                     "versions in git) or give `-s SCHEMA` [schema_unknown]")


def test_exact_and_no_store_refuse_another_writer_type(codec_path: CodecPath, store: Store) -> None:
    old, new = compiled("shape T { id: str }"), codec_path.use(compiled("shape T { id: str, note: str? }"))
    store.add_schema(old)
    data = old.encode("T", {"id": "a"})
    message = f"the value's root type {old.id('T')} is not a type of this schema - at byte 5 [schema_mismatch]"
    for call in (lambda: new.decode(data, store=store, exact=True), lambda: new.decode(data),
                 lambda: new.read(data, exact=True), lambda: new.verify(data, store=store, exact=True),
                 lambda: new.verify(data), lambda: fsf.render_markdown(new, data, store=store, exact=True),
                 lambda: fsf.render_markdown(new, data)):
        with pytest.raises(fsf.DecodeError) as caught:
            call()
        assert (caught.value.code, str(caught.value)) == ("schema_mismatch", message)
    assert new.decode(data, store=store) == {"id": "a", "note": None}


def test_read_reports_the_writer_and_whether_it_resolved(codec_path: CodecPath, store: Store) -> None:
    old, new = compiled("shape T { id: str }"), codec_path.use(compiled("shape T { id: str, note: str? }"))
    store.add_schema(old)
    on = OnPath(store, codec_path)
    assert new.read(old.encode("T", {"id": "a"}), store=on) == Read({"id": "a", "note": None}, "T", old.id("T"), True)
    own = new.encode("T", {"id": "b", "note": "n"})
    assert new.read(own, store=on) == Read({"id": "b", "note": "n"}, "T", new.id("T"), False)
    assert new.read(own) == Read({"id": "b", "note": "n"}, "T", new.id("T"), False)


def test_a_change_of_docs_or_annotations_only_keeps_the_id_and_reads_directly(store: Store) -> None:
    plain = compiled("enum L { a, b }\nshape T { id: str, l: L, n: u8? }")
    documented = annotate(fsf.compile_source("/// Levels.\nenum L { a, /// B.\nb }\n/// A task.\nshape T {\n"
                                             "  /// Its key.\n  id: str, l: L, n: u8? }"),
                          {"T.n": {"default": "3", "deprecated": "gone soon"}, "L.a": {"fallback": True},
                           "T.id": {"was": "key"}, "T": {"was": "Task", "reserved": ("old",)}})
    assert documented.id("T") == plain.id("T") and documented.ir != plain.ir
    data = plain.encode("T", {"id": "x", "l": "b", "n": None})
    # The empty store does not hold the writer: nothing is looked up, nothing is resolved (no `@default` applied).
    assert documented.read(data, store=store) == Read({"id": "x", "l": "b", "n": None}, "T", plain.id("T"), False)
    assert documented.verify(data, store=store) == "T"


def test_the_plan_is_built_once_per_reader_and_writer(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import fsf.evolve

    built: list[str] = []
    real = fsf.evolve.resolver

    def counting(*args: Any) -> Any:
        built.append(args[1])
        return real(*args)

    monkeypatch.setattr(fsf.evolve, "resolver", counting)
    old, new = compiled("shape T { n: u16 }"), compiled("shape T { n: u8 }")
    store.add_schema(old)
    for n in (1, 2, 3):
        assert new.decode(old.encode("T", {"n": n}), store=store) == {"n": n}
    with pytest.raises(IncompatibleError):
        new.decode(old.encode("T", {"n": 300}), store=store)
    assert built == ["T"]


def test_a_list_default_is_a_new_list_each_time(store: Store) -> None:
    old = compiled("shape T { id: str }")
    new = compiled("shape T { id: str, xs: arr[0..3]<u8>, m: map[0..3]<str, u8> }",
                   {"T.xs": {"default": "[]"}, "T.m": {"default": "{}"}})
    store.add_schema(old)
    data = old.encode("T", {"id": "a"})
    first = new.decode(data, store=store)
    first["xs"].append(1)
    first["m"]["k"] = 1
    assert new.decode(data, store=store) == {"id": "a", "xs": [], "m": {}}


def test_a_failure_deep_in_a_recursive_value_is_found_in_linear_time(store: Store) -> None:
    old = compiled("shape N { v: u16, kids: arr[0..3]<N> }")
    new = compiled("shape N { v: u8, kids: arr[0..3]<N> }")
    store.add_schema(old)
    value: dict[str, Any] = {"v": 300, "kids": []}
    for _ in range(30):  # re-reading the failing subtree at every level on the way out would take 4^30 steps
        value = {"v": 1, "kids": [{"v": 2, "kids": []}, value]}
    data = old.encode("N", value)
    start = time.perf_counter()
    with pytest.raises(IncompatibleError) as caught:
        new.decode(data, store=store)
    assert time.perf_counter() - start < 2
    assert caught.value.path == "$" + ".kids[1]" * 30 + ".v"


# -- into=, verify, render ---------------------------------------------------------------------------------------


def test_into_a_generated_module_works_on_a_resolved_value(codec_path: CodecPath, store: Store) -> None:
    old = compiled(LEVEL3 + "shape Task { n: u16 }\nshape T { tasks: arr[0..3]<Task>, l: Level }")
    new = codec_path.use(compiled("enum Level { low, medium, high }\nshape Task { n: u32, note: str? }\n"
                                  "shape T { tasks: arr[0..3]<Task>, l: Level, extra: u8 }",
                                  {"Level.medium": {"was": "mid"}, "T.extra": {"default": "4"}}))
    store.add_schema(old)
    data = old.encode("T", {"tasks": [{"n": 7}], "l": "mid"})
    with generated_module(new, "gen_evolve") as mod:
        obj = new.decode(data, into=mod, store=OnPath(store, codec_path))
        assert obj == mod.T(tasks=[mod.Task(n=7, note=None)], l=mod.Level.medium, extra=4)
        assert new.decode(data, into=mod.T, store=store) == obj
        assert new.encode("T", obj) == new.encode("T", new.decode(data, store=store))


def test_verify_with_a_store_resolves(codec_path: CodecPath, store: Store) -> None:
    old = compiled("shape Doc { x: u8 }\nshape T { n: u16, d: ref<Doc>? }")
    new = codec_path.use(compiled("shape Doc { x: u8 }\nshape T { n: u8, d: ref<Doc>?, note: str? }"))
    store.add_schema(old)
    on = OnPath(store, codec_path)
    assert new.verify(old.encode("T", {"n": 1, "d": None}), store=on) == "T"
    with pytest.raises(IncompatibleError) as caught:
        new.verify(old.encode("T", {"n": 300, "d": None}), store=on)
    assert (caught.value.rule, caught.value.path) == ("RANGE_NARROWED", "$.n")
    with pytest.raises(fsf.StoreError) as dangling:  # references are checked too, through the writer's schema
        new.verify(old.encode("T", {"n": 1, "d": REF}), store=on)
    assert dangling.value.code == "dangling_ref"
    doc = store.put(old.encode("Doc", {"x": 1}), old)
    assert new.verify(old.encode("T", {"n": 1, "d": doc}), store=on) == "T"


def test_render_markdown_with_a_store_renders_the_resolved_value(codec_path: CodecPath, store: Store) -> None:
    old = compiled("shape T { id: str, n: u16 }")
    new = codec_path.use(compiled("shape T { id: str, n: u8, note: str? }", {"T.note": {"default": '"hi"'}}))
    store.add_schema(old)
    data = old.encode("T", {"id": "a", "n": 2})
    text = fsf.render_markdown(new, data, store=OnPath(store, codec_path))
    same_value = new.encode("T", {"id": "a", "n": 2, "note": "hi"})
    expected = fsf.render_markdown(new, same_value).replace(fsf.content_id(same_value), fsf.content_id(data))
    assert text == expected
    assert f"value={fsf.content_id(data)} type=T schema={new.id('T')} " in text.splitlines()[0]
    with pytest.raises(IncompatibleError):
        fsf.render_markdown(new, old.encode("T", {"id": "a", "n": 300}), store=store)


def test_put_with_a_newer_schema_checks_the_old_value_reads(store: Store) -> None:
    old, new = compiled("shape T { n: u16 }"), compiled("shape T { n: u8 }")
    store.add_schema(old)
    assert store.put(old.encode("T", {"n": 1}), new) == fsf.content_id(old.encode("T", {"n": 1}))
    with pytest.raises(IncompatibleError):
        store.put(old.encode("T", {"n": 300}), new)


# -- map keys and defaults: what a resolved value must still be ---------------------------------------------------


def test_enum_keys_of_a_map_are_renamed(store: Store) -> None:
    old = compiled(LEVEL3 + "shape T { m: map[0..3]<Level, u8> }")
    new = compiled("enum Level { low, medium, high }\nshape T { m: map[0..3]<Level, u8> }",
                   {"Level.medium": {"was": "mid"}})
    store.add_schema(old)
    got = new.decode(old.encode("T", {"m": {"low": 1, "mid": 2}}), store=store)
    assert got == {"m": {"low": 1, "medium": 2}}


def test_map_keys_that_merge_are_refused_at_the_map(codec_path: CodecPath, store: Store) -> None:
    old = compiled(LEVEL3 + "shape T { m: map[2..3]<Level, u8> }")
    new = codec_path.use(compiled(LEVEL + "shape T { m: map[2..3]<Level, u8> }", {"Level.low": {"fallback": True}}))
    store.add_schema(old)
    on = OnPath(store, codec_path)
    assert new.decode(old.encode("T", {"m": {"low": 2, "high": 1}}), store=on) == {"m": {"low": 2, "high": 1}}
    with pytest.raises(IncompatibleError) as caught:  # `mid` reads as `low`: one of the two entries would be lost
        new.decode(old.encode("T", {"m": {"low": 2, "mid": 1}}), store=on)
    err = caught.value
    assert str(err) == (f"cannot read `T` {old.id('T')} as `T` {new.id('T')}: two keys of the map read as the same "
                        "key `low` (the `@fallback` of the reader's enum `Level`): `low` and `mid` [MAP_KEYS_MERGE] "
                        "- at `$.m` (reader: <memory>:2:11)")
    assert (err.rule, err.path, err.site) == ("MAP_KEYS_MERGE", "$.m", "T.m")


def test_map_keys_that_merge_are_counted_by_the_corpus_check(store: Store) -> None:
    """`fsf breaking --corpus` counts exactly the values whose keys merge, with its screen and without it."""
    from fsf.breaking.corpus import check_corpus

    old = compiled(LEVEL3 + "shape T { m: map[0..3]<Level, u8> }")
    new = compiled(LEVEL + "shape T { m: map[0..3]<Level, u8> }", {"Level.low": {"fallback": True}})
    store.add_schema(old)
    merging = old.encode("T", {"m": {"low": 1, "mid": 2}})
    values = [merging, old.encode("T", {"m": {"mid": 2, "high": 1}}), old.encode("T", {"m": {}})]
    for screen in (True, False):
        corpus = check_corpus(new, values, store, screen=screen)
        assert [(c.finding.rule, c.finding.path, c.broken, c.total, c.examples) for c in corpus.findings] == [
            ("MAP_KEYS_MERGE", "T.m", 1, 3, (fsf.content_id(merging),))], screen


def test_map_keys_merge_only_where_two_writer_members_read_as_the_fallback() -> None:
    """No check when at most one writer member reads as the `@fallback`, or the writer's map holds one entry."""
    def merge(old: str, new: str, notes: Notes) -> bool:
        w, r = compiled(old), compiled(new, notes)
        step = build(w._side(), "T", r._side(), "T").decls["T", "T"]
        assert isinstance(step, ShapeStep)
        (field,) = step.fields
        assert isinstance(field.step, MapStep)
        return field.step.merge is not None

    low = {"Level.low": {"fallback": True}}
    assert merge(LEVEL3 + "shape T { m: map[0..3]<Level, u8> }", LEVEL + "shape T { m: map[0..3]<Level, u8> }", low)
    assert not merge(LEVEL3 + "shape T { m: map[0..1]<Level, u8> }", LEVEL + "shape T { m: map[0..3]<Level, u8> }",
                     low)
    assert not merge(LEVEL + "shape T { m: map[0..2]<Level, u8> }",
                     "enum Level { low, high, other }\nshape T { m: map[0..2]<Level, u8> }",
                     {"Level.other": {"fallback": True}})  # the fallback is new: only itself reads as itself
    assert not merge("enum Level { low, mid }\nshape T { m: map[0..2]<Level, u8> }",
                     "enum Level { low, other }\nshape T { m: map[0..2]<Level, u8> }",
                     {"Level.other": {"fallback": True}})  # only `mid` reads as `other`


def test_an_f32_default_is_exactly_an_f32() -> None:
    from fsf.ir.annotations import Literal, default_problem

    assert default_problem(ir.Float(32), Literal.NUMBER, "0.1", ir.Schema(())) is not None


# -- the fsv commands ---------------------------------------------------------------------------------------------

runner = CliRunner()
OLD = "shape T { id: str, n: u16 }\n"
NEW = "shape T { id: str, n: u8, note: str? }\n"


def fsv(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(fsv_app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


@attrs.frozen
class Work:
    """A working folder with ``old.fsf`` and ``new.fsf``, a store ``st`` holding the old schema, and old values."""

    root: Path
    old: Schema
    new: Schema
    store: Store

    def value(self, name: str, value: Any, folder: str = "in") -> Path:
        path = self.root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.old.encode("T", value))
        return path


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Work:
    if locate_store(cwd=tmp_path, env={}) is not None:
        pytest.skip(f"a `.fsf` folder above {tmp_path} would be found by every command")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.fsf").write_text(OLD, "utf-8")
    (tmp_path / "new.fsf").write_text(NEW, "utf-8")
    old = fsf.load_schema(tmp_path / "old.fsf")
    store = fsf.init_store(tmp_path / "st")
    store.add_schema(old)
    return Work(tmp_path, old, fsf.load_schema(tmp_path / "new.fsf"), store)


def test_fsv_decode_resolves_with_a_note_on_stderr(work: Work) -> None:
    path = work.value("a.fsv", {"id": "a", "n": 2})
    assert fsv("decode", "-s", "new.fsf", "--store", "st", path) == (
        0, '{\n  "id": "a",\n  "n": 2,\n  "note": null\n}\n',
        f"note: {path}: written as {work.old.id('T')}, read as `T` {work.new.id('T')}\n")
    assert fsv("decode", "--store", "st", path) == (0, '{\n  "id": "a",\n  "n": 2\n}\n', "")  # its own writer schema: no note


def test_fsv_decode_failures(work: Work) -> None:
    path = work.value("a.fsv", {"id": "a", "n": 300})
    code, out, err = fsv("decode", "-s", "new.fsf", "--store", "st", path)
    assert (code, out) == (1, "")
    assert err == (f"error: cannot read `T` {work.old.id('T')} as `T` {work.new.id('T')}: a number is outside the "
                   "reader's range: 300 is not in ..255 [RANGE_NARROWED] - at `$.n` (reader: new.fsf:1:20)\n")
    mismatch = (f"error: the value's root type {work.old.id('T')} is not a type of this schema - at byte 5 "
                "[schema_mismatch]\n")
    assert fsv("decode", "-s", "new.fsf", "--store", "st", "--exact", path) == (1, "", mismatch)
    assert fsv("decode", "-s", "new.fsf", path) == (1, "", mismatch)  # no store found
    fsf.init_store(work.root / "empty")
    code, out, err = fsv("decode", "-s", "new.fsf", "--store", "empty", path)
    assert (code, out) == (1, "")
    assert "`fsf store add SCHEMA`" in err and err.endswith("[schema_unknown]\n")


def test_fsv_verify_resolves(work: Work) -> None:
    good, bad = work.value("good.fsv", {"id": "a", "n": 2}), work.value("bad.fsv", {"id": "b", "n": 256})
    assert fsv("verify", "-s", "new.fsf", "--store", "st", good) == (
        0, f"ok  {fsf.content_id(good.read_bytes())}  {good}\n", "")
    code, out, err = fsv("verify", "-s", "new.fsf", "--store", "st", good, bad)
    assert (code, out) == (1, f"ok  {fsf.content_id(good.read_bytes())}  {good}\n")
    assert err == (f"error: {bad}: cannot read `T` {work.old.id('T')} as `T` {work.new.id('T')}: a number is outside "
                   "the reader's range: 256 is not in ..255 [RANGE_NARROWED] - at `$.n` (reader: new.fsf:1:20)\n"
                   "1 of 2 file(s) failed verification\n")
    code, out, err = fsv("verify", "-s", "new.fsf", "--store", "st", "--exact", good)
    assert (code, out) == (1, "")
    assert "[schema_mismatch]" in err


def test_fsv_render_resolves(work: Work) -> None:
    path = work.value("a.fsv", {"id": "a", "n": 2})
    code, out, err = fsv("render", "-s", "new.fsf", "--store", "st", path)
    assert (code, err) == (0, "")
    assert out == fsf.render_markdown(work.new, path.read_bytes(), store=work.store)
    assert out.splitlines()[1:] == ["# T", "", "- **id**: a", "- **n**: 2", "- **note**: *absent*"]
    code, out, err = fsv("render", "-s", "new.fsf", "--store", "st", "--exact", path)
    assert (code, out) == (1, "")
    assert "[schema_mismatch]" in err


def test_fsv_upgrade_writes_new_values_and_never_touches_the_old(work: Work) -> None:
    plain = work.value("plain.fsv", {"id": "a", "n": 2})
    hexed = work.value("x.fsv", {"id": "b", "n": 3})
    hexed = hexed.rename(hexed.with_name(fsf.content_id(hexed.read_bytes()).removeprefix("blake3:") + ".fsv"))
    before = {p: p.read_bytes() for p in (plain, hexed)}
    code, out, err = fsv("upgrade", "-s", "new.fsf", "--store", "st", plain, hexed, "-o", "up")
    assert (code, err) == (0, "")
    new_plain = work.new.encode("T", {"id": "a", "n": 2, "note": None})
    new_hexed = work.new.encode("T", {"id": "b", "n": 3, "note": None})
    hex_name = Path("up") / (fsf.content_id(new_hexed).removeprefix("blake3:") + ".fsv")
    assert out == (f"{fsf.content_id(before[plain])} -> {fsf.content_id(new_plain)}  {Path('up') / 'plain.fsv'}\n"
                   f"{fsf.content_id(before[hexed])} -> {fsf.content_id(new_hexed)}  {hex_name}\n")
    assert (work.root / "up" / "plain.fsv").read_bytes() == new_plain
    assert (work.root / hex_name).read_bytes() == new_hexed
    assert sorted(p.name for p in (work.root / "up").iterdir()) == sorted(["plain.fsv", hex_name.name])
    assert {p: p.read_bytes() for p in before} == before
    assert work.store.has_schema(work.new.id("T"))  # the new writer type is recorded
    assert work.new.read(new_plain).resolved is False


def test_fsv_upgrade_into_the_folder_of_an_input_is_a_wrong_command_line(work: Work) -> None:
    path = work.value("a.fsv", {"id": "a", "n": 2})
    before = path.read_bytes()
    code, out, err = fsv("upgrade", "-s", "new.fsf", "--store", "st", path, "-o", "in")
    assert (code, out) == (2, "")
    assert err == ("error: `in` holds inputs; old values are never rewritten beside themselves: give another "
                   "--output folder\n")
    assert path.read_bytes() == before


def test_fsv_upgrade_a_value_that_does_not_read_is_exit_1_and_the_others_are_written(work: Work) -> None:
    good, bad = work.value("good.fsv", {"id": "a", "n": 2}), work.value("bad.fsv", {"id": "b", "n": 999})
    code, out, err = fsv("upgrade", "-s", "new.fsf", "--store", "st", bad, good, "-o", "up")
    assert code == 1
    assert out.endswith(f"  {Path('up') / 'good.fsv'}\n") and out.count("\n") == 1
    assert err.startswith("error: cannot read ") and err.endswith("[RANGE_NARROWED] - at `$.n` (reader: new.fsf:1:20)\n")
    assert not (work.root / "up" / "bad.fsv").exists()
