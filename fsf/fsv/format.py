"""Format: the facts of the FSV byte format -> one table, read by the reference reader and writer and, as the
generated C header ``fsf/fsv/_format.h``, by the C codec.

The facts, each stated here once: every msgpack head byte (or range of them) with its family, the size of the
field after it and its canonical range (the values only this head may carry: a wider head for a value a
narrower one holds is ``non_canonical``), the container header (magic, format version, sizes), the kinds of the
C codec's node table (``fsf/fsv/native.py``) and the text prefix of a hash or ref. ``python -m fsf.fsv.format``
prints the C header; ``tests/fsv/test_format_table.py`` fails when the committed one is stale.
"""

from __future__ import annotations

import datetime as _dt
import enum
import sys

import attrs

from fsf.ir.ids import ID_PREFIX
from fsf.limits import MAX_DEPTH, MAX_DEPTH_LIMIT

MAGIC = b"\x89FSV"
"""The first four bytes of every FSV value (0x89 catches 7-bit transports, as in PNG)."""
FORMAT_VERSION = 1
ID_DIGEST_SIZE = 32
"""The BLAKE3 digest of a type id, as the header holds it; also the size of a ``hash`` and of a ``ref<T>``."""
HEADER_SIZE = len(MAGIC) + 1 + ID_DIGEST_SIZE
"""Magic, one version byte, the 32-byte id digest of the root type."""
REF_PREFIX = ID_PREFIX
"""A ``ref<T>`` reads as this prefix + 64 lowercase hex digits (:data:`fsf.ir.ids.ID_PREFIX`)."""

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
"""A ``time`` is integer nanoseconds since this instant (signed 64-bit on the wire)."""
NS_PER_SECOND = 1_000_000_000


def delta_ns(delta: _dt.timedelta) -> int:
    """The exact nanoseconds of a timedelta (integers all the way: no float on the way)."""
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000


def time_ns(value: _dt.datetime | int) -> int:
    """Nanoseconds since the Unix epoch of a ``time`` value: an aware datetime, or integer nanoseconds as they are.

    >>> time_ns(_dt.datetime(1970, 1, 1, 0, 0, 1, 500, tzinfo=_dt.timezone.utc))
    1000500000
    """
    if isinstance(value, _dt.datetime):
        return delta_ns(value - EPOCH)
    return int(value)


class Family(enum.IntEnum):
    """What a msgpack head introduces. The reader's messages name them by :data:`FAMILY_NAMES`."""

    INT = 0
    NIL = 1
    BOOL = 2
    F32 = 3
    F64 = 4
    STR = 5
    BIN = 6
    ARRAY = 7
    MAP = 8
    EXT = 9


FAMILY_NAMES = ("int", "nil", "bool", "float 32", "float 64", "str", "bin", "array", "map", "ext")


@attrs.frozen
class Head:
    """One msgpack head: the byte ``first`` (to ``last`` for the fix forms, whose value is in the byte itself).

    ``size`` is the number of bytes of the big-endian field after the head byte (the value of an int, the length
    of a str or bin, the count of an array or map, the bits of a float, the length of an ext; 0 when there is
    none). ``lo``..``hi`` is the canonical range of the head's argument (the value, length or count), None for
    the heads that carry none (floats, ext, nil): the smallest values this width may carry up to the largest
    it can. A fix form's argument is ``lo + (byte - first)``."""

    name: str
    first: int
    last: int
    family: Family
    size: int
    signed: bool = False
    lo: int | None = None
    hi: int | None = None



def _u(bits: int) -> int:
    return (1 << bits) - 1


