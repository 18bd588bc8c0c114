"""Fuzz: mutated FSV bytes and hostile values -> the native decoder and encoder vs the reference reader and writer.

A standalone driver, not a test (pytest does not collect it): it runs for a time budget and stops at the first
disagreement with a reproducer (schema, type name, bytes in hex or the value)::

    python -m tests.fsv.fuzz_native --seconds 60 --seed 1
    python -m tests.fsv.fuzz_native --max-inputs 2000 --schemas hostile,every   # a fixed amount of work
    python -m tests.fsv.fuzz_native --encode off --last-input /tmp/last.txt    # bytes only; keep the input of a crash
    python -m tests.fsv.fuzz_native --atheris --seconds 60                     # coverage-guided (pip install atheris)

Schemas: the hostile schema of ``tests/fsv/test_codec_hostile.py``, ``tests/vectors/every.fsf``,
``shapes/forge-plan.fsf``, the schemas of the committed vectors, and random schemas drawn (seeded) from
``tests/support/strategies.py``. Seeds: valid values of every named type (``strategies.values``), encoded; the committed
vectors; the hostile payloads. Each input is a seed changed by ``_mutate`` (the suite's mutator), a truncation,
random payload bytes, or structure-aware mutations on the msgpack items: wider heads (``cc 05`` for ``05``,
``d9 01 61`` for ``a1 61``), huge or off-by-one counts and lengths, float width swaps, NaN, infinity and
``-0.0``, boundary integers, deleted, duplicated, swapped and type-confused items, deep nesting. The header is
never changed, so the native decoder and its check-only mode ``Program.check`` (when the module has it), called
directly on the payload (``fsf.errors.Refused`` = refused), and ``codec.decode(..., path="reference")`` (``DecodeError``
= refused) judge the same payload. Any other exception
from either, a different verdict, a different value (``repr``), or an accepted value that does not re-encode
to the same bytes is a failure: exit 1. Inputs are placed so that their last byte is the last readable byte
before a ``PROT_NONE`` page, so a read past the end crashes even without a sanitizer.

A quarter of the inputs are values for the encoder (unless ``--encode off``): valid values and near misses
(``strategies.near_misses``), and values with one spot made a subclass of its type; ``codec.encode`` on the
default path (native encoder first) must give the reference path's bytes or its exact ``ValidationError``, and
the native encoder called alone (when ``Program.encode(value, root, prefix)`` exists) the same bytes or a
``fsf.errors.Refused``. With ``--encode all`` (the default) some values also carry a dict key whose ``__eq__`` empties a
container of the value while it is being encoded; there only a crash or a ``SystemError`` counts. Some values are
objects of the classes generated from their schema (``fsf codegen --target python``, one module per schema), as
they are, or with one spot changed (``tests/fsv/test_codec_objects.py``'s near misses: an attribute deleted or
set to a wrong, lenient or other-form value, an object of a subclass or another class); ``Schema.encode`` must
give the bytes or the exact error (or ``AttributeError``) of the reference walk's Python form on the reference
path, and the native encoder called alone with the module's classes (``Program.encode(value, root, prefix,
classes)``) the same bytes or a ``fsf.errors.Refused``.
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import importlib
import json
import mmap
import random
import struct
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.codegen import objects
from fsf.errors import Refused
from fsf.fsv import codec, native
from tests.fsv.test_codec_hostile import HOSTILE, HOSTILE_SCHEMA, _mutate
from tests.fsv.test_codec_objects import _near_miss
from tests.support.strategies import near_misses, schema_texts, values

P = codec.HEADER_SIZE
ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
GROUPS = ("hostile", "every", "forge-plan", "vectors", "random")


# ---------------------------------------------------------------------------------------------------------------
# Targets: one named type of one schema, with the valid encodings that seed its mutations


class Target:
    def __init__(self, group: str, source: str, s: fsf.Schema, name: str) -> None:
        self.group, self.source, self.schema, self.name = group, source, s, name
        program = s.codec.native
        if program is None:
            raise SystemExit("fuzz_native: the native decoder is not available (not built, or FSF_NO_NATIVE=1)")
        self.program = program
        self.node = s.codec.nodes[name]
        self.header = codec.pack_header(s.id_bytes(name))
        self.seeds: list[bytes] = []  # payloads (without the header)
        self.values: list[Any] = []  # valid values, and values with one spot changed (for the encoder)
        self.encoder: Any = None  # the native encoder, when the module has one with the known signature
        self.checker: Any = getattr(program, "check", None)  # the check-only reader (decode that builds nothing)
        self.accepted = self.refused = 0
        self.canonical: list[Any] = []  # the valid values in the canonical form (decoded), made objects
        self.module: Any = None  # the schema's generated classes (see generated_modules)


def _draws(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """Up to ``count`` examples of ``strategy``, the same ones for the same seed (no shrinking, no database)."""
    out: list[Any] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=count, database=None, deadline=None, phases=[hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(strategy)
    def collect(x: Any) -> None:
        out.append(x)

    collect()
    return out


def _add_values(t: Target, count: int, seed: int) -> None:
    for value in _draws(values(t.schema.ir, t.name), count, seed):
        try:
            data = t.schema.encode(t.name, value)
        except fsf.FsfError:  # a strategy value the encoder refuses would be a bug elsewhere; not ours to judge
            continue
        t.seeds.append(data[P:])
        t.values.append(value)
        t.canonical.append(t.schema.decode(data))
    t.values.extend(_draws(values(t.schema.ir, t.name).flatmap(near_misses), max(count // 2, 1), seed))
    encode = getattr(t.program, "encode", None)
    if encode is not None and t.seeds:  # Program.encode(value, root, prefix), if that is still its signature
        try:
            if encode(t.values[0], t.node, t.header) == t.header + t.seeds[0]:
                t.encoder = encode
        except (TypeError, Refused):
            pass


def build_targets(groups: set[str], seed: int, per_type: int, random_schemas: int) -> list[Target]:
    targets: list[Target] = []

    def named(group: str, source: str, s: fsf.Schema) -> list[Target]:
        made = [Target(group, source, s, decl.name) for decl in s.ir.decls]
        targets.extend(made)
        return made

    if "hostile" in groups:
        s = fsf.compile_source(HOSTILE_SCHEMA, "hostile.fsf")
        for t in named("hostile", HOSTILE_SCHEMA, s):
            _add_values(t, per_type, seed)
            t.seeds.extend(bytes.fromhex(p) for _, name, p, _, _ in HOSTILE if name == t.name and len(p) < 3000)
    for group, path in (("every", VECTORS / "every.fsf"), ("forge-plan", ROOT / "shapes" / "forge-plan.fsf")):
        if group in groups:
            for t in named(group, f"(file {path.relative_to(ROOT)})", fsf.load_schema(path)):
                _add_values(t, per_type, seed)
    if "vectors" in groups:
        doc = json.loads((VECTORS / "fsv-vectors.json").read_text("utf-8"))
        by_type: dict[tuple[str, str], Target] = {}
        for key, text in doc["schemas"].items():
            for t in named("vectors", text, fsf.compile_source(text, f"{key}.fsf")):
                by_type[key, t.name] = t
        for case in doc["valid"] + doc["reject"]:
            t = by_type[case["schema"], case["type"]]
            data = bytes.fromhex(case["fsv"])
            if data[:P] == t.header and len(data) < 3000:
                t.seeds.append(data[P:])
    if "random" in groups:
        for i, text in enumerate(_draws(schema_texts(), random_schemas, seed)):
            t = Target("random", text, fsf.compile_source(text, f"random{i}.fsf"), "Root")
            t.group = f"random{i}"
            _add_values(t, per_type, seed + i)
            targets.append(t)
    for t in targets:
        if not t.seeds:
            t.seeds.append(b"")
    generated_modules(targets)
    return targets


def generated_modules(targets: list[Target]) -> None:
    """Each schema's classes (``fsf codegen --target python``), one module per schema, kept in ``sys.modules``
    for the run (the native encoder binds the module that defined an object's class)."""
    made: dict[int, Any] = {}
    for t in targets:
        module = made.get(id(t.schema.ir))
        if module is None:
            name = f"fuzz_native_gen{len(made)}"
            module = type(sys)(name)
            sys.modules[name] = module
            exec(compile(fsf.codegen(t.schema, "python"), f"<{name}>", "exec"), module.__dict__)
            made[id(t.schema.ir)] = module
        t.module = module


# ---------------------------------------------------------------------------------------------------------------
# msgpack items: a flat walk that knows where every item starts and ends, and its parent


class Item:
    __slots__ = ("count", "end", "head", "kind", "parent", "start")

    def __init__(self, start: int, head: int, kind: str, count: int, parent: int) -> None:
        self.start, self.head, self.kind, self.count, self.parent = start, head, kind, count, parent
        self.end = -1


_FIXED = {0xC0: ("nil", 1), 0xC2: ("bool", 1), 0xC3: ("bool", 1), 0xCA: ("f32", 5), 0xCB: ("f64", 9),
          0xCC: ("int", 2), 0xCD: ("int", 3), 0xCE: ("int", 5), 0xCF: ("int", 9), 0xD0: ("int", 2),
          0xD1: ("int", 3), 0xD2: ("int", 5), 0xD3: ("int", 9), 0xD4: ("ext", 3), 0xD5: ("ext", 4),
          0xD6: ("ext", 6), 0xD7: ("ext", 10), 0xD8: ("ext", 18)}
_SIZED = {0xC4: ("bin", 1), 0xC5: ("bin", 2), 0xC6: ("bin", 4), 0xC7: ("ext", 1), 0xC8: ("ext", 2),
          0xC9: ("ext", 4), 0xD9: ("str", 1), 0xDA: ("str", 2), 0xDB: ("str", 4), 0xDC: ("arr", 2),
          0xDD: ("arr", 4), 0xDE: ("map", 2), 0xDF: ("map", 4)}


def _head(b: bytes, i: int) -> tuple[str, int, int] | None:
    """(kind, head length, count or byte length) of the item at ``i``, or None if it is cut off or ``c1``."""
    h = b[i]
    if h <= 0x7F or h >= 0xE0:
        return "int", 1, 0
    if h <= 0x8F:
        return "map", 1, h & 15
    if h <= 0x9F:
        return "arr", 1, h & 15
    if h <= 0xBF:
        return "str", 1, h & 31
    if h in _FIXED:
        kind, size = _FIXED[h]
        return (kind, size, 0) if i + size <= len(b) else None
    if h in _SIZED:
        kind, width = _SIZED[h]
        if i + 1 + width > len(b):
            return None
        n = int.from_bytes(b[i + 1 : i + 1 + width], "big")
        return kind, 1 + width + (kind == "ext"), n
    return None


def items(b: bytes) -> list[Item]:
    """The msgpack items of ``b`` in order (parents before children; ``parent`` is an index into the list); the
    walk stops at the first bad head."""
    out: list[Item] = []
    stack: list[list[int]] = []  # [item index, children still to come]
    i = 0
    while i < len(b):
        parsed = _head(b, i)
        if parsed is None:
            break
        kind, head, n = parsed
        item = Item(i, head, kind, n, stack[-1][0] if stack else -1)
        out.append(item)
        if kind in ("str", "bin", "ext"):
            if i + head + n > len(b):
                out.pop()
                break
            i += head + n
        else:
            i += head
        children = n * (2 if kind == "map" else 1) if kind in ("arr", "map") else 0
        if children:
            stack.append([len(out) - 1, children])
            continue
        item.end = i
        while stack:  # close every container this item completes
            stack[-1][1] -= 1
            if stack[-1][1]:
                break
            out[stack.pop()[0]].end = i
    return out  # an item cut off by the end of ``b`` keeps end -1


def int_bytes(v: int) -> bytes:
    """The canonical msgpack integer (any value in -2**63 .. 2**64-1)."""
    if 0 <= v <= 0x7F or -32 <= v < 0:
        return struct.pack(">b" if v < 0 else ">B", v)
    for lo, hi, head, fmt in ((0, 0xFF, 0xCC, ">B"), (0, 0xFFFF, 0xCD, ">H"), (0, 0xFFFFFFFF, 0xCE, ">I"),
                              (0, 2**64 - 1, 0xCF, ">Q"), (-128, -1, 0xD0, ">b"), (-(2**15), -1, 0xD1, ">h"),
                              (-(2**31), -1, 0xD2, ">i"), (-(2**63), -1, 0xD3, ">q")):
        if lo <= v <= hi:
            return bytes([head]) + struct.pack(fmt, v)
    raise ValueError(v)


def _any_int_heads(v: int) -> list[bytes]:
    """Every msgpack spelling of integer ``v`` (canonical or not)."""
    out = [int_bytes(v)]
    for head, fmt in ((0xCC, ">B"), (0xCD, ">H"), (0xCE, ">I"), (0xCF, ">Q"), (0xD0, ">b"), (0xD1, ">h"),
                      (0xD2, ">i"), (0xD3, ">q")):
        try:
            out.append(bytes([head]) + struct.pack(fmt, v))
        except struct.error:
            pass
    return out


def _count_head(kind: str, n: int, width: int) -> bytes:
    """A head of ``kind`` for count/length ``n``: ``width`` 0 = fix form, 1/2/4 = the 8/16/32 forms."""
    fix = {"arr": 0x90, "map": 0x80, "str": 0xA0}
    heads = {"arr": {2: 0xDC, 4: 0xDD}, "map": {2: 0xDE, 4: 0xDF}, "str": {1: 0xD9, 2: 0xDA, 4: 0xDB},
             "bin": {1: 0xC4, 2: 0xC5, 4: 0xC6}}
    if width == 0:
        return bytes([fix[kind] | n])
    return bytes([heads[kind][width]]) + n.to_bytes(width, "big")


def canonical_count_head(kind: str, n: int) -> bytes:
    limit = {"arr": 15, "map": 15, "str": 31}.get(kind, -1)
    if n <= limit:
        return _count_head(kind, n, 0)
    for width in (1, 2, 4):
        if (kind, width) not in (("arr", 1), ("map", 1)) and n < 256**width:
            return _count_head(kind, n, width)
    raise ValueError(n)


_BOUNDARY_INTS = (0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1,
                  2**63, 2**64 - 1, -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63), 2, 3,
                  4, 5, 6, 15, 16, 17)
