"""Ids: stable, order-independent, closure-sensitive."""

from __future__ import annotations

import fsf

BASE = """
enum Strategy { sequential, parallel }
shape Batch { id: str, strategy: Strategy, tasks: arr[0..8]<Task> }
shape Task { id: str, parent: Task?, note: str? }
shape Unrelated { x: u8 }
"""


def ids(text: str) -> dict[str, str]:
    schema = fsf.compile_source(text)
    return {name: schema.id(name) for name in schema.shapes}


def test_declaration_order_and_comments_do_not_change_ids() -> None:
    shuffled = """
    // a comment
    shape Unrelated { x: u8, }
    /// Tasks
    shape Task { id: str, parent: Task?, note: str? }
    shape Batch { id: str, strategy: Strategy, tasks: arr[0..8]<Task> }
    enum Strategy { sequential, parallel, }
    """
    assert ids(BASE) == ids(shuffled)


def test_a_change_in_the_closure_changes_the_id_and_nothing_else() -> None:
    before = ids(BASE)
    after = ids(BASE.replace("note: str?", "note: str[0..9]?"))
    assert after["Task"] != before["Task"]
    assert after["Batch"] != before["Batch"]
    assert after["Strategy"] == before["Strategy"]
    assert after["Unrelated"] == before["Unrelated"]


def test_effective_integer_bounds_share_an_id() -> None:
    assert ids("shape A { x: u8 }") == ids("shape A { x: u8[0..255] }")


def test_ids_have_the_documented_form() -> None:
    for value in ids(BASE).values():
        assert value.startswith("blake3:") and len(value) == 7 + 64
        int(value[7:], 16)