HEADS: tuple[Head, ...] = (
    Head("positive_fixint", 0x00, 0x7F, Family.INT, 0, lo=0, hi=0x7F),
    Head("fixmap", 0x80, 0x8F, Family.MAP, 0, lo=0, hi=15),
    Head("fixarray", 0x90, 0x9F, Family.ARRAY, 0, lo=0, hi=15),
    Head("fixstr", 0xA0, 0xBF, Family.STR, 0, lo=0, hi=31),
    Head("nil", 0xC0, 0xC0, Family.NIL, 0),
    Head("false", 0xC2, 0xC2, Family.BOOL, 0, lo=0, hi=0),
    Head("true", 0xC3, 0xC3, Family.BOOL, 0, lo=1, hi=1),
    Head("bin8", 0xC4, 0xC4, Family.BIN, 1, lo=0, hi=_u(8)),
    Head("bin16", 0xC5, 0xC5, Family.BIN, 2, lo=1 << 8, hi=_u(16)),
    Head("bin32", 0xC6, 0xC6, Family.BIN, 4, lo=1 << 16, hi=_u(32)),
    Head("ext8", 0xC7, 0xC7, Family.EXT, 1),
    Head("ext16", 0xC8, 0xC8, Family.EXT, 2),
    Head("ext32", 0xC9, 0xC9, Family.EXT, 4),
    Head("float32", 0xCA, 0xCA, Family.F32, 4),
    Head("float64", 0xCB, 0xCB, Family.F64, 8),
    Head("uint8", 0xCC, 0xCC, Family.INT, 1, lo=0x80, hi=_u(8)),
    Head("uint16", 0xCD, 0xCD, Family.INT, 2, lo=1 << 8, hi=_u(16)),
    Head("uint32", 0xCE, 0xCE, Family.INT, 4, lo=1 << 16, hi=_u(32)),
    Head("uint64", 0xCF, 0xCF, Family.INT, 8, lo=1 << 32, hi=_u(64)),
    # Signed heads carry only what no unsigned head or negative fixint holds: negatives below the narrower one.
    Head("int8", 0xD0, 0xD0, Family.INT, 1, signed=True, lo=-(1 << 7), hi=-33),
    Head("int16", 0xD1, 0xD1, Family.INT, 2, signed=True, lo=-(1 << 15), hi=-(1 << 7) - 1),
    Head("int32", 0xD2, 0xD2, Family.INT, 4, signed=True, lo=-(1 << 31), hi=-(1 << 15) - 1),
    Head("int64", 0xD3, 0xD3, Family.INT, 8, signed=True, lo=-(1 << 63), hi=-(1 << 31) - 1),
    Head("fixext1", 0xD4, 0xD4, Family.EXT, 0),
    Head("fixext2", 0xD5, 0xD5, Family.EXT, 0),
    Head("fixext4", 0xD6, 0xD6, Family.EXT, 0),
    Head("fixext8", 0xD7, 0xD7, Family.EXT, 0),
    Head("fixext16", 0xD8, 0xD8, Family.EXT, 0),
    Head("str8", 0xD9, 0xD9, Family.STR, 1, lo=32, hi=_u(8)),
    Head("str16", 0xDA, 0xDA, Family.STR, 2, lo=1 << 8, hi=_u(16)),
    Head("str32", 0xDB, 0xDB, Family.STR, 4, lo=1 << 16, hi=_u(32)),
    Head("array16", 0xDC, 0xDC, Family.ARRAY, 2, lo=16, hi=_u(16)),
    Head("array32", 0xDD, 0xDD, Family.ARRAY, 4, lo=1 << 16, hi=_u(32)),
    Head("map16", 0xDE, 0xDE, Family.MAP, 2, lo=16, hi=_u(16)),
    Head("map32", 0xDF, 0xDF, Family.MAP, 4, lo=1 << 16, hi=_u(32)),
    Head("negative_fixint", 0xE0, 0xFF, Family.INT, 0, lo=-32, hi=-1),
)
"""Every msgpack head, in byte order. ``c1`` is the one byte msgpack never uses."""

RESERVED = 0xC1
"""The byte msgpack reserves: never valid."""

HEAD_OF: tuple[Head | None, ...] = tuple(
    next((h for h in HEADS if h.first <= b <= h.last), None) for b in range(256))
"""The head of each of the 256 bytes (None: :data:`RESERVED`)."""

BY_NAME: dict[str, Head] = {h.name: h for h in HEADS}