_FLOATS64 = ("7ff8000000000000", "7ff0000000000000", "fff0000000000000", "8000000000000000", "0000000000000000",
             "0000000000000001", "3ff0000000000000", "bff0000000000000", "4000000000000000", "7fefffffffffffff",
             "3fefffffffffffff", "3ff0000000000001", "7ff0000000000001", "fff8000000000001")
_FLOATS32 = ("7fc00000", "7f800000", "ff800000", "80000000", "00000000", "00000001", "3f800000", "bf800000",
             "40000000", "7f7fffff", "7f800001", "ffc00001", "3f7fffff", "3f800001")
_JUNK_ITEMS = ("c0", "c1", "c2", "c3", "90", "80", "a0", "c4 00", "d4 00 00", "c7 00 01", "ca 00 00 00 00",
               "cb 00 00 00 00 00 00 00 00", "91 c0", "81 a0 c0", "dd ff ff ff ff", "df ff ff ff ff",
               "db ff ff ff ff", "c6 ff ff ff ff", "dc ff ff", "de ff ff", "da ff ff", "c5 ff ff", "ff", "7f",
               "cf ff ff ff ff ff ff ff ff", "d3 80 00 00 00 00 00 00 00", "a1 ff", "a3 ed a0 80", "a2 c0 af",
               "a4 f4 90 80 80", "a3 ef bf bf", "a1 00")


