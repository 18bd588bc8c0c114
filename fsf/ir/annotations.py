"""Annotations: the one table of FSF's evolution annotations, and an IR item <-> its annotations as strings.

The table (:data:`ANNOTATIONS`, in the canonical order ``was, default, fallback, reserved, deprecated``) says for
each annotation where it may go, what it takes and which IR attribute holds it. The checker
(:mod:`fsf.front.check`) judges written annotations by it, ``fsf fmt`` (:mod:`fsf.front.fmt`) orders them by it,
the ``.fsb`` container (:mod:`fsf.bytecode.container`) stores and validates them by it and
:func:`fsf.ir.source.to_source` prints them by it. :func:`default_problem` is the one judge of a ``@default``
literal against a field's type, for the checker and for a loaded container alike. Annotations never enter an id
(:mod:`fsf.ir.ids` does not read them). ``docs/language.md`` ("Evolution annotations") is the reference;
``docs/evolution.md`` says how values are read by them.
"""

from __future__ import annotations

import enum
import math
import re
import struct
from collections.abc import Iterable
from typing import Any

import attrs

from fsf import ir
from fsf.limits import MAX_LITERAL_DIGITS


class Place(enum.Enum):
    """What an annotation stands before; the value is how messages name it."""

    FIELD = "a field"
    MEMBER = "an enum member"
    UNIT_VARIANT = "a unit variant"
    VARIANT = "a variant with fields"
    SHAPE = "a shape"
    ENUM = "an enum"
    UNION = "a union"


DECLARATIONS = frozenset({Place.SHAPE, Place.ENUM, Place.UNION})
EVERYWHERE = frozenset(Place)


class Args(enum.Enum):
    """What an annotation takes; the value is how messages say it."""

    NAMES = "one or more strings"  # IR: tuple[str, ...], () when absent
    LITERAL = "one value"  # IR: ir.Default | None
    NONE = "no arguments"  # IR: bool, False when absent
    TEXT = "one string"  # IR: str | None


@attrs.frozen
class Annotation:
    """One annotation: ``@name`` before an item of ``places``, taking ``args``, held in IR attribute ``attribute``.

    ``repeatable``: it may be written more than once on one item; the strings of every occurrence are kept in
    the order written (``fsf fmt`` merges them into one). ``example`` is the form shown in hints.
    """

    name: str
    places: frozenset[Place]
    args: Args
    attribute: str
    repeatable: bool
    example: str

    @property
    def spelled(self) -> str:
        return f"@{self.name}"


ANNOTATIONS: tuple[Annotation, ...] = (
    Annotation("was", EVERYWHERE, Args.NAMES, "was", True, '@was("oldName")'),
    Annotation("default", frozenset({Place.FIELD}), Args.LITERAL, "default", False, "@default(0)"),
    Annotation("fallback", frozenset({Place.MEMBER, Place.UNIT_VARIANT}), Args.NONE, "fallback", False, "@fallback"),
    Annotation("reserved", DECLARATIONS, Args.NAMES, "reserved", True, '@reserved("oldName")'),
    Annotation("deprecated", EVERYWHERE, Args.TEXT, "deprecated", False, '@deprecated("why")'),
)
"""Every annotation, in the canonical order (``fsf fmt``, ``to_source`` and the container write them so)."""

BY_NAME: dict[str, Annotation] = {a.name: a for a in ANNOTATIONS}
ORDER: dict[str, int] = {a.name: i for i, a in enumerate(ANNOTATIONS)}

Item = ir.Field | ir.Member | ir.Variant | ir.Shape | ir.Enum | ir.Union_

_PLACES: dict[type, Place] = {ir.Field: Place.FIELD, ir.Member: Place.MEMBER, ir.Shape: Place.SHAPE,
                              ir.Enum: Place.ENUM, ir.Union_: Place.UNION}


def place_of(item: Item) -> Place:
    """Where ``item`` stands: a variant is a unit variant or a variant with fields."""
    if isinstance(item, ir.Variant):
        return Place.VARIANT if item.fields else Place.UNIT_VARIANT
    return _PLACES[type(item)]


def where(places: Iterable[Place]) -> str:
    """``a field``, ``an enum member or a unit variant``, ``a shape, an enum or a union``."""
    words = [p.value for p in Place if p in set(places)]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