def widths(family: Family, negative: bool = False) -> tuple[Head, ...]:
    """The heads of ``family`` that carry an argument, narrowest first (ints: the non-negative or the negative
    ones). Their canonical ranges follow each other without gap or overlap, so the one canonical head of a value
    is the first whose range holds it."""
    heads = [h for h in HEADS if h.family is family and h.lo is not None
             and (family is not Family.INT or (h.hi is not None and h.hi < 0) == negative)]
    return tuple(sorted(heads, key=lambda h: (h.size, abs(h.lo or 0))))


class NodeKind(enum.IntEnum):
    """The kinds of the C codec's node table (``fsf/fsv/native.py`` describes each node)."""

    BOOL = 0
    INT = 1
    FLOAT = 2
    STR = 3
    BYTES = 4
    REF = 5
    OPT = 6
    ARR = 7
    MAP = 8
    SHAPE = 9
    ENUM = 10
    UNION = 11
    TIME = 12


# -- the C header ------------------------------------------------------------------------------------------------


def _c_int(v: int) -> str:
    # INT64_MIN has no literal of its own in C: write it as an expression.
    if v == -(1 << 63):
        return "(-0x7fffffffffffffffLL - 1)"
    if v < 0:
        return f"(-{-v:#x}LL)"
    return f"{v:#x}ULL" if v > 0x7FFFFFFF else f"{v:#x}"


def c_header() -> str:
    """The text of ``fsf/fsv/_format.h``: this table as C defines (``python -m fsf.fsv.format`` prints it)."""
    out = [
        "/* Generated by `python -m fsf.fsv.format > fsf/fsv/_format.h` from fsf/fsv/format.py: do not edit.",
        " * tests/fsv/test_format_table.py fails when this file is stale (FSF_UPDATE_GOLDEN=1 rewrites it). */",
        "#ifndef FSF_FORMAT_H",
        "#define FSF_FORMAT_H",
        "",
        "/* The container header. */",
        "#define FSF_MAGIC \"" + "".join(f"\\x{b:02x}" for b in MAGIC) + "\"",
        f"#define FSF_MAGIC_SIZE {len(MAGIC)}",
        f"#define FSF_FORMAT_VERSION {FORMAT_VERSION}",
        f"#define FSF_ID_DIGEST_SIZE {ID_DIGEST_SIZE}",
        f"#define FSF_HEADER_SIZE {HEADER_SIZE}",
        "",
        "/* A ref<T> as text: the prefix, then 64 lowercase hex digits. */",
        f"#define FSF_REF_PREFIX \"{REF_PREFIX}\"",
        f"#define FSF_REF_PREFIX_SIZE {len(REF_PREFIX)}",
        "",
        "/* The nesting limit (fsf.limits): Program takes max_depth from Python, within 1..FSF_MAX_DEPTH_LIMIT. */",
        f"#define FSF_MAX_DEPTH {MAX_DEPTH}",
        f"#define FSF_MAX_DEPTH_LIMIT {MAX_DEPTH_LIMIT}",
        "",
        "/* msgpack heads: the byte (FIRST..LAST for a fix form), and the canonical range LO..HI of its argument. */",
    ]
    for h in HEADS:
        name = f"FSF_{h.name.upper()}"
        if h.last != h.first:
            out.append(f"#define {name}_FIRST {h.first:#04x}")
            out.append(f"#define {name}_LAST {h.last:#04x}")
        else:
            out.append(f"#define {name} {h.first:#04x}")
        if h.lo is not None and h.hi is not None:
            out.append(f"#define {name}_LO {_c_int(h.lo)}")
            out.append(f"#define {name}_HI {_c_int(h.hi)}")
    out += ["", "/* The node kinds of the node table (fsf.fsv.format.NodeKind). */", "enum {"]
    out += [f"    FSF_NODE_{k.name} = {k.value}," for k in NodeKind]
    out += [f"    FSF_NODE_COUNT = {len(NodeKind)}", "};", "", "#endif", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(c_header())