def structural(rng: random.Random, b: bytes, donors: list[bytes]) -> bytes:
    """One structure-aware change to payload ``b`` (``b`` itself if it has no usable item)."""
    its = items(b)
    complete = [y for y in its if y.end >= 0]
    if not complete:
        return b
    x = rng.choice(complete)
    before, after = b[: x.start], b[x.end :]
    body = b[x.start + x.head : x.end]
    op = rng.randrange(12)
    if op == 0 and x.kind == "int":  # another head for the same integer (mostly non-canonical)
        v = _int_value(b, x)
        return before + rng.choice(_any_int_heads(v)) + after
    widths = {"arr": (0, 2, 4), "map": (0, 2, 4), "str": (0, 1, 2, 4), "bin": (1, 2, 4)}.get(x.kind, ())
    if op == 1 and widths:  # a wider head for the same count or length
        width = rng.choice([w for w in widths if w])
        if x.count < 256**width:
            return before + _count_head(x.kind, x.count, width) + body + after
        return b
    if op == 2 and widths:  # a count or length that lies
        n = rng.choice((x.count + 1, max(x.count - 1, 0), 0xFFFF, 0xFFFFFFFF, 0x10000, 2**31, 255, 256, 16, 15,
                        rng.randrange(2**32)))
        width = rng.choice(widths)
        if width == 0 and n > (31 if x.kind == "str" else 15):
            width = 4
        return before + _count_head(x.kind, n % 256**width if width else n, width) + body + after
    if op == 3 and x.kind in ("f32", "f64"):  # the other width, or a special bit pattern
        body = b[x.start + 1 : x.end]
        if rng.random() < 0.5:
            if x.kind == "f64":
                (d,) = struct.unpack(">d", body)
                try:
                    return before + b"\xca" + struct.pack(">f", d) + after
                except OverflowError:
                    return b
            (f,) = struct.unpack(">f", body)
            return before + b"\xcb" + struct.pack(">d", f) + after
        if x.kind == "f64":
            return before + b"\xcb" + bytes.fromhex(rng.choice(_FLOATS64)) + after
        return before + b"\xca" + bytes.fromhex(rng.choice(_FLOATS32)) + after
    if op == 4 and x.kind == "int":  # a boundary integer, canonically written
        v = rng.choice(_BOUNDARY_INTS)
        if rng.random() < 0.3:
            v = _int_value(b, x) + rng.choice((-1, 1))
        return before + int_bytes(min(max(v, -(2**63)), 2**64 - 1)) + after
    if op == 5:  # junk in place of the item
        return before + bytes.fromhex(rng.choice(_JUNK_ITEMS)) + after
    if op == 6:  # another item of this payload or of a donor (type confusion, or a valid value elsewhere)
        donor = rng.choice([b, *donors]) if donors else b
        other = items(donor)
        if other:
            y = rng.choice(other)
            return before + donor[y.start : y.end] + after
        return b
    if op == 7:  # deep nesting around the item
        depth = rng.choice((1, 2, 31, 32, 63, 64, 65, 100))
        return before + b"\x91" * depth + b[x.start : x.end] + after
    parent = its[x.parent] if x.parent >= 0 else None
    if parent is None or parent.end < 0:
        return b
    siblings = [y for y in complete if y.parent == x.parent]
    k = siblings.index(x)
    step = 2 if parent.kind == "map" else 1
    k -= k % step  # a map entry starts at its key
    entry = siblings[k : k + step]
    if len(entry) < step:
        return b
    start, end = entry[0].start, entry[-1].end
    phead = b[parent.start : parent.start + parent.head]
    rest = b[parent.start + parent.head : start]
    if op == 8:  # delete the entry, counted
        new_head = canonical_count_head(parent.kind, parent.count - 1)
        return b[: parent.start] + new_head + rest + b[end:]
    if op == 9:  # duplicate the entry, counted (a duplicate map key)
        new_head = canonical_count_head(parent.kind, parent.count + 1)
        return b[: parent.start] + new_head + rest + b[start:end] + b[start:]
    if op == 10:  # duplicate the entry, not counted
        return b[:end] + b[start:end] + b[end:]
    # swap the entry with the next one (map keys out of order, fields swapped)
    nxt = siblings[k + step : k + 2 * step]
    if len(nxt) < step:
        return b
    return b[: parent.start] + phead + rest + b[nxt[0].start : nxt[-1].end] + b[start:end] + b[nxt[-1].end :]


