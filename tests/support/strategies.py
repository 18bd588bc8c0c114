"""Hypothesis strategies shared by the tests: FSF schema texts that use every type, and values of their types.

One place for strategies. ``schema_texts()`` draws a schema (shapes, enums, unions, every primitive with and
without bounds, optionals, arrays, maps with every key kind, refs and recursion); ``values(ir, name)`` draws a
valid value of a named type in the canonical Python form that ``Schema.decode`` returns; ``lenient(ir, name,
value)`` respells a canonical value the ways ``Schema.encode`` also accepts (missing optionals, aware datetimes,
integral floats as ints) and ``normalise`` maps such a value back to the canonical form. ``near_misses(value)``
changes one spot of a value (junk, an extra or missing key, a longer list) for differential validator tests.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from hypothesis import strategies as st

from fsf import ir

I64 = ir.INT_RANGES["i64"]
MAX_VALUE_DEPTH = 4
"""Recursive types stop growing (empty array, absent optional) past this many named levels."""

_INT_KINDS = tuple(ir.INT_RANGES)


@st.composite
def _int_type(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(_INT_KINDS))
    if draw(st.booleans()):
        return kind
    lo, hi = ir.INT_RANGES[kind]
    a = draw(st.integers(lo, hi))
    b = draw(st.integers(a, hi))
    return f"{kind}[{a}..{b}]"


@st.composite
def _primitive(draw: st.DrawFn, decls: list[tuple[str, str]]) -> str:
    choice = draw(st.sampled_from(["bool", "int", "float", "str", "bytes", "hash", "time", "ref"]))
    if choice == "int":
        return draw(_int_type())
    if choice == "float":
        kind = draw(st.sampled_from(["f32", "f64"]))
        bounds = draw(st.sampled_from(["", "[0..1]", "[-1000..1000.5]", "[-0.25..1048576.5]"]))
        return kind + bounds
    if choice in ("str", "bytes"):
        bounds = draw(st.sampled_from(["", "[0..4]", "[1..8]", "[2..2]"]))
        return choice + bounds
    if choice == "ref":
        shapes = [name for kind, name in decls if kind == "shape"]
        return f"ref<{draw(st.sampled_from(shapes))}>" if shapes else "hash"
    return choice


@st.composite
def _map_key(draw: st.DrawFn, decls: list[tuple[str, str]]) -> str:
    enums = [name for kind, name in decls if kind == "enum"]
    options = ["str", "str[1..3]", "u16", "i8", "i64[-5..100]", *enums]
    return draw(st.sampled_from(options))


def _type(decls: list[tuple[str, str]], depth: int) -> st.SearchStrategy[str]:
    """A type expression over the earlier declarations ``decls`` (no optional at this level)."""
    leaves: list[st.SearchStrategy[str]] = [_primitive(decls)]
    if decls:
        leaves.append(st.sampled_from([name for _, name in decls]))
    leaf = st.one_of(leaves)
    if depth >= 2:
        return leaf
    inner = _type(decls, depth + 1)
    opt_inner = st.one_of(inner, inner.map(lambda t: t + "?"))
    arr = st.tuples(st.sampled_from(["0..3", "1..2", "0..20"]), opt_inner).map(lambda p: f"arr[{p[0]}]<{p[1]}>")
    mapt = st.tuples(st.sampled_from(["0..3", "1..2", "0..17"]), _map_key(decls), opt_inner).map(
        lambda p: f"map[{p[0]}]<{p[1]}, {p[2]}>")
    return st.one_of(leaf, arr, mapt)


@st.composite
def _fields(draw: st.DrawFn, decls: list[tuple[str, str]], self_name: str, lo: int) -> str:
    n = draw(st.integers(lo, 5))
    out = []
    for i in range(n):
        t = draw(_type(decls, 0))
        if draw(st.integers(0, 3)) == 0:
            t += "?"
        out.append(f"f{i}: {t}")
    if draw(st.booleans()):  # recursion, always through something that can end
        out.append(draw(st.sampled_from([f"next: {self_name}?", f"kids: arr[0..3]<{self_name}>",
                                         f"byKey: map[0..2]<str, {self_name}>"])))
    return ", ".join(out)


@st.composite
def schema_texts(draw: st.DrawFn) -> str:
    """An FSF schema text with 1..6 declarations; the last declared type is named ``Root`` (a shape)."""
    decls: list[tuple[str, str]] = []
    lines = []
    count = draw(st.integers(0, 5))
    for i in range(count):
        kind = draw(st.sampled_from(["shape", "enum", "union"]))
        if kind == "enum":
            name = f"E{i}"
            members = ", ".join(f"m{j}" for j in range(draw(st.integers(1, 4))))
            lines.append(f"enum {name} {{ {members} }}")
        elif kind == "shape":
            name = f"S{i}"
            lines.append(f"shape {name} {{ {draw(_fields(decls, name, 0))} }}")
        else:
            name = f"U{i}"
            variants = []
            for j in range(draw(st.integers(1, 4))):
                if draw(st.booleans()):
                    variants.append(f"V{j}")
                else:
                    variants.append(f"V{j} {{ {draw(_fields(decls, name, 1))} }}")
            lines.append(f"union {name} {{ {', '.join(variants)} }}")
        decls.append((kind, name))
    lines.append(f"shape Root {{ {draw(_fields(decls, 'Root', 1))} }}")
    return "\n".join(lines) + "\n"


_TOKEN = re.compile(r'[^\W\d]\w*|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\.\.|"(?:[^"\\\n]|\\.)*"|\S')
_COMMENTS = ["// a", "// b c ", "//", "//x//y", "// \u00e9t\u00e9"]


@st.composite
def laid_out(draw: st.DrawFn, text: str) -> str:
    """``text`` (valid FSF) with its tokens re-spaced at random and comments added where entries begin or end.

    Whitespace may go anywhere between tokens (none between two words); ``//`` comments, own-line or at the
    end of a line, and ``///`` doc comments go mostly between declarations and between the entries of a
    body, and sometimes anywhere else (inside a type, between a name and its ``:``).
    """
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    angle = 0
    for i, token in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        boundary = angle == 0 and (prev in ("", "{", ",", "}") or token == "}")
        gaps = ["", " ", "\n", "\n\n", " \t ", " // inside\n", "\n/// inside\n"]
        if boundary:
            gaps += [f" {c}\n" for c in _COMMENTS] + [f"\n{c}\n" for c in _COMMENTS] + ["\n/// doc\n", "\n\n/// d\n"]
        gap = draw(st.sampled_from(gaps))
        if not gap and prev and (prev[-1].isalnum() or prev[-1] in "_.") and (token[0].isalnum() or token[0] in "_-."):
            gap = " "
        out.append(gap + token)
        angle += token == "<"
        angle -= token == ">"
    out.append(draw(st.sampled_from(["", "\n", "\n// end\n", " // last"])))
    return "".join(out)


# -------------------------------------------------------------------------------------------------------------
# Values


def values(schema: ir.Schema, name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    """Valid values of the named type ``name`` in the canonical Python form (what decode returns)."""
    return _value(schema, ir.Named(name), depth)


def _value(schema: ir.Schema, t: ir.Type, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(t, ir.Optional):
        if depth >= MAX_VALUE_DEPTH:
            return st.none()
        return st.one_of(st.none(), _value(schema, t.inner, depth))
    if isinstance(t, ir.Bool):
        return st.booleans()
    if isinstance(t, ir.Int):
        return st.integers(t.lo, t.hi)
    if isinstance(t, ir.Float):
        return st.floats(t.lo, t.hi, width=t.width, allow_nan=False, allow_infinity=False)  # type: ignore[arg-type]
    if isinstance(t, ir.Str):
        return st.text(min_size=t.lo, max_size=t.lo + 6 if t.hi is None else min(t.hi, t.lo + 6))
    if isinstance(t, ir.Bytes):
        return st.binary(min_size=t.lo, max_size=t.lo + 6 if t.hi is None else min(t.hi, t.lo + 6))
    if isinstance(t, ir.Hash):
        return st.binary(min_size=32, max_size=32)
    if isinstance(t, ir.Time):
        return st.integers(*I64)
    if isinstance(t, ir.Ref):
        return st.binary(min_size=32, max_size=32).map(lambda b: "blake3:" + b.hex())
    if isinstance(t, ir.Array):
        if depth >= MAX_VALUE_DEPTH and t.lo == 0:
            return st.just([])
        hi = min(t.hi, t.lo + 3)
        return st.lists(_value(schema, t.item, depth), min_size=t.lo, max_size=hi)
    if isinstance(t, ir.Map):
        if depth >= MAX_VALUE_DEPTH and t.lo == 0:
            return st.just({})
        hi = min(t.hi, t.lo + 3)
        return st.dictionaries(_value(schema, t.key, depth), _value(schema, t.value, depth), min_size=t.lo,
                               max_size=hi)
    assert isinstance(t, ir.Named)
    decl = schema[t.name]
    if isinstance(decl, ir.Enum):
        return st.sampled_from([m.name for m in decl.members])
    if isinstance(decl, ir.Shape):
        return st.deferred(lambda: _fields_value(schema, decl.fields, depth + 1))
    return st.one_of([
        _fields_value(schema, v.fields, depth + 1).map(lambda body, v=v: {v.name: body})  # type: ignore[misc]
        for v in decl.variants
    ])


def _fields_value(schema: ir.Schema, fields: tuple[ir.Field, ...], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({f.name: _value(schema, f.type, depth) for f in fields})


# -------------------------------------------------------------------------------------------------------------
# Lenient spellings and normalisation (what encode accepts beyond the canonical form)


@st.composite
def lenient(draw: st.DrawFn, schema: ir.Schema, name: str, value: Any) -> Any:
    """``value`` respelled: some absent optionals dropped, some times as datetimes, integral floats as ints."""
    return _lenient(draw, schema, ir.Named(name), value)


def _lenient(draw: st.DrawFn, schema: ir.Schema, t: ir.Type, value: Any) -> Any:
    if isinstance(t, ir.Optional):
        return None if value is None else _lenient(draw, schema, t.inner, value)
    if isinstance(t, ir.Time) and value % 1000 == 0 and -(10**18) < value < 10**18 and draw(st.booleans()):
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=value // 1000)
    if isinstance(t, ir.Float) and value == int(value) and abs(value) < 2**53 and draw(st.booleans()):
        return int(value)
    if isinstance(t, ir.Array):
        return [_lenient(draw, schema, t.item, v) for v in value]
    if isinstance(t, ir.Map):
        return {k: _lenient(draw, schema, t.value, v) for k, v in value.items()}
    if isinstance(t, ir.Named):
        decl = schema[t.name]
        if isinstance(decl, ir.Shape):
            return _lenient_fields(draw, schema, decl.fields, value)
        if isinstance(decl, ir.Union_):
            ((vname, body),) = value.items()
            variant = next(v for v in decl.variants if v.name == vname)
            return {vname: _lenient_fields(draw, schema, variant.fields, body)}
    return value


def _lenient_fields(draw: st.DrawFn, schema: ir.Schema, fields: tuple[ir.Field, ...], value: Any) -> Any:
    out = {}
    for f in fields:
        v = value[f.name]
        if v is None and draw(st.booleans()):
            continue
        out[f.name] = _lenient(draw, schema, f.type, v)
    return out


def normalise(schema: ir.Schema, name: str, value: Any) -> Any:
    """The canonical Python form of a valid (possibly lenient) value: what decode(encode(value)) must return."""
    return _normalise(schema, ir.Named(name), value)


def _normalise(schema: ir.Schema, t: ir.Type, value: Any) -> Any:
    if isinstance(t, ir.Optional):
        return None if value is None else _normalise(schema, t.inner, value)
    if isinstance(t, ir.Time) and isinstance(value, dt.datetime):
        delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
        return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    if isinstance(t, ir.Float):
        return float(value)
    if isinstance(t, ir.Array):
        return [_normalise(schema, t.item, v) for v in value]
    if isinstance(t, ir.Map):
        return {k: _normalise(schema, t.value, v) for k, v in value.items()}
    if isinstance(t, ir.Named):
        decl = schema[t.name]
        if isinstance(decl, ir.Shape):
            return {f.name: _normalise(schema, f.type, value.get(f.name)) for f in decl.fields}
        if isinstance(decl, ir.Union_):
            ((vname, body),) = value.items()
            variant = next(v for v in decl.variants if v.name == vname)
            return {vname: {f.name: _normalise(schema, f.type, body.get(f.name)) for f in variant.fields}}
    return value


# -------------------------------------------------------------------------------------------------------------
# Near misses (for validators): a value with one spot changed, which may or may not still be valid

JUNK: tuple[Any, ...] = (
    None, True, 0, -1, 256, 2**64, 2**70, 1.5, float("nan"), float("inf"), "", "x", "\ud800", "blake3:" + "0" * 64,
    b"", b"\x00" * 32, bytearray(b"x"), [], [1], (), {}, {"x": 1}, {"NoPlan": {}}, {1: 2},
    dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
)
"""Values of every Python kind the validators see, valid somewhere and wrong elsewhere."""


@st.composite
def near_misses(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one spot replaced by junk, one dict key added or removed, or one list item duplicated."""
    spots: list[tuple[Any, Any]] = [(None, None)]  # (container, key or index); (None, None) is the root
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is dict:
            spots.extend((v, k) for k in v)
            stack.extend(v.values())
        elif type(v) is list:
            spots.extend((v, i) for i in range(len(v)))
            stack.extend(v)
    container, key = draw(st.sampled_from(spots))
    kind = draw(st.sampled_from(["replace", "add", "remove", "grow"]))
    if container is None:
        return copy.deepcopy(draw(st.sampled_from(JUNK))) if kind == "replace" else value
    if kind == "replace":
        container[key] = copy.deepcopy(draw(st.sampled_from(JUNK)))
    elif kind == "add" and type(container) is dict:
        container[draw(st.sampled_from(["zz", 7, "f0", "V0"]))] = copy.deepcopy(draw(st.sampled_from(JUNK)))
    elif kind == "remove" and type(container) is dict:
        del container[key]
    elif type(container) is list:
        container.extend([container[key]] * draw(st.integers(1, 30)))
    return value