# -- IR values <-> argument strings ---------------------------------------------------------------------------


def value_of(annotation: Annotation, args: tuple[str, ...]) -> Any:
    """The IR attribute value of ``annotation`` written with ``args`` (strings; a literal's canonical spelling)."""
    if annotation.args is Args.NAMES:
        return args
    if annotation.args is Args.LITERAL:
        return ir.Default(args[0])
    if annotation.args is Args.NONE:
        return True
    return args[0]


def args_of(annotation: Annotation, value: Any) -> tuple[str, ...] | None:
    """The argument strings of ``annotation`` holding IR ``value``, or None when the item does not have it."""
    if annotation.args is Args.NAMES:
        return tuple(value) if value else None
    if annotation.args is Args.LITERAL:
        return None if value is None else (value.literal,)
    if annotation.args is Args.NONE:
        return () if value else None
    return None if value is None else (value,)


def annotations_of(item: Item) -> list[tuple[Annotation, tuple[str, ...]]]:
    """The annotations ``item`` has, in the canonical order, each with its argument strings."""
    out = []
    for annotation in ANNOTATIONS:
        if annotation.attribute in _ATTRIBUTES[type(item)]:
            args = args_of(annotation, getattr(item, annotation.attribute))
            if args is not None:
                out.append((annotation, args))
    return out


_ATTRIBUTES: dict[type, frozenset[str]] = {
    cls: frozenset(f.name for f in attrs.fields(cls)) for cls in (ir.Field, ir.Member, ir.Variant, ir.Shape,
                                                                   ir.Enum, ir.Union_)
}


# -- literals -------------------------------------------------------------------------------------------------


class Literal(enum.Enum):
    """The kinds of an annotation argument as written."""

    STRING = "string"
    NUMBER = "number"
    NAME = "name"
    EMPTY_ARR = "[]"
    EMPTY_MAP = "{}"


_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"\Z')
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_NAME = re.compile(r"[^\W\d]\w*\Z")
_INTEGER = re.compile(r"-?[0-9]+\Z")
_ESCAPED = re.compile(r"\\(.)")