def _int_value(b: bytes, x: Item) -> int:
    h = b[x.start]
    if h <= 0x7F:
        return h
    if h >= 0xE0:
        return h - 256
    fmt = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q"}[h]
    (v,) = struct.unpack(fmt, b[x.start + 1 : x.end])
    return int(v)


_INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0x81, 0x8F, 0x90, 0x91, 0x9F, 0xA0, 0xA1, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3,
                0xC4, 0xC5, 0xC6, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF, 0xD0, 0xD3, 0xD4, 0xD9, 0xDA, 0xDB, 0xDC,
                0xDD, 0xDE, 0xDF, 0xE0, 0xFF, 0xED, 0xF4)


def random_payload(rng: random.Random) -> bytes:
    n = rng.choice((0, 1, 2, 3, 5, 8, 13, 24, 48))
    return bytes(rng.choice(_INTERESTING) if rng.random() < 0.6 else rng.randrange(256) for _ in range(n))


def mutated(rng: random.Random, t: Target, donors: list[bytes]) -> tuple[str, bytes]:
    """(how, payload): one input for target ``t``."""
    seed = rng.choice(t.seeds)
    r = rng.random()
    if r < 0.30:
        data = _mutate(rng, t.header + seed)
        return "mutate", data[P:] if data[:P] == t.header else seed[: rng.randrange(len(seed) + 1)]
    if r < 0.40:
        return "truncate", seed[: rng.randrange(len(seed) + 1)]
    if r < 0.50:
        return "random", random_payload(rng)
    if r < 0.60 and donors:
        return "splice", seed[: rng.randrange(len(seed) + 1)] + (d := rng.choice(donors))[rng.randrange(len(d) + 1):]
    b = seed
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        b = structural(rng, b, donors)
    if rng.random() < 0.15:
        b = _mutate(rng, t.header + b)[P:]
    return "structural", b


