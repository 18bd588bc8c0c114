"""JSON boundary: JSON-form values <-> the Python form of an IR type (the non-canonical compatibility form).

The JSON form: shapes are objects with field names (an absent optional is ``null`` on output and may be ``null``
or missing on input); arrays; maps are objects (integer keys as decimal strings, enum keys as member names);
enums are the member name; unions are ``{"Variant": {...}}``; ``bytes`` is standard padded base64; ``hash`` is
64 lowercase hex digits; ``ref<T>`` is ``blake3:<64 hex>``; ``time`` is RFC 3339 in UTC with a ``Z`` (a fraction
only when non-zero: 3, 6 or 9 digits, the fewest that are exact).

Conversion only rewrites what JSON cannot spell (bytes, hashes, times, integer map keys); everything else is
left for :meth:`fsf.Schema.validate` to judge, so value messages have one home.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import re
from collections.abc import Callable
from typing import Any, Protocol

from fsf import ir
from fsf.errors import Unreadable, ValidationError
from fsf.fsv.format import EPOCH as _EPOCH
from fsf.fsv.format import NS_PER_SECOND as _NS
from fsf.fsv.format import delta_ns
from fsf.fsv.format import time_ns as time_to_ns
from fsf.ir.kinds import Kind, decl_kind, kind_of
from fsf.limits import MAX_DEPTH


class Checked(Protocol):
    """What the JSON boundary needs from its caller (:class:`fsf.Schema` has it): the IR, a check that a type
    exists (raising :class:`fsf.UsageError` if not), and validation. A protocol, so this back end never
    imports the façade."""

    @property
    def ir(self) -> ir.Schema: ...

    def id_bytes(self, name: str) -> bytes: ...

    def validate(self, name: str, value: Any) -> None: ...

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_DECIMAL = re.compile(r"(?:0|-?[1-9][0-9]*)\Z")
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))\Z")


def loads(text: str | bytes) -> Any:
    """Parse JSON text strictly: UTF-8, no duplicate object keys, no ``NaN``/``Infinity``, integers of at most
    640 digits; raises ValidationError (with the line and column where the JSON is wrong, when there is one)."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValidationError(f"Invalid JSON: not UTF-8 (byte {err.start})") from None
    try:
        return json.loads(text, parse_constant=_no_constant, parse_int=_parse_int, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        raise ValidationError(f"Invalid JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except _LongInteger as err:
        where = _located(text, _first_token(text, long_integer=True))
        raise ValidationError(f"Invalid JSON: integer of {err.digits} digits (at most {_MAX_DIGITS}){where}") from None
    except RecursionError:
        where = _located(text, _first_token(text, long_integer=False))
        raise ValidationError(f"Invalid JSON: nested deeper than {MAX_DEPTH}{where}") from None


_MAX_DIGITS = 640
"""The most digits a JSON integer may have: far more than any type holds (`u64` has 20, the largest `f64` 309),
and the least limit an interpreter may set on ``int(str)`` (``sys.set_int_max_str_digits``), so the verdict is
the same everywhere and converting never costs more than a few microseconds."""

# What the scanner needs to find a position in JSON that parsed up to the failure: strings (skipped whole, so
# brackets and digits inside them do not count), numbers, and brackets.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|[\[{\]}]')


class _LongInteger(Exception):
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > _MAX_DIGITS:
        raise _LongInteger(digits)
    return int(text)


def _first_token(text: str, long_integer: bool) -> int | None:
    """The offset of the first integer of more than ``_MAX_DIGITS`` digits (``long_integer``), else of the first
    ``[`` or ``{`` nested deeper than ``MAX_DEPTH``; None if there is none."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token in ("[", "{"):
            depth += 1
            if not long_integer and depth > MAX_DEPTH:
                return m.start()
        elif token in ("]", "}"):
            depth -= 1
        elif long_integer and token.lstrip("-").isdigit() and len(token.lstrip("-")) > _MAX_DIGITS:
            return m.start()
    return None


def _located(text: str, offset: int | None) -> str:
    """`` at line L column C`` of a character offset, as :class:`json.JSONDecodeError` counts them."""
    if offset is None:
        return ""
    return f" at line {text.count(chr(10), 0, offset) + 1} column {offset - text.rfind(chr(10), 0, offset)}"


def dumps(data: Any) -> str:
    """JSON text of a JSON-form value: two-space indent, UTF-8 characters kept, a final newline."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _no_constant(name: str) -> Any:
    raise ValidationError(f"Invalid JSON: `{name}` is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValidationError(f"Invalid JSON: duplicate object key {json.dumps(key)}")
            seen.add(key)
    return out


# ---------------------------------------------------------------------------------------------------------------
# JSON form -> Python form


class _Bad(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        self.path: list[str | int | tuple[str]] = []
        """The segments from the failure up: a field or variant name, an index, a map key (as a 1-tuple)."""

    def error(self) -> ValidationError:
        path, loc = ["$"], list[Any]()
        for s in reversed(self.path):
            if isinstance(s, tuple):
                path.append(f"[{json.dumps(s[0])}]")
                loc.append(s[0])
            else:
                path.append(f".{s}" if isinstance(s, str) else f"[{s}]")
                loc.append(s)
        return ValidationError(self.message, "".join(path), tuple(loc))


def from_json(schema: Checked, name: str, data: Any, *, collect: bool = False) -> Any:
    """The Python value (as ``schema.encode`` takes it) of JSON-form ``data`` of type ``name``.

    Raises :class:`fsf.ValidationError` where the JSON spelling itself is wrong (bad base64, hex, time or map
    key); other problems are left in place for ``schema.validate``. With ``collect``, nothing is raised: each
    wrong spelling is replaced by an :class:`fsf.errors.Unreadable` with its message, which
    ``schema.validate(..., all_errors=True)`` reports in its place among the other errors.

    >>> from_json(s, "Event", {"at": "2026-11-22T00:00:00.5Z"})   # doctest: +SKIP
    {'at': 1795305600500000000}
    """
    schema.id_bytes(name)
    try:
        return _from(schema.ir, ir.Named(name), data, 0, collect)
    except _Bad as bad:
        raise bad.error() from None


def _from(schema: ir.Schema, t: ir.Type, x: Any, depth: int, collect: bool) -> Any:
    kind = kind_of(t)
    if kind is Kind.OPTIONAL:
        assert isinstance(t, ir.Optional)
        if x is None:
            return None
        t = t.inner
        kind = kind_of(t)
    leaf = _LEAF.get(kind)
    if leaf is not None:
        try:
            return leaf(x)
        except _Bad as bad:
            if not collect:
                raise
            return Unreadable(bad.message)
    if depth > MAX_DEPTH:
        return x  # left for validate, which refuses the depth
    if kind is Kind.ARRAY and isinstance(x, list):
        assert isinstance(t, ir.Array)
        return [_at(schema, t.item, v, depth + 1, i, collect) for i, v in enumerate(x)]
    if kind is Kind.MAP and isinstance(x, dict):
        assert isinstance(t, ir.Map)
        int_keys = kind_of(t.key) is Kind.INT
        out = {}
        for k, v in x.items():
            key: Any = k
            if int_keys:
                try:
                    key = _int_key(k)
                except _Bad as bad:
                    if not collect:
                        bad.path.append((k,))
                        raise
                    key = Unreadable(bad.message, k)
            out[key] = _at(schema, t.value, v, depth + 1, (k,), collect)
        return out
    if kind is Kind.NAMED and isinstance(x, dict):
        assert isinstance(t, ir.Named)
        decl = schema[t.name]
        if isinstance(decl, ir.Shape):
            return _fields(schema, decl.fields, x, depth + 1, collect)
        if isinstance(decl, ir.Union_) and len(x) == 1:
            ((vname, body),) = x.items()
            variant = next((v for v in decl.variants if v.name == vname), None)
            if variant is not None and isinstance(body, dict):
                try:
                    return {vname: _fields(schema, variant.fields, body, depth + 1, collect)}
                except _Bad as bad:
                    bad.path.append(vname)
                    raise
    return x


def _at(schema: ir.Schema, t: ir.Type, x: Any, depth: int, segment: str | int | tuple[str], collect: bool) -> Any:
    try:
        return _from(schema, t, x, depth, collect)
    except _Bad as bad:
        bad.path.append(segment)
        raise


def _fields(schema: ir.Schema, fields: tuple[ir.Field, ...], x: dict[str, Any], depth: int,
            collect: bool) -> dict[str, Any]:
    types = {f.name: f.type for f in fields}
    return {k: (_at(schema, types[k], v, depth, k, collect) if k in types else v) for k, v in x.items()}


def _hash(x: Any) -> bytes:
    if not isinstance(x, str) or not _HEX64.match(x):
        raise _Bad(f"Expected `hash` as 64 lowercase hex digits, got {_shown(x)}")
    return bytes.fromhex(x)


def _int_key(key: str) -> int:
    if not _DECIMAL.match(key):
        raise _Bad(f"Expected an integer map key as a decimal string (no `+`, leading zeros or `-0`), got "
                   f"{json.dumps(key)}")
    return int(key)


def _base64(x: Any) -> bytes:
    if isinstance(x, str):
        try:
            raw = base64.b64decode(x, validate=True)
        except (binascii.Error, ValueError):
            raw = None
        if raw is not None and base64.b64encode(raw).decode("ascii") == x:
            return raw
    raise _Bad(f"Expected `bytes` as standard padded base64, got {_shown(x)}")


def _parse_time(x: Any) -> int:
    """Integer nanoseconds since the epoch of an RFC 3339 time (``Z`` or an offset of -23:59..+23:59; up to 9
    fraction digits). A leap second (``:60``) is refused: FSV counts POSIX seconds, which have none."""
    m = _RFC3339.match(x) if isinstance(x, str) else None
    if m is None:
        raise _Bad(f"{_TIME_EXPECTED}, got {_shown(x)}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction = int((m.group(7) or "").ljust(9, "0"))
    offset = _dt.timedelta(0)
    if m.group(9):
        hours, minutes = int(m.group(10)), int(m.group(11))
        if hours > 23 or minutes > 59:
            which = "hours must be 00-23" if hours > 23 else "minutes must be 00-59"
            raise _Bad(f"{_TIME_EXPECTED}, got {_shown(x)} (offset {which})")
        offset = _dt.timedelta(hours=hours, minutes=minutes)
        if m.group(9) == "-":
            offset = -offset
    if second == 60:
        raise _Bad(f"{_TIME_EXPECTED}, got {_shown(x)} (leap seconds are not representable)")
    try:
        local = _dt.datetime(year, month, day, hour, minute, second)
    except ValueError as err:
        raise _Bad(f"{_TIME_EXPECTED}, got {_shown(x)} ({err})") from None
    delta = local - _EPOCH.replace(tzinfo=None) - offset  # in this order: a timedelta cannot leave datetime's range
    return delta_ns(delta) + fraction


_TIME_EXPECTED = "Expected `time` as RFC 3339 (`2026-11-22T00:46:54Z`)"

_LEAF: dict[Kind, Callable[[Any], Any]] = {Kind.BYTES: _base64, Kind.HASH: _hash, Kind.TIME: _parse_time}
"""The kinds whose JSON spelling is rewritten, and how (each raises ``_Bad`` for a wrong spelling)."""


def format_time(value: Any) -> str:
    """RFC 3339 in UTC with ``Z`` of a time (integer ns or aware datetime); a fraction of 3, 6 or 9 digits if non-zero.

    >>> format_time(1_500_000_000)
    '1970-01-01T00:00:01.500Z'
    """
    seconds, fraction = divmod(time_to_ns(value), _NS)
    d = _EPOCH + _dt.timedelta(seconds=seconds)
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    if fraction:
        digits = f"{fraction:09d}"
        text += "." + (digits[:3] if digits.endswith("000000") else digits[:6] if digits.endswith("000") else digits)
    return text + "Z"


def _shown(x: Any) -> str:
    if isinstance(x, str):
        text = json.dumps(x)
        return text if len(text) <= 40 else text[:37] + '..."'
    return f"`{type(x).__name__ if x is not None else 'null'}`"


# ---------------------------------------------------------------------------------------------------------------
# Python form -> JSON form


def to_json(schema: Checked, name: str, value: Any) -> Any:
    """The JSON form (plain dicts, lists, str, int, float, bool, None) of a value of ``name``; validates first.

    >>> to_json(s, "Event", {"at": 1795305600500000000})   # doctest: +SKIP
    {'at': '2026-11-22T00:00:00.500Z'}
    """
    schema.validate(name, value)
    return _to(schema.ir, ir.Named(name), value)


def _to(schema: ir.Schema, t: ir.Type, x: Any) -> Any:
    return _TO[decl_kind(schema, t)](schema, t, x)


def _to_optional(schema: ir.Schema, t: Any, x: Any) -> Any:
    return None if x is None else _to(schema, t.inner, x)


def _to_map(schema: ir.Schema, t: Any, x: Any) -> Any:
    if kind_of(t.key) is Kind.NAMED:
        enum = schema[t.key.name]
        assert isinstance(enum, ir.Enum)
        order = {m.name: i for i, m in enumerate(enum.members)}
        return {k: _to(schema, t.value, x[k]) for k in sorted(x, key=order.__getitem__)}
    return {str(k): _to(schema, t.value, x[k]) for k in sorted(x)}


def _to_shape(schema: ir.Schema, t: Any, x: Any) -> Any:
    decl = schema[t.name]
    assert isinstance(decl, ir.Shape)
    return {f.name: _to(schema, f.type, x.get(f.name)) for f in decl.fields}


def _to_union(schema: ir.Schema, t: Any, x: Any) -> Any:
    decl = schema[t.name]
    assert isinstance(decl, ir.Union_)
    ((vname, body),) = x.items()
    variant = next(v for v in decl.variants if v.name == vname)
    return {vname: {f.name: _to(schema, f.type, body.get(f.name)) for f in variant.fields}}


def _same3(schema: ir.Schema, t: Any, x: Any) -> Any:
    return x


# Handlers take the type as Any: each is reached only for its kind (the table is the type test).
_TO: dict[Kind, Callable[[ir.Schema, Any, Any], Any]] = {
    Kind.OPTIONAL: _to_optional,
    Kind.BYTES: lambda schema, t, x: base64.b64encode(x).decode("ascii"),
    Kind.HASH: lambda schema, t, x: bytes(x).hex(),
    Kind.TIME: lambda schema, t, x: format_time(x),
    Kind.FLOAT: lambda schema, t, x: float(x) + 0.0,
    Kind.ARRAY: lambda schema, t, x: [_to(schema, t.item, v) for v in x],
    Kind.MAP: _to_map,
    Kind.SHAPE: _to_shape,
    Kind.UNION: _to_union,
    Kind.ENUM: _same3,
    Kind.BOOL: _same3,
    Kind.INT: _same3,
    Kind.STR: _same3,
    Kind.REF: _same3,
}
