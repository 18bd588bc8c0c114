"""fmt: one canonical layout, every comment kept, idempotent, ids unchanged (golden files and a property).

Golden cases: ``tests/golden/fmt/NAME.fsf`` formats to ``NAME.out`` (``FSF_UPDATE_GOLDEN=1`` rewrites them).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf.errors import Source
from fsf.front.fmt import canonical_decls, format_source
from fsf.front.parse import parse
from tests.support.golden import Golden
from tests.support.strategies import laid_out, schema_texts

ROOT = Path(__file__).parents[2]
GOLDEN = Path(__file__).parents[1] / "golden" / "fmt"
CASES = sorted(p.name for p in GOLDEN.glob("*.fsf"))
SHAPES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "shapes").glob("*.fsf"))


def comments(text: str) -> Counter[str]:
    return Counter(c.text.rstrip() for c in parse(Source("<t>", text)).comments)


def ids(text: str, name: str = "<memory>") -> dict[str, str]:
    schema = fsf.compile_source(text, name)
    return {n: schema.id(n) for n in schema.shapes}


def same_syntax(a: str, b: str) -> bool:
    """The same imports and declarations, annotations compared in their canonical form (``fsf fmt`` orders and
    merges them)."""
    ma, mb = parse(Source("<a>", a)), parse(Source("<b>", b))
    return (ma.imports, canonical_decls(ma.decls)) == (mb.imports, canonical_decls(mb.decls))


@pytest.mark.parametrize("case", CASES)
def test_fmt_matches_the_golden_file(case: str, golden: Golden) -> None:
    source = (GOLDEN / case).read_bytes().decode("utf-8")
    got = format_source(source, case)
    golden.text(GOLDEN / case.replace(".fsf", ".out"), got)
    assert format_source(got, case) == got
    assert comments(got) == comments(source)
    assert same_syntax(got, source)


@pytest.mark.parametrize("path", SHAPES)
def test_fmt_keeps_the_ids_of_the_shape_library(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    formatted = format_source(text, path)
    assert format_source(formatted, path) == formatted
    # Imports resolve relative to the file's name, so both texts are compiled under it.
    assert ids(formatted, path) == ids(text, path)
    assert comments(formatted) == comments(text)


def test_the_bundled_shapes_other_than_the_verbatim_seed_are_already_formatted() -> None:
    unformatted = [p for p in SHAPES if p != "shapes/forge-plan.fsf"
                   and format_source((ROOT / p).read_text(encoding="utf-8"), p) != (ROOT / p).read_text(encoding="utf-8")]
    assert unformatted == []


def test_fmt_reports_syntax_errors_like_check() -> None:
    with pytest.raises(fsf.SchemaError) as info:
        format_source("shape A {\n  a str,\n}\n", "bad.fsf")
    assert info.value.render() == (
        "bad.fsf:2:5: error[F015]: missing `:` before `str`\n"
        "  |\n"
        "2 |   a str,\n"
        "  |     ^^^ expected `:`\n"
        "   = help: a field is written `name: type`"
    )


def test_fmt_formats_schemas_with_semantic_errors() -> None:
    # Formatting needs only the syntax: unknown types and missing imports are for `fsf check`.
    assert format_source('import "gone.fsf"\nshape a{b:Nope}') == 'import "gone.fsf"\n\nshape a {\n  b: Nope,\n}\n'


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fmt_round_trips_is_idempotent_and_keeps_ids_and_comments(data: st.DataObject) -> None:
    clean = data.draw(schema_texts(), label="schema")
    messy = data.draw(laid_out(clean), label="layout")
    once = format_source(messy)
    assert format_source(once) == once
    assert same_syntax(once, messy)
    assert comments(once) == comments(messy)
    assert ids(once) == ids(messy) == ids(clean)