# ---------------------------------------------------------------------------------------------------------------
# The check


class LastInput:
    """A file mapped into memory that holds the text of the input being judged: it survives a crash."""

    SIZE = 1 << 20

    def __init__(self, path: Path) -> None:
        with path.open("w+b") as f:
            f.truncate(self.SIZE)
            self.map = mmap.mmap(f.fileno(), self.SIZE)
        self.used = 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8", "backslashreplace")[: self.SIZE]
        self.map[: len(data)] = data
        if len(data) < self.used:  # the rest of the previous input: zeros (the file is read up to them)
            self.map[len(data) : self.used] = bytes(self.used - len(data))
        self.used = len(data)


class GuardedBuffer:
    """Memory whose last readable byte sits right before a ``PROT_NONE`` page: reads past an input crash."""

    def __init__(self, capacity: int = 1 << 20) -> None:
        self.ok = False
        page = mmap.PAGESIZE
        self.capacity = (capacity + page - 1) // page * page
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.mmap.restype = ctypes.c_void_p
            libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_long)
            libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
            base = libc.mmap(None, self.capacity + page, mmap.PROT_READ | mmap.PROT_WRITE,
                             mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
            if base in (None, ctypes.c_void_p(-1).value):
                return
            if libc.mprotect(base + self.capacity, page, 0) != 0:
                return
        except (OSError, AttributeError):
            return
        self.end = base + self.capacity
        self.ok = True

    def place(self, data: bytes) -> Any:
        """``data`` as a buffer ending at the guard page (or ``data`` itself when it does not fit)."""
        if not self.ok or not data or len(data) > self.capacity:
            return data
        at = self.end - len(data)
        ctypes.memmove(at, data, len(data))
        return (ctypes.c_char * len(data)).from_address(at)


class Disagreement(Exception):
    pass


def check(t: Target, payload: bytes, guard: GuardedBuffer) -> str:
    """Judge ``payload`` both ways; 'ok' or 'refused', or raise Disagreement with the details."""
    data = t.header + payload
    try:
        got: tuple[str, Any] = ("ok", t.program.decode(guard.place(data), P, t.node))
    except Refused:
        got = ("refused", None)
    except BaseException as error:
        raise Disagreement(f"native raised {type(error).__name__}: {error}\n{traceback.format_exc()}") from None
    try:
        want: tuple[str, Any] = ("ok", codec.decode(t.schema, data, t.name, path="reference"))
    except fsf.DecodeError as error:
        want = ("refused", f"{error.code}: {error}")
    except BaseException as error:
        raise Disagreement(f"reference raised {type(error).__name__}: {error}\n{traceback.format_exc()}") from None
    if got[0] != want[0]:
        raise Disagreement(f"native {got[0]} ({got[1]!r:.300}), reference {want[0]} ({want[1]!s:.300})")
    if t.checker is not None:
        try:
            checked = "ok" if t.checker(guard.place(data), P, t.node) is None else "returned something"
        except Refused:
            checked = "refused"
        except BaseException as error:
            raise Disagreement(f"native check raised {type(error).__name__}: {error}\n{traceback.format_exc()}"
                               ) from None
        if checked != want[0]:
            raise Disagreement(f"native check {checked}, reference {want[0]} ({want[1]!s:.300})")
    if got[0] == "ok":
        if repr(got[1]) != repr(want[1]):
            raise Disagreement(f"values differ:\n  native    {got[1]!r:.2000}\n  reference {want[1]!r:.2000}")
        try:
            again = t.schema.encode(t.name, got[1])
        except BaseException as error:
            raise Disagreement(f"accepted value does not encode: {type(error).__name__}: {error}") from None
        if again != data:
            raise Disagreement(f"accepted value re-encodes differently: {again[P:].hex()}")
    return got[0]


def _encode_outcome(t: Target, value: Any, path: str | None) -> tuple[str, Any]:
    try:
        return "ok", codec.encode(t.schema, t.name, value, path=path)
    except fsf.ValidationError as error:
        return "refused", str(error)
    except BaseException as error:
        raise Disagreement(f"encode (paths {codec.codec_for(t.schema, path).paths}) raised {type(error).__name__}: {error}\n"
                           f"{traceback.format_exc()}") from None


def check_encode(t: Target, value: Any) -> str:
    """The default path (native encoder first) and the native encoder alone write the reference's bytes, or
    refuse what it refuses (with the same message, through ``codec.encode``)."""
    want = _encode_outcome(t, value, "reference")
    got = _encode_outcome(t, value, None)
    if got != want:
        raise Disagreement(f"encode: default path {got!r:.500}, reference {want!r:.500}")
    if t.encoder is not None:
        try:
            direct = t.encoder(value, t.node, t.header)
        except Refused:
            return want[0]
        except BaseException as error:
            raise Disagreement(f"native encoder raised {type(error).__name__}: {error}") from None
        if direct != want[1]:
            raise Disagreement(f"native encoder wrote {direct.hex()}, reference {want!r:.500}")
    return want[0]


def _objects_outcome(t: Target, obj: Any, reference: bool) -> tuple[str, Any]:
    try:
        if reference:
            form = objects._to(t.schema.object_plan, ir.Named(t.name), obj, 0)
            return "ok", t.schema.using("reference").encode(t.name, form)
        return "ok", t.schema.encode(t.name, obj)
    except fsf.ValidationError as error:
        return "refused", str(error)
    except AttributeError as error:  # an attribute the object lacks: the conversion raises it on every path
        return "attribute", str(error)
    except BaseException as error:
        raise Disagreement(f"encode of objects raised {type(error).__name__}: {error}\n{traceback.format_exc()}"
                           ) from None


def check_objects(t: Target, obj: Any) -> str:
    """Objects: ``Schema.encode`` gives the reference's bytes or error; the native encoder alone, with the
    module's classes, the same bytes or a refusal."""
    want = _objects_outcome(t, obj, True)
    got = _objects_outcome(t, obj, False)
    if got != want:
        raise Disagreement(f"encode of objects: default path {got!r:.500}, reference {want!r:.500}")
    classes = objects.bind_classes(t.schema.object_plan, t.module, t.program)
    if classes is None:
        raise Disagreement("the generated classes are not bound to the native program")
    try:
        direct = t.program.encode(obj, t.node, t.header, classes)
    except Refused:
        return "objects " + want[0]
    except BaseException as error:
        raise Disagreement(f"native encoder (objects) raised {type(error).__name__}: {error}") from None
    if ("ok", direct) != want:
        raise Disagreement(f"native encoder (objects) wrote {direct.hex()}, reference {want!r:.500}")
    return "objects " + want[0]


def as_objects(rng: random.Random, t: Target) -> Any:
    """A canonical value of ``t`` as objects of its module's classes, as it is or with one spot changed."""
    obj = objects._From(t.schema.object_plan, t.module).convert(ir.Named(t.name), rng.choice(t.canonical))
    if rng.random() < 0.75:
        _near_miss(rng, obj, t.module, t.schema)
    return obj


class _Int(int):
    pass


class _Float(float):
    pass


class _Str(str):
    pass


class _Bytes(bytes):
    pass


class _List(list):  # type: ignore[type-arg]
    pass


class _Dict(dict):  # type: ignore[type-arg]
    pass


_SUBCLASS = {int: _Int, float: _Float, str: _Str, bytes: _Bytes, list: _List, dict: _Dict}


class _ClearingKey(str):
    """A str key whose first comparison (a dict lookup of an equal key) empties a container of the value: code
    that keeps borrowed references across a lookup then reads freed memory."""

    __hash__ = str.__hash__
    victim: Any = None

    def __eq__(self, other: object) -> bool:
        victim, self.victim = self.victim, None
        if victim is not None:
            victim.clear()
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)


