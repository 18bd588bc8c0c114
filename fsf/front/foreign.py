"""Foreign type names: a type name from another schema language -> the FSF type to write instead (for hints).

One table, read by the checker (an unknown type such as ``int`` gets ``did you mean `i64`?`` and a hint naming
the FSF type with its range) and by the parser (``optional<str>`` or ``List<Task>``, written where an FSF type
goes, is a syntax error with the same hint). docs/language.md shows the table; a test keeps the two equal.
"""

from __future__ import annotations

import attrs

from fsf import ir


@attrs.frozen
class Foreign:
    """Names other languages give one kind of type (matched case-insensitively), and how FSF writes it.

    ``fsf`` is None for a type FSF has no equivalent of; ``what`` then says what to write instead.
    """

    names: tuple[str, ...]
    fsf: str | None
    what: str

    def label(self) -> str:
        return f"did you mean `{self.fsf}`?" if self.fsf else "no such type in FSF"

    def hint(self, written: str) -> str:
        if self.fsf is None:
            return f"FSF has no `{written}` type: {self.what}"
        return f"`{written}` is written `{self.fsf}` in FSF: {self.what}"


def _integer(kind: str, also: str = "") -> str:
    lo, hi = ir.INT_RANGES[kind]
    signed = "a signed" if kind.startswith("i") else "an unsigned"
    return f"{signed} {kind[1:]}-bit integer, {lo}..{hi}{also}; narrow it with `{kind}[lo..hi]`"


FOREIGN = (
    # `int` is 32 bits in Java, C, Avro and GraphQL but unbounded in Python and JSON Schema: `i64` is the choice
    # that refuses no value the other language accepted (up to 64 bits), and the hint names `i32`.
    Foreign(("int", "integer", "long", "int64", "sint64", "sfixed64", "isize"), "i64",
            _integer("i64", " (a 32-bit `int` of Java, C, Avro or GraphQL is `i32`)")),
    Foreign(("int32", "sint32", "sfixed32"), "i32", _integer("i32")),
    Foreign(("int16", "short"), "i16", _integer("i16")),
    Foreign(("int8", "sbyte"), "i8", _integer("i8")),
    Foreign(("uint", "uint64", "fixed64", "ulong", "usize"), "u64", _integer("u64", " (a 32-bit `uint` is `u32`)")),
    Foreign(("uint32", "fixed32"), "u32", _integer("u32")),
    Foreign(("uint16", "ushort"), "u16", _integer("u16")),
    Foreign(("uint8", "ubyte"), "u8", _integer("u8")),
    Foreign(("float", "float32", "single"), "f32",
            "a finite IEEE 754 binary32 number (a Python `float` is `f64`); bound it with `f32[lo..hi]`"),
    Foreign(("double", "float64", "number"), "f64", "a finite IEEE 754 binary64 number; bound it with `f64[lo..hi]`"),
    Foreign(("string", "text", "varchar"), "str", "Unicode text; bound its length in code points with `str[lo..hi]`"),
    Foreign(("char",), "str[1..1]", "text of exactly one code point"),
    Foreign(("boolean",), "bool", "`true` or `false`"),
    Foreign(("bytearray", "binary", "blob", "buffer"), "bytes", "a byte string; bound its length with `bytes[lo..hi]`"),
    Foreign(("timestamp", "datetime", "date", "instant"), "time",
            "a UTC instant, in nanoseconds since 1970-01-01T00:00:00Z"),
    Foreign(("duration", "timedelta"), "i64", "a count of a fixed unit, such as nanoseconds, in an `i64`"),
    Foreign(("uuid", "guid"), "str[36..36]", "a UUID in its 36-character text form (or its 16 bytes: `bytes[16..16]`)"),
    Foreign(("list", "array", "vector", "vec", "sequence", "seq"), "arr[0..N]<T>",
            "a bounded array of at most N items of type `T`; every array states its bounds"),
    Foreign(("set", "frozenset"), "arr[0..N]<T>",
            "a bounded array of at most N items of type `T` (FSF does not check that they differ)"),
    Foreign(("dict", "map", "hashmap", "dictionary", "record"), "map[0..N]<K, V>",
            "a bounded map of at most N entries from keys `K` (`str`, an integer type or an enum) to values `V`"),
    Foreign(("optional", "option", "maybe", "nullable"), "T?", "a type followed by `?` may be absent, as in `str?`"),
    Foreign(("any", "object", "json", "unknown", "dynamic"), None,
            "describe the value as a `shape` with its fields, or its alternatives as a `union`"),
    Foreign(("null", "none", "nil", "void", "undefined"), None,
            "a value that may be absent is optional (`T?`); a union variant without fields carries no data"),
)

BY_NAME: dict[str, Foreign] = {name: f for f in FOREIGN for name in f.names}
"""Each table entry by every lowercase name it lists."""


def lookup(name: str) -> Foreign | None:
    """The table entry for ``name`` as another schema language spells a type (any case), if any.

    >>> lookup("Int32").fsf
    'i32'
    """
    return BY_NAME.get(name.lower())
