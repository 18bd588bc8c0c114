"""IR -> FSF source: the text checks back to the same IR (docs included) and ids, in the layout of ``fsf fmt``.

Drawn schemas (with doc comments, and with drawn evolution annotations), drawn float bounds and doc texts, the shape library, a golden file for
``shapes/forge-plan.fsf`` (``tests/golden/source/``, ``FSF_UPDATE_GOLDEN=1`` rewrites it), the edge cases of the
spelling, and the IRs that FSF cannot write (a ``.fsb`` is not judged by the checker), which are refused.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.errors import Source
from fsf.front.fmt import format_source
from fsf.front.parse import parse
from fsf.ir.annotations import quote
from fsf.ir.ids import type_ids
from fsf.ir.source import to_source
from fsf.text import invisible_in_a_line, show_in_a_line
from tests.support.annotated import DEPRECATION, annotate_all, annotated
from tests.support.golden import Golden
from tests.support.strategies import laid_out, schema_texts

ROOT = Path(__file__).parents[2]
GOLDEN = Path(__file__).parents[1] / "golden" / "source"
SHAPES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "shapes").glob("*.fsf"))
F32_MAX = 3.4028234663852886e38
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def round_trip(schema: ir.Schema) -> str:
    """``to_source(schema)``, asserted to check back to ``schema`` with the same ids and to be formatted."""
    text = to_source(schema)
    again = fsf.compile_source(text).ir
    assert again == schema
    assert type_ids(again) == type_ids(schema)  # ids also tell -0.0 from 0.0, which `==` does not
    assert format_source(text) == text
    return text


def shape(*fields: ir.Field, name: str = "A", doc: str = "") -> ir.Schema:
    return ir.Schema((ir.Shape(name, fields, doc),))


def field_type(text: str) -> ir.Type:
    decl = fsf.compile_source(f"shape A {{ x: {text} }}").ir["A"]
    assert isinstance(decl, ir.Shape)
    return decl.fields[0].type


# -- properties ----------------------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_drawn_schemas_with_docs_check_back_to_the_same_ir_and_ids(data: st.DataObject) -> None:
    text = data.draw(laid_out(data.draw(schema_texts(), label="schema")), label="layout")  # adds `///` docs
    round_trip(fsf.compile_source(text).ir)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_drawn_schemas_with_annotations_check_back_to_the_same_ir_and_ids(data: st.DataObject) -> None:
    base = fsf.compile_source(data.draw(schema_texts(), label="schema")).ir
    schema = data.draw(annotated(base), label="annotations")
    round_trip(schema)
    assert type_ids(schema) == type_ids(base)


def test_annotations_are_printed_in_the_layout_of_fmt() -> None:
    schema = annotate_all(fsf.compile_source("/// E.\nenum E { a }\nunion U { V, W { x: E } }").ir)
    quoted = '"old: use \\"other\\" \\\\ elsewhere"'
    assert DEPRECATION == 'old: use "other" \\ elsewhere'
    assert round_trip(schema) == (
        '/// E.\n@was("EOld1", "EOld2")\n@reserved("retired_member")\n' f"@deprecated({quoted})\n"
        'enum E {\n  @was("a_old1", "a_old2")\n  @fallback\n' f"  @deprecated({quoted})\n  a,\n}}\n\n"
        '@was("UOld1", "UOld2")\n@reserved("RetiredVariant")\n' f"@deprecated({quoted})\n"
        'union U {\n  @was("VOld1", "VOld2")\n  @fallback\n' f"  @deprecated({quoted})\n  V,\n"
        '  @was("WOld1", "WOld2")\n' f"  @deprecated({quoted})\n"
        '  W {\n    @was("xOld1", "xOld2")\n    @default(a)\n' f"    @deprecated({quoted})\n    x: E,\n  }},\n}}\n")


_BOUNDS = st.sampled_from([32, 64]).flatmap(lambda width: st.tuples(
    st.just(width), *[st.floats(allow_nan=False, allow_infinity=False,
                                **({"min_value": -F32_MAX, "max_value": F32_MAX} if width == 32 else {}))] * 2))


@settings(max_examples=300, deadline=None)
@given(_BOUNDS)
@example((64, -0.0, 0.0))
@example((64, 5e-324, 1.7976931348623157e308))
@example((32, -F32_MAX, F32_MAX))
@example((32, 0.1, 16777217.0))  # not f32 values: an f32 bound is the binary64 of its literal
@example((64, 1e16, 1.2345678901234567e-300))
def test_float_bounds_are_written_exactly(bounds: tuple[int, float, float]) -> None:
    width, a, b = bounds
    lo, hi = sorted((a, b))
    schema = shape(ir.Field("x", ir.Float(width, lo, hi)))
    text = round_trip(schema)
    again = fsf.compile_source(text).ir["A"]
    assert isinstance(again, ir.Shape)
    got = again.fields[0].type
    assert isinstance(got, ir.Float) and got.lo is not None and got.hi is not None
    assert (math.copysign(1, got.lo), math.copysign(1, got.hi)) == (math.copysign(1, lo), math.copysign(1, hi))


_DOC_LINES = st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n" + _BIDI),
                              max_size=12), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(_DOC_LINES)
@example(["", "  indented", "", "last"])
@example(["///", "// not a comment", "}", "shape B {}"])
def test_doc_comments_the_parser_reads_are_written_back(lines: list[str]) -> None:
    # A doc as the checker produces it: written in source, then read. Each entry takes one.
    docs = "".join(f"/// {line}\n" for line in lines)
    text = f"{docs}shape A {{\n{docs}a: E,\n}}\n{docs}enum E {{\n{docs}m,\n}}\n{docs}union U {{\n{docs}V,\n}}\n"
    schema = fsf.compile_source(text).ir
    doc = "\n".join(line.rstrip() for line in lines).rstrip()
    assert schema["A"].doc == doc
    if invisible_in_a_line(doc.replace("\n", "")) is None:
        round_trip(schema)
        return
    # What a printed line cannot hold as it is is shown as `\u{XXXX}`: the text reads back with those docs and
    # the same ids (a doc is no part of one).
    again = fsf.compile_source(to_source(schema)).ir
    assert type_ids(again) == type_ids(schema)
    shown = "\n".join(show_in_a_line(line) for line in doc.split("\n"))
    assert [again[n].doc for n in "AEU"] == [shown] * 3
    assert invisible_in_a_line(to_source(schema).replace("\n", "")) is None


@pytest.mark.parametrize(("doc", "printed"), [
    ("run \u202eexe.txt", "/// run \\u{202E}exe.txt"),  # would print as `run txt.exe`
    ("a\u2066b\u2069 \u200f\u061c", "/// a\\u{2066}b\\u{2069} \\u{200F}\\u{061C}"),
    ("ok\rshape Evil {}", "/// ok\\u{000D}shape Evil {}"),  # a terminal would print `shape Evil {}` over `/// ok`
    ("x\x1b[2Jy\x07\x7f\x85\u2028z", "/// x\\u{001B}[2Jy\\u{0007}\\u{007F}\\u{0085}\\u{2028}z"),
    ("tab\tand é 中 and 👍", "/// tab\tand é 中 and 👍"),
])
def test_a_doc_prints_what_it_holds(doc: str, printed: str) -> None:
    schema = shape(ir.Field("x", ir.Str(), doc))
    text = to_source(schema)
    assert text == f"shape A {{\n  {printed}\n  x: str,\n}}\n"
    again = fsf.compile_source(text).ir
    assert type_ids(again) == type_ids(schema)


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\x1b", "\r", "\u2028", "\x85", "\x00"])
def test_an_annotation_string_that_a_line_cannot_hold_is_refused(char: str) -> None:
    for item, name in ((ir.Field("x", ir.Str(), deprecated=f"a{char}b"), "@deprecated"),
                       (ir.Field("x", ir.Str(), was=(f"y{char}",)), "@was"),
                       (ir.Field("x", ir.Str(), default=ir.Default(quote(f"a{char}"))), "@default")):
        with pytest.raises(fsf.FsfError) as info:
            to_source(shape(item))
        assert str(info.value) == (f"cannot write `A.x` as FSF: `{name}` cannot hold U+{ord(char):04X}, a control, "
                                   "bidirectional or line-breaking character")


# -- the shape library and the golden file -------------------------------------------------------------------


@pytest.mark.parametrize("path", SHAPES)
def test_every_shipped_schema_round_trips(path: str) -> None:
    round_trip(fsf.load_schema(ROOT / path).ir)


def test_forge_plan_matches_the_golden_file(golden: Golden) -> None:
    text = round_trip(fsf.load_schema(ROOT / "shapes" / "forge-plan.fsf").ir)
    golden.text(GOLDEN / "forge-plan.fsf", text)


# -- edge cases ----------------------------------------------------------------------------------------------


def test_the_whole_layout() -> None:
    source = (
        "/// Colours.\n"
        "///\n"
        "///   with an indented line\n"
        "enum Colour {\n"
        "  /// The first.\n"
        "  red,\n"
        "  shape,\n"
        "}\n"
        "\n"
        "shape Empty {}\n"
        "\n"
        "union Pick {\n"
        "  /// Nothing.\n"
        "  None,\n"
        "  Some {\n"
        "    /// What.\n"
        "    value: Colour,\n"
        "    next: ref<Pick>?,\n"
        "  },\n"
        "}\n"
    )
    schema = fsf.compile_source(source).ir
    assert schema["Colour"].doc == "Colours.\n\n  with an indented line"
    assert round_trip(schema) == source


def test_an_empty_schema_is_empty_text() -> None:
    assert round_trip(ir.Schema(())) == ""


def test_a_variant_with_an_empty_body_is_a_unit_variant() -> None:
    schema = fsf.compile_source("union U { V {}, W { }, X }").ir
    assert round_trip(schema) == "union U {\n  V,\n  W,\n  X,\n}\n"


@pytest.mark.parametrize(("written", "spelled"), [
    ("f64[-0..1]", "f64[-0..1]"),
    ("f64[-0.0..0.0]", "f64[-0..0]"),
    ("f64[0.0..1000]", "f64[0..1000]"),
    ("f64[1e3..1E+16]", "f64[1000..1e16]"),
    ("f64[-1e308..5e-324]", "f64[-1e308..5e-324]"),
    ("f64[0.1..0.30000000000000004]", "f64[0.1..0.30000000000000004]"),
    ("f32[0.1..3.4028234663852886e38]", "f32[0.1..3.4028234663852886e38]"),
    ("f32[16777217..16777217]", "f32[16777217..16777217]"),
    ("f32", "f32"),
    ("u8[0..255]", "u8"),
    ("u8[000..255]", "u8"),
    ("u8[0..254]", "u8[0..254]"),
    ("i8[-128..127]", "i8"),
    ("i64[-9223372036854775808..9223372036854775807]", "i64"),
    ("i64[-9223372036854775808..0]", "i64[-9223372036854775808..0]"),
    ("u64[0..18446744073709551615]", "u64"),
    ("u64[1..18446744073709551615]", "u64[1..18446744073709551615]"),
    ("str", "str"),
    ("str[0..4294967295]", "str[0..4294967295]"),
    ("str[1..1]", "str[1..1]"),
    ("bytes", "bytes"),
    ("bytes[0..0]", "bytes[0..0]"),
    ("bool", "bool"),
    ("hash", "hash"),
    ("time", "time"),
    ("ref<A>?", "ref<A>?"),
    ("arr[0..2]<map[1..3]<str[1..2], arr[0..1]<u8?>?>>?", "arr[0..2]<map[1..3]<str[1..2], arr[0..1]<u8?>?>>?"),
    ("map[0..4]<i16[-1..1], A>", "map[0..4]<i16[-1..1], A>"),
])
def test_types_are_spelled_as_short_as_possible(written: str, spelled: str) -> None:
    t = field_type(written)
    assert ir.type_name(t) == spelled
    text = round_trip(shape(ir.Field("x", t, "")))
    assert text == f"shape A {{\n  x: {spelled},\n}}\n"


def test_negative_zero_keeps_its_id() -> None:
    minus, plus = (to_source(shape(ir.Field("x", ir.Float(64, z, 1.0)))) for z in (-0.0, 0.0))
    assert (minus, plus) == ("shape A {\n  x: f64[-0..1],\n}\n", "shape A {\n  x: f64[0..1],\n}\n")
    assert fsf.compile_source(minus).id("A") != fsf.compile_source(plus).id("A")


def test_keywords_are_names_where_the_grammar_allows_them() -> None:
    words = ("import", "shape", "enum", "union", "arr", "map", "ref", "str", "bool", "u8")
    fields = ", ".join(f"{w}: {w if w in ('str', 'bool', 'u8') else 'str'}" for w in words)
    schema = fsf.compile_source(f"shape A {{ {fields} }}\nenum E {{ {', '.join(words)} }}\n"
                                f"union U {{ Shape {{ map: E }}, Str }}\nshape Shape {{}}").ir
    round_trip(schema)


def test_a_recursive_schema_round_trips() -> None:
    round_trip(fsf.compile_source("shape Node { kids: arr[0..3]<Node>, up: Node?, byKey: map[0..2]<str, Node> }\n"
                                  "union Tree { Leaf, Fork { left: Tree, right: Tree } }").ir)


# -- IR that FSF cannot write --------------------------------------------------------------------------------


@pytest.mark.parametrize(("schema", "message"), [
    (shape(ir.Field("x", ir.Str(1, None))),
     "cannot write `A.x` as FSF: `str[1..]` has a lower bound and no upper bound"),
    (shape(ir.Field("x", ir.Optional(ir.Array(0, 1, ir.Bytes(2, None))))),
     "cannot write `A.x` as FSF: `bytes[2..]` has a lower bound and no upper bound"),
    (shape(ir.Field("x", ir.Float(64, 0.0, None))),
     "cannot write `A.x` as FSF: `f64` bounds must be two finite numbers, not 0.0 and None"),
    (shape(ir.Field("x", ir.Float(32, -math.inf, 1.0))),
     "cannot write `A.x` as FSF: `f32` bounds must be two finite numbers, not -inf and 1.0"),
    (shape(ir.Field("x: str, y", ir.Str())), "cannot write `A.x: str, y` as FSF: `x: str, y` is not an identifier"),
    (shape(ir.Field("x", ir.Str()), name="A {}\nshape B"),
     "cannot write `A {}\\u000Ashape B` as FSF: type name `A {}\\u000Ashape B` does not start with a capital letter"),
    (ir.Schema((ir.Shape("A", (ir.Field("x", ir.Named("str")),)), ir.Shape("str", ()))),
     "cannot write `A.x` as FSF: type name `str` does not start with a capital letter"),
    (shape(ir.Field("x", ir.Ref("arr"))), "cannot write `A.x` as FSF: type name `arr` does not start with a capital "
     "letter"),
    (ir.Schema((ir.Enum("E", (ir.Member("m}\nshape X {"),)),)),
     "cannot write `E.m}\\u000Ashape X {` as FSF: `m}\\u000Ashape X {` is not an identifier"),
    (shape(ir.Field("x", ir.Str(), "a \nb")),
     "cannot write `A.x` as FSF: a doc comment cannot end a line or itself with whitespace"),
    (shape(doc="a\n"), "cannot write `A` as FSF: a doc comment cannot end a line or itself with whitespace"),
    (ir.Schema((ir.Enum("E", ()),)), "cannot write `E` as FSF: an enum needs at least one member"),
    (shape(ir.Field("x", ir.Str(), deprecated="a\nb")),
     "cannot write `A.x` as FSF: a string of `@deprecated` cannot hold a line break"),
    (ir.Schema((ir.Shape("A", (), was=("B\nshape C",)),)),
     "cannot write `A` as FSF: a string of `@was` cannot hold a line break"),
    (shape(ir.Field("x", ir.Str(), default=ir.Default("1) @was(\"y\""))),
     "cannot write `A.x` as FSF: `@default` literal `1) @was(\"y\"` is not an FSF literal"),
    (shape(ir.Field("x", ir.Str(), default=ir.Default('"a\\b"'))),
     "cannot write `A.x` as FSF: `@default` literal `\"a\\b\"` is not an FSF literal"),
    (ir.Schema((ir.Union_("U", ()),)), "cannot write `U` as FSF: a union needs at least one variant"),
])
def test_an_ir_that_fsf_cannot_write_is_refused(schema: ir.Schema, message: str) -> None:
    with pytest.raises(fsf.FsfError) as info:
        to_source(schema)
    assert str(info.value) == message


def test_a_doc_cannot_leave_its_comment() -> None:
    # Every line of a doc is printed after `///`: a hostile doc is a comment, never a declaration.
    schema = shape(doc="x\n}\nshape B {")
    text = round_trip(schema)
    assert text == "/// x\n/// }\n/// shape B {\nshape A {}\n"


def test_an_annotation_string_cannot_leave_its_string() -> None:
    # Quotes and backslashes are escaped: a hostile reason or old name is one string, never more annotations.
    schema = ir.Schema((ir.Shape("A", (ir.Field("x", ir.Str(), deprecated='\\") }'),), deprecated='"); shape B {'),))
    assert round_trip(schema).count("\n") == 5
    hostile = ir.Schema((ir.Shape("A", (ir.Field("x", ir.Str(), was=('y") @default(1',)),)),))
    module = parse(Source("<t>", to_source(hostile)))
    (decl,) = module.decls
    (f,) = decl.fields  # type: ignore[union-attr]
    assert [(a.name.text, [x.text for x in a.args or ()]) for a in f.annotations] == [("was", ['y") @default(1'])]