def _spots(value: Any) -> list[tuple[Any, list[Any]]]:
    """Every list and dict of ``value`` with its enclosing containers."""
    out: list[tuple[Any, list[Any]]] = []
    stack: list[tuple[Any, list[Any]]] = [(value, [])]
    while stack:
        v, above = stack.pop()
        if type(v) in (list, dict):
            out.append((v, above))
            stack.extend((x, [*above, v]) for x in (v.values() if type(v) is dict else v))
    return out


def tricky(rng: random.Random, value: Any, hostile: bool) -> tuple[str, Any]:
    """(kind, value): ``value`` (deep-copied) with one spot made a subclass of its type, or one dict key made a
    ``_ClearingKey`` (kind 'hostile': the paths may then see different values; only crashes count)."""
    value = copy.deepcopy(value)
    spots = _spots(value)
    if not spots:
        return "subclass", _SUBCLASS.get(type(value), lambda x: x)(value)
    container, above = rng.choice(spots)
    if hostile and type(container) is dict and container:
        key = rng.choice([k for k in container])
        if type(key) is str:
            entries = list(container.items())
            container.clear()
            for k, v in entries:
                container[_ClearingKey(k) if k == key else k] = v
            new = next(k for k in container if k == key and type(k) is _ClearingKey)
            new.victim = rng.choice([*above, container])
            return "hostile", value
    keys = list(container) if type(container) is dict else list(range(len(container)))
    if not keys:
        return "subclass", value
    k = rng.choice(keys)
    make = _SUBCLASS.get(type(container[k]))
    if make is not None:
        container[k] = make(container[k])
    return "subclass", value