def quote(text: str) -> str:
    """``text`` as an FSF string: in quotes, ``\\`` and ``"`` escaped by a backslash (nothing else is)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote(string: str) -> str:
    """The text of an FSF string token (a backslash makes the next character literal)."""
    return _ESCAPED.sub(r"\1", string[1:-1])


def spell(kind: Literal, value: str) -> str:
    """The canonical spelling of an argument: a string quoted by :func:`quote`, a number or a name as written."""
    if kind is Literal.STRING:
        return quote(value)
    if kind in (Literal.EMPTY_ARR, Literal.EMPTY_MAP):
        return str(kind.value)
    return value


def read_literal(literal: str) -> tuple[Literal, str] | None:
    """The kind and value of a literal in its canonical spelling (:func:`spell`), or None if it is not one."""
    if literal in ("[]", "{}"):
        return Literal(literal), literal
    if _STRING.match(literal):
        value = unquote(literal)
        return (Literal.STRING, value) if quote(value) == literal else None
    if _NUMBER.match(literal):
        return Literal.NUMBER, literal
    if _NAME.match(literal):
        return Literal.NAME, literal
    return None


# -- the judge of a @default ----------------------------------------------------------------------------------


class Verdict(enum.Enum):
    """Why a ``@default`` is refused (the checker gives each its own code)."""

    NO_DEFAULT = "the type takes no default"
    MISFIT = "the literal is not a value of the type"
    TOO_LONG = "the number literal is too long"


@attrs.frozen
class Problem:
    """A refused ``@default``: ``message`` (the whole sentence), ``label`` (what is wrong at the literal), a hint,
    and for an unknown enum member the members (for a did-you-mean)."""

    verdict: Verdict
    message: str
    label: str
    hint: str = ""
    members: tuple[str, ...] = ()


_NO_DEFAULT_HINT = "`@default` is for numbers, `str`, `bool`, enums, and `arr` or `map` with lower bound 0"


def default_problem(t: ir.Type, kind: Literal, value: str, schema: ir.Schema) -> Problem | None:
    """Why ``@default`` of ``kind`` and ``value`` does not fit a field of type ``t`` (an optional's inner type),
    or None when it does. A type naming an unknown declaration is not judged (the checker reports the name).

    >>> default_problem(ir.Int("u8", 0, 5), Literal.NUMBER, "9", ir.Schema(())).label
    'outside 0..5'
    """
    inner = t.inner if isinstance(t, ir.Optional) else t
    shown = ir.type_name(inner)
    literal = spell(kind, value)
    if isinstance(inner, ir.Named):
        if inner.name not in schema:
            return None
        decl = schema[inner.name]
        if not isinstance(decl, ir.Enum):
            return Problem(Verdict.NO_DEFAULT, f"`{shown}` takes no `@default`", "no default for this type",
                           _NO_DEFAULT_HINT)
        members = tuple(m.name for m in decl.members)
        if kind is Literal.NAME and value in members:
            return None
        hint = (f"an enum default is a member's bare name: `@default({value})`"
                if kind is Literal.STRING and value in members else "")
        return _misfit(literal, shown, f"not a member of `{shown}`", hint, members)
    if kind is Literal.NUMBER and len(value.lstrip("-")) > MAX_LITERAL_DIGITS:
        return Problem(Verdict.TOO_LONG, f"default literal has {len(value.lstrip('-'))} digits; at most "
                       f"{MAX_LITERAL_DIGITS} are allowed", "literal too long")
    if isinstance(inner, ir.Int):
        if kind is not Literal.NUMBER or not _INTEGER.match(value):
            return _misfit(literal, shown, f"expected an integer in {inner.lo}..{inner.hi}")
        if not inner.lo <= int(value) <= inner.hi:
            return _misfit(literal, shown, f"outside {inner.lo}..{inner.hi}")
        return None
    if isinstance(inner, ir.Float):
        if kind is not Literal.NUMBER:
            return _misfit(literal, shown, "expected a number")
        number = float(value)
        if not _finite(number, inner.width):
            return _misfit(literal, shown, f"not a finite `f{inner.width}`")
        if inner.lo is not None and inner.hi is not None and not inner.lo <= number <= inner.hi:
            return _misfit(literal, shown, f"outside {shown[len(inner.kind) + 1:-1]}")
        if inner.width == 32 and struct.unpack(">f", struct.pack(">f", number))[0] != number:
            return _misfit(literal, shown, "not exactly an `f32` (write a number an `f32` holds exactly, e.g. 0.5)")
        return None
    if isinstance(inner, ir.Str):
        if kind is not Literal.STRING:
            return _misfit(literal, shown, "expected a string")
        length = len(value)
        if length < inner.lo or (inner.hi is not None and length > inner.hi):
            hi = "" if inner.hi is None else inner.hi
            return _misfit(literal, shown, f"length {length} is outside {inner.lo}..{hi}")
        return None
    if isinstance(inner, ir.Bool):
        if kind is Literal.NAME and value in ("true", "false"):
            return None
        return _misfit(literal, shown, "expected `true` or `false`")
    if isinstance(inner, (ir.Array, ir.Map)):
        empty = Literal.EMPTY_ARR if isinstance(inner, ir.Array) else Literal.EMPTY_MAP
        if kind is not empty:
            return _misfit(literal, shown, f"expected `{empty.value}`", f"the only default of `{shown[:3]}` is "
                           f"`{empty.value}`, with lower bound 0")
        if inner.lo > 0:
            noun = ("item" if inner.lo == 1 else "items") if empty is Literal.EMPTY_ARR else (
                "entry" if inner.lo == 1 else "entries")
            return _misfit(literal, shown, f"at least {inner.lo} {noun}",
                           f"`{empty.value}` is a default only when the lower bound is 0")
        return None
    return Problem(Verdict.NO_DEFAULT, f"`{shown}` takes no `@default`", "no default for this type", _NO_DEFAULT_HINT)


def _misfit(literal: str, shown: str, label: str, hint: str = "", members: tuple[str, ...] = ()) -> Problem:
    return Problem(Verdict.MISFIT, f"default `{literal}` does not fit `{shown}`", label, hint, members)


def _finite(x: float, width: int) -> bool:
    if not math.isfinite(x):
        return False
    if width == 32:
        try:
            struct.pack("<f", x)
        except OverflowError:
            return False
    return True
