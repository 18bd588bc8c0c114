"""The corpus check's screen (``fsf/breaking/corpus.py``): a value the writer's types narrowed by the plan's checks
accept is not walked, and the result is exactly the walk's.

- Differential: over the random schema pairs and edge values of ``test_agree.py``, ``check_corpus`` with the
  screen and with every value walked (``screen=False``) give equal results (every count, total and example id, in
  order), and a value that is not canonical raises the same error on both.
- Guards: on a corpus where few values break, only those are walked; a plan that checks nothing walks no value
  (but still checks each one strictly); a plan with a step no bound states walks them all.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import fsf
from fsf.breaking.corpus import Corpus, check_corpus
from fsf.errors import DecodeError
from fsf.fsv import native
from fsf.store import Store, init_store
from tests.breaking.test_agree import decl_edges, pairs
from tests.support import strategies

needs_native = pytest.mark.skipif(not native.AVAILABLE, reason="the screen of a plan that checks values is the C "
                                                               "codec's check")


def both(new: fsf.Schema, values: list[bytes], store: Store) -> tuple[Corpus, Corpus]:
    """The screened result and the walked one, asserted equal (findings, counts, examples, values, writers)."""
    screened = check_corpus(new, values, store)
    walked = check_corpus(new, values, store, screen=False)
    assert screened == walked and screened.walked <= walked.walked
    return screened, walked


def outcome(new: fsf.Schema, values: list[bytes], store: Store, screen: bool) -> Corpus | tuple[str, int, str]:
    """The result of the check, or the error it raises (code, offset, message)."""
    try:
        return check_corpus(new, values, store, screen=screen)
    except DecodeError as err:
        return err.code, err.offset, str(err)


# -- differential ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(pair=pairs(), data=st.data())
def test_the_screen_agrees_with_the_walk(pair: tuple[fsf.Schema, fsf.Schema], data: st.DataObject) -> None:
    old, new = pair
    values = []
    for decl in old.ir.decls:
        drawn = data.draw(st.lists(strategies.values(old.ir, decl.name), max_size=4), label=decl.name)
        values += [old.encode(decl.name, v) for v in [*decl_edges(old.ir, decl.name), *drawn]]
    with tempfile.TemporaryDirectory() as folder:
        store = init_store(folder)
        store.add_schema(old)
        screened, walked = both(new, values, store)
        event(f"the screen spared {'no' if screened.walked == walked.walked else 'some'} value")
        broken = [v for v in values if _breaks(new, v, store)]
        assert screened.walked >= len(broken)  # every breaking value is walked (and counted: test_agree.py)
        for bad in (values[0][:-1], values[0] + b"\x00"):  # refused strictly on both routes, with one error
            assert outcome(new, [*values, bad], store, True) == outcome(new, [*values, bad], store, False)


FOLDS = [  # (old, new, values of the old root `A`, how many are walked): each kind of check the screen folds in
    ("shape A { x: u16 }", "shape A { x: f64[-0.25..1000.5] }", [{"x": x} for x in (0, 999, 1000, 1001, 65535)], 2),
    ("shape A { x: i32 }", "shape A { x: i32[-3..7] }", [{"x": x} for x in (-4, -3, 7, 8, 0)], 2),
    ("shape A { x: f64[0..10] }", "shape A { x: f64[0.5..2.5] }", [{"x": x} for x in (0.0, 0.5, 2.5, 2.6, 1.0)], 2),
    ("shape A { x: f32 }", "shape A { x: f64[-1..1] }", [{"x": x} for x in (-1.5, -1.0, 1.0, 1.5)], 2),
    ("shape A { x: bytes }", "shape A { x: bytes[1..2] }", [{"x": b"a" * n} for n in (0, 1, 2, 3)], 2),
    ("shape A { x: str[0..9] }", "shape A { x: str[2..20] }", [{"x": t} for t in ("", "é", "éé", "ééééé")], 2),
    ("shape A { x: map[0..9]<str, u8> }", "shape A { x: map[1..2]<str, u8[0..4]> }",
     [{"x": {f"k{i}": i for i in range(n)}} for n in (0, 1, 2, 3, 5)], 3),
    ("shape A { x: arr[0..9]<u8?> }", "shape A { x: arr[0..3]<u8> }",
     [{"x": v} for v in ([], [1], [None], [1, 2, 3, 4])], 2),
    ("shape A { x: u8? }", "shape A { x: u8 }", [{"x": 1}, {"x": None}], 1),
    ("shape A { x: u8? }", "shape A { @default(3) x: u8[0..9] }", [{"x": 1}, {"x": None}, {"x": 10}], 1),
    ("shape A { x: u8 }", "shape A { x: u8[0..9]? }", [{"x": 1}, {"x": 10}], 1),
    ("union U { P { n: u8 }, Q }\nshape A { x: U }", "union U { P { n: u8[0..1] }, @fallback Q }\nshape A { x: U }",
     [{"x": {"P": {"n": 0}}}, {"x": {"P": {"n": 2}}}, {"x": {"Q": {}}}], 1),
    ("union U { P, Q, R }\nshape A { x: U, n: u8 }", "union U { P, @fallback Q }\nshape A { x: U, n: u8[0..1] }",
     [{"x": {"R": {}}, "n": 0}, {"x": {"P": {}}, "n": 2}], 1),
    ("enum E { a, b, c }\nshape A { e: E, n: u8 }", "enum E { a, @fallback b }\nshape A { e: E, n: u8[0..1] }",
     [{"e": "c", "n": 1}, {"e": "a", "n": 5}], 1),
    ("shape A { n: u8, kids: arr[0..9]<A> }", "shape A { n: u8[0..5], kids: arr[0..9]<A> }",
     [{"n": 1, "kids": [{"n": 2, "kids": [{"n": 6, "kids": []}]}]}, {"n": 1, "kids": [{"n": 5, "kids": []}]}], 1),
    # No screen: no value of the writer's range reads, a Fail, a lost precision (every value is walked).
    ("shape A { x: u8[0..3] }", "shape A { x: u8[5..9] }", [{"x": 0}, {"x": 3}], 2),
    ("shape A { x: u8 }", "shape A { x: u8, y: str }", [{"x": 0}], 1),
    ("shape A { x: f64 }", "shape A { x: f32 }", [{"x": 0.1}, {"x": 0.5}], 2),
]


@needs_native
@pytest.mark.parametrize(("old", "new", "values", "walks"), FOLDS, ids=[f"{i}" for i in range(len(FOLDS))])
def test_each_fold_agrees_with_the_walk(tmp_path: Path, old: str, new: str, values: list[dict[str, object]],
                                        walks: int) -> None:
    writer, reader = fsf.compile_source(old), fsf.compile_source(new)
    store = init_store(tmp_path / "st")
    store.add_schema(writer)
    data = [writer.encode("A", v) for v in values]
    screened, walked = both(reader, data, store)
    assert (screened.walked, walked.walked) == (walks, len(data))
    assert screened.walked == sum(map(bool, (_breaks(reader, d, store) for d in data))) or walks == len(data)


def _breaks(new: fsf.Schema, data: bytes, store: Store) -> bool:
    """Whether resolution refuses the value on its way (a root type gone is decided without reading it)."""
    try:
        new.decode(data, store=store)
    except fsf.IncompatibleError as err:
        return err.rule != "ROOT_TYPE_MISSING"
    return False


# -- guards ---------------------------------------------------------------------------------------------------

VERSIONS = (
    "shape Task { id: str, retries: u8 }\n",
    "shape Task { id: str, retries: u8, note: str? }\n",
    "shape Task { id: str, retries: u16, note: str? }\n",
)


def _store_of(folder: str, per_version: int) -> tuple[Store, list[bytes], list[bytes]]:
    """A store of ``per_version`` values of each version, retried ``0..per_version-1`` times (one value of each
    version retried 300 times in place of its last one) and their bytes, the breaking ones apart."""
    store = init_store(folder)
    values, many = [], []
    for n, text in enumerate(VERSIONS, 1):
        schema = fsf.compile_source(text)
        store.add_schema(schema)
        for k in range(per_version):
            retries = 300 if k == per_version - 1 and n == 3 else 9 if k == per_version - 1 else k % 5
            data = schema.encode("Task", {"id": f"task-{n}-{k}", "retries": retries})
            values.append(data)
            if retries > 5:
                many.append(data)
    return store, values, many


@needs_native
def test_only_the_breaking_values_are_walked(tmp_path: Path) -> None:
    store, values, many = _store_of(str(tmp_path), 40)
    new = fsf.compile_source("shape Task { id: str[1..32], retries: u8[0..5], note: str? }\n")
    corpus, _ = both(new, values, store)
    assert corpus.walked == len(many) == 3
    (retries,) = [c for c in corpus.findings if c.finding.rule == "RANGE_NARROWED"]
    assert (retries.broken, retries.total) == (3, 120)


def test_a_plan_that_checks_nothing_walks_nothing(tmp_path: Path) -> None:
    store, values, _ = _store_of(str(tmp_path), 5)
    new = fsf.compile_source("shape Task { id: str, retries: u16, note: str?, owner: str? }\n")
    corpus = check_corpus(new, values, store)
    assert (corpus.findings, corpus.values, corpus.writers, corpus.walked) == ((), 15, 3, 0)
    truncated = values[0][:-1]  # still strictly checked: the error the walk's decode gives
    assert outcome(new, [truncated], store, True) == outcome(new, [truncated], store, False) == (
        "truncated", len(truncated), f"input ends where a value should start at `$.retries` - at byte {len(truncated)} "
        "[truncated]")


def test_a_step_no_bound_states_walks_every_value(tmp_path: Path) -> None:
    """A member the reader lacks without `@fallback`: whether a value holds it is not a bound."""
    store = init_store(str(tmp_path))
    old = fsf.compile_source("enum Status { todo, doing, done }\nshape Task { status: Status }\n")
    store.add_schema(old)
    values = [old.encode("Task", {"status": s}) for s in ("todo", "doing", "done", "todo")]
    new = fsf.compile_source("enum Status { todo, done }\nshape Task { status: Status }\n")
    corpus, _ = both(new, values, store)
    assert corpus.walked == 4 and [(c.finding.rule, c.broken) for c in corpus.findings] == [
        ("ENUM_MEMBER_REMOVED_NO_FALLBACK", 1)]