def check_hostile(t: Target, value: Any) -> str:
    """Values whose own code mutates them during encoding: no crash, no SystemError (a C API misuse)."""
    try:
        if t.encoder is not None:
            t.encoder(value, t.node, t.header)
        else:
            codec.encode(t.schema, t.name, value)
    except SystemError as error:
        raise Disagreement(f"SystemError: {error}\n{traceback.format_exc()}") from None
    except Exception:
        return "refused"
    return "ok"


def _show(value: Any, depth: int = 0) -> str:
    """``repr(value)``, but generated objects are shown field by field, an attribute they lack as ``<unset>``
    (their own ``__repr__`` would raise), and containers deeper than 80 (a near miss may put an object inside
    itself) as ``...``."""
    cls = type(value)
    if depth > 80 and (cls in (list, tuple, dict) or hasattr(cls, "FSF_ID")):
        return "..."
    if hasattr(cls, "__attrs_attrs__") and hasattr(cls, "FSF_ID"):
        fields = ", ".join(f"{f.name}={_show(getattr(value, f.name, _UNSET), depth + 1)}" for f in cls.__attrs_attrs__)
        return f"{cls.__name__}({fields})"
    if cls is list or cls is tuple:
        inner = ", ".join(_show(x, depth + 1) for x in value)
        return f"[{inner}]" if cls is list else f"({inner}{',' if len(value) == 1 else ''})"
    if cls is dict:
        return "{" + ", ".join(f"{_show(k, depth + 1)}: {_show(v, depth + 1)}" for k, v in value.items()) + "}"
    return repr(value)


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET = _Unset()


def report(t: Target, how: str, payload: bytes, why: str) -> None:
    print("\nDISAGREEMENT between the native decoder and the reference reader", file=sys.stderr)
    print(f"  what:    {why}", file=sys.stderr)
    print(f"  input:   {how} mutation", file=sys.stderr)
    print(f"  type:    {t.name}", file=sys.stderr)
    print(f"  payload: {payload.hex(' ')}", file=sys.stderr)
    print(f"  fsv:     {(t.header + payload).hex()}", file=sys.stderr)
    print(f"  schema:\n{t.source}", file=sys.stderr)


def report_value(t: Target, how: str, value: Any, why: str) -> None:
    print("\nDISAGREEMENT on encoding (native encoder vs reference)", file=sys.stderr)
    print(f"  what:    {why}", file=sys.stderr)
    print(f"  input:   {how} value", file=sys.stderr)
    print(f"  type:    {t.name}", file=sys.stderr)
    print(f"  value:   {_show(value):.3000}", file=sys.stderr)
    print(f"  schema:\n{t.source}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------------------------
# Drivers


def run_random(targets: list[Target], seconds: float, seed: int, max_inputs: int | None,
               encoding: tuple[str, ...], last_input: Path | None) -> int:
    rng = random.Random(seed)
    guard = GuardedBuffer()
    donors_of: dict[str, list[bytes]] = {}
    for t in targets:
        donors_of.setdefault(t.group, []).extend(t.seeds)
    start = time.monotonic()
    inputs = 0
    hows: dict[str, int] = {}
    encodes: dict[str, int] = {}
    note = LastInput(last_input) if last_input else None
    while (max_inputs is None or inputs < max_inputs) and time.monotonic() - start < seconds:
        t = rng.choice(targets)
        if encoding and t.values and rng.random() < 0.25:
            value = rng.choice(t.values)
            how = rng.choice(encoding)
            if how == "objects":
                if not t.canonical:
                    continue
                value = as_objects(rng, t)
            elif how != "encode":
                how, value = tricky(rng, value, how == "hostile")
            if note:
                note.write(f"input {inputs}: {how} value of {t.name}\n{_show(value)}\nschema:\n{t.source}\n")
            try:
                verdict = {"hostile": check_hostile, "objects": check_objects}.get(how, check_encode)(t, value)
            except Disagreement as error:
                report_value(t, how, value, str(error))
                return 1
            inputs += 1
            hows[how] = hows.get(how, 0) + 1
            encodes[verdict] = encodes.get(verdict, 0) + 1
            continue
        how, payload = mutated(rng, t, donors_of[t.group])
        if note:
            note.write(f"input {inputs}: {how} bytes of {t.name}\nfsv: {(t.header + payload).hex()}\n"
                       f"payload: {payload.hex(' ')}\nschema:\n{t.source}\n")
        try:
            verdict = check(t, payload, guard)
        except Disagreement as error:
            report(t, how, payload, str(error))
            return 1
        inputs += 1
        hows[how] = hows.get(how, 0) + 1
        if verdict == "ok":
            t.accepted += 1
        else:
            t.refused += 1
    elapsed = time.monotonic() - start
    summary(targets, inputs, elapsed, guard)
    print("inputs by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(hows.items())))
    print("encoder inputs: " + ", ".join(f"{k} {v}" for k, v in sorted(encodes.items())) + "; native encoder "
          + ("called directly too" if any(t.encoder for t in targets) else "not found (codec.encode only)"))
    return 0


def summary(targets: list[Target], inputs: int, elapsed: float, guard: GuardedBuffer) -> None:
    groups: dict[str, list[int]] = {}
    for t in targets:
        key = "random" if t.group.startswith("random") else t.group
        g = groups.setdefault(key, [0, 0, 0, 0])
        g[0] += 1
        g[1] += len(t.seeds)
        g[2] += t.accepted
        g[3] += t.refused
    print(f"native module: {native._native.__file__}")
    print(f"guard page: {'on' if guard.ok else 'off'}")
    for key, (types, seeds, accepted, refused) in groups.items():
        print(f"{key:>11}: {types:3d} types, {seeds:5d} seeds, {accepted:8d} accepted, {refused:8d} refused")
    print(f"{inputs} inputs in {elapsed:.1f} s ({inputs / max(elapsed, 1e-9):.0f}/s), no disagreement")


def run_atheris(targets: list[Target], argv: list[str], seconds: float, seed: int) -> int:
    try:
        atheris: Any = importlib.import_module("atheris")  # a test-only tool, not a dependency
    except ImportError:
        print("fuzz_native: --atheris needs `pip install atheris` (a test-only tool)", file=sys.stderr)
        return 2
    guard = GuardedBuffer()

    def one(raw: bytes) -> None:
        if len(raw) < 2:
            return
        t = targets[int.from_bytes(raw[:2], "big") % len(targets)]
        try:
            check(t, raw[2:], guard)
        except Disagreement as error:
            report(t, "atheris", raw[2:], str(error))
            raise

    # Coverage of the Python code (the reference reader's branches follow the format's rules); the C module is
    # only covered if it was built with clang's -fsanitize=fuzzer-no-link.
    atheris.instrument_all()
    if not any(not a.startswith("-") for a in argv):  # no corpus folder given: start from the seeds
        corpus = Path(tempfile.mkdtemp(prefix="fsf-fuzz-corpus-"))
        for i, t in enumerate(targets):
            for j, payload in enumerate(t.seeds):
                (corpus / f"{i}-{j}").write_bytes(i.to_bytes(2, "big") + payload)
        argv = [*argv, str(corpus)]
    atheris.Setup([sys.argv[0], f"-max_total_time={max(int(seconds), 1)}", f"-seed={seed}", *argv], one)
    atheris.Fuzz()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget of the fuzz loop (default 60)")
    parser.add_argument("--seed", type=int, default=1, help="seed of everything drawn (default 1)")
    parser.add_argument("--max-inputs", type=int, default=None, help="stop after this many inputs")
    parser.add_argument("--schemas", default=",".join(GROUPS), help=f"comma-separated subset of {GROUPS}")
    parser.add_argument("--values", type=int, default=12, help="valid values drawn per named type (default 12)")
    parser.add_argument("--random-schemas", type=int, default=40, help="random schemas drawn (default 40)")
    parser.add_argument("--encode", choices=("all", "plain", "off"), default="all",
                        help="values for the encoder too: all (default), plain (no self-mutating values), off")
    parser.add_argument("--last-input", type=Path, default=None,
                        help="keep the input being judged in this file (it survives a crash: the reproducer)")
    parser.add_argument("--atheris", action="store_true",
                        help="coverage-guided with atheris (pip install atheris); other arguments go to libFuzzer")
    args, rest = parser.parse_known_args(argv)
    if rest and not args.atheris:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    groups = set(args.schemas.split(","))
    if not groups <= set(GROUPS):
        parser.error(f"--schemas: choose among {GROUPS}")
    if not native.AVAILABLE:
        print("fuzz_native: the native decoder is not built, or FSF_NO_NATIVE=1", file=sys.stderr)
        return 2
    began = time.monotonic()
    targets = build_targets(groups, args.seed, args.values, args.random_schemas)
    print(f"{len(targets)} types, {sum(len(t.seeds) for t in targets)} seeds, "
          f"built in {time.monotonic() - began:.1f} s (seed {args.seed})")
    if args.atheris:
        return run_atheris(targets, rest, args.seconds, args.seed)
    kinds = {"all": ("encode", "encode", "subclass", "hostile", "objects", "objects"),
             "plain": ("encode", "encode", "subclass", "objects", "objects"), "off": ()}[args.encode]
    return run_random(targets, args.seconds, args.seed, args.max_inputs, kinds, args.last_input)


if __name__ == "__main__":
    sys.exit(main())
