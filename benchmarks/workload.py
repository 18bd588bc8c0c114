"""Benchmark workload: (seed, size) -> ForgePlan values, the every-construct value, and their positional forms.

Every value here is a plain Python value in the form ``Schema.validate`` and ``Schema.encode`` take (dicts with
field names, lists, enum member names, ``{"Variant": {...}}`` unions, ``bytes``, aware ``datetime``, ``blake3:``
refs). :func:`positional` turns one into the positional lists that FSV puts on the wire, which is what the raw
msgpack floor and msgspec ``array_like`` structs pack. Everything is seeded: the same seed gives the same values
on any machine and any Python, so every contender and every run measures the same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
from pathlib import Path
from typing import Any

import msgpack

from fsf import ir, load_schema

SEED = 20261122
SIZES = (8, 64, 512)
"""Task counts of the ForgePlan workloads (512 is the schema's bound and the size the targets are quoted at)."""
SCALE_BYTES = 50 * 1024 * 1024
"""Size of the scaling value, measured as its msgpack payload."""

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FORGE_PLAN_FSF = ROOT / "shapes" / "forge-plan.fsf"
EVERY_FSF = HERE / "every.fsf"
SCALE_FSF = HERE / "scale.fsf"

_WORDS = (
    "manifest kernel worker resonance inference crate refactor wasm native bridge cache shard quota ledger audit "
    "signal vortex maelstrom schema codec stream buffer index planner batch worktree migrate struct validate render "
    "template provenance digest canonical encoder decoder session dispatch runtime adapter registry journal replay "
    "snapshot tensor gradient scheduler barrier channel socket handshake retry backoff timeout budget policy token "
    "parser lexer grammar checker compiler bytecode opcode fixture harness golden vector fuzz mutation hostile "
    "bounded nested optional union variant record positional header payload trailer checksum façade naïve résumé "
    "coördinate — über"
).split()
_STATUSES = ("pending", "in_progress", "done", "blocked", "review")
_CATEGORIES = ("implementation", "test", "docs", "refactor", "research", "infra")
_STRATEGIES = ("sequential", "parallel")
_TOP = ("crates", "src", "packages", "services", "tools", "docs")
_EXT = (".rs", ".py", ".ts", ".toml", ".md", ".json", ".fsf")


def forge_plan(tasks: int, seed: int = SEED) -> dict[str, Any]:
    """A ForgePlan with ``tasks`` tasks: about tasks/4 batches, 0–4 dependencies and 1–8 files per task.

    >>> plan = forge_plan(8)
    >>> len(plan["tasks"]), len(plan["batches"])
    (8, 2)
    """
    rng = random.Random(f"forge-plan/{seed}/{tasks}")
    ids = [f"T{i + 1}" for i in range(tasks)]
    plan_tasks = []
    for i, task_id in enumerate(ids):
        deps = rng.sample(ids[:i], min(i, rng.randint(0, 4)))
        plan_tasks.append({
            "id": task_id,
            "title": _phrase(rng, 3, 7).title(),
            "status": rng.choice(_STATUSES),
            "category": rng.choice(_CATEGORIES),
            "dependsOn": deps,
            "files": [_path(rng) for _ in range(rng.randint(1, 8))],
            "description": _text(rng, 200),
        })
    n_batches = max(1, tasks // 4)
    per = -(-tasks // n_batches)
    batches = [
        {
            "id": f"B{j + 1}",
            "taskIds": ids[j * per:(j + 1) * per],
            "strategy": rng.choice(_STRATEGIES),
            "worktreeRef": f"refs/worktrees/b{j + 1}-{rng.getrandbits(32):08x}",
        }
        for j in range(n_batches)
    ]
    return {
        "sessionId": f"sess-{rng.getrandbits(128):032x}",
        "title": _phrase(rng, 4, 9).capitalize(),
        "tasks": plan_tasks,
        "batches": batches,
    }


def forge_archive(target_bytes: int = SCALE_BYTES, seed: int = SEED) -> dict[str, Any]:
    """A ForgeArchive (``benchmarks/scale.fsf``) whose msgpack payload is at least ``target_bytes``.

    Sixteen distinct 512-task plans are repeated (as the same objects) until the size is reached; decoding
    still builds every object anew, so decode time and memory are those of a value of that size.
    """
    schema = load_schema(FORGE_PLAN_FSF).ir
    distinct = [forge_plan(512, seed + k) for k in range(16)]
    sizes = [len(msgpack.packb(positional(schema, "ForgePlan", p))) for p in distinct]
    plans: list[dict[str, Any]] = []
    total = 0
    while total < target_bytes:
        k = len(plans) % len(distinct)
        plans.append(distinct[k])
        total += sizes[k]
    return {"plans": plans}


def every_value(seed: int = SEED, events: int = 128) -> dict[str, Any]:
    """A value of ``Every`` (``benchmarks/every.fsf``) that uses each construct, ``events`` union values long."""
    rng = random.Random(f"every/{seed}/{events}")
    return {
        "flag": rng.random() < 0.5,
        "tiny": rng.randint(-128, 127),
        "small": rng.randint(-(1 << 15), (1 << 15) - 1),
        "medium": rng.randint(-(1 << 31), (1 << 31) - 1),
        "large": rng.randint(-(1 << 63), (1 << 63) - 1),
        "octet": rng.randint(0, 200),
        "port": rng.randint(0, 65535),
        "count": rng.randint(0, (1 << 32) - 1),
        "total": rng.randint(0, (1 << 64) - 1),
        "ratio": _f32(rng.uniform(-1e6, 1e6)),
        "amount": rng.uniform(-1e6, 1e6),
        "name": _phrase(rng, 2, 4)[:64],
        "note": _text(rng, 80) if rng.random() < 0.5 else None,
        "blob": rng.randbytes(rng.randint(0, 1024)),
        "digest": rng.randbytes(32),
        "at": _time(rng),
        "previous": _ref(rng),
        "tags": [rng.choice(_WORDS)[:24] for _ in range(rng.randint(0, 16))],
        "byName": {f"{rng.choice(_WORDS)}-{i}": rng.randint(-(1 << 31), (1 << 31) - 1) for i in range(16)},
        "byCode": {rng.randint(0, 65535): _phrase(rng, 1, 3) for _ in range(16)},
        "byLevel": {level: rng.random() for level in ("low", "high")},
        "events": [_event(rng) for _ in range(events)],
        "tree": _node(rng, 3),
    }


def positional(schema: ir.Schema, name: str, value: Any) -> Any:
    """``value`` of type ``name`` in the positional form FSV puts on the wire (before msgpack).

    Shapes become arrays of their fields in declaration order (an absent optional is None), enums their member
    index, unions ``[variant index, *fields]``, time integer nanoseconds, refs and hashes 32 raw bytes, and map
    keys come in sorted order.
    """
    return _pos(schema, ir.Named(name), value)


# -- helpers -----------------------------------------------------------------------------------------------------


def _pos(schema: ir.Schema, t: ir.Type, v: Any) -> Any:
    if isinstance(t, ir.Optional):
        return None if v is None else _pos(schema, t.inner, v)
    if isinstance(t, ir.Array):
        return [_pos(schema, t.item, x) for x in v]
    if isinstance(t, ir.Map):
        pairs = sorted((_pos(schema, t.key, k), _pos(schema, t.value, x)) for k, x in v.items())
        return dict(pairs)
    if isinstance(t, ir.Time):
        return _nanos(v)
    if isinstance(t, ir.Ref):
        return bytes.fromhex(v.removeprefix("blake3:"))
    if not isinstance(t, ir.Named):
        return v
    decl = schema[t.name]
    if isinstance(decl, ir.Enum):
        return [m.name for m in decl.members].index(v)
    if isinstance(decl, ir.Shape):
        return [_pos(schema, f.type, v.get(f.name)) for f in decl.fields]
    ((tag, fields),) = v.items()
    index = [x.name for x in decl.variants].index(tag)
    variant = decl.variants[index]
    return [index, *(_pos(schema, f.type, fields.get(f.name)) for f in variant.fields)]


def _nanos(v: Any) -> int:
    if isinstance(v, int):
        return int(v)
    delta: dt.timedelta = v - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _phrase(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(lo, hi)))


def _text(rng: random.Random, about: int) -> str:
    """Sentences of random words, about ``about`` characters (± 10%)."""
    target = rng.randint(about * 9 // 10, about * 11 // 10)
    out: list[str] = []
    length = 0
    while length < target:
        sentence = _phrase(rng, 5, 12).capitalize() + "."
        out.append(sentence)
        length += len(sentence) + 1
    return " ".join(out)[:target].rstrip()


def _path(rng: random.Random) -> str:
    parts = [rng.choice(_TOP), rng.choice(_WORDS), *(rng.choice(_WORDS) for _ in range(rng.randint(0, 2)))]
    return "/".join(p.replace(" ", "-") for p in parts) + f"/{rng.choice(_WORDS)}_{rng.choice(_WORDS)}" + rng.choice(
        _EXT)


def _f32(x: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def _time(rng: random.Random) -> dt.datetime:
    micros = rng.randint(1_600_000_000_000_000, 1_900_000_000_000_000)
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)


def _ref(rng: random.Random) -> str:
    return f"blake3:{rng.getrandbits(256):064x}"


def _event(rng: random.Random) -> dict[str, Any]:
    kind = rng.randrange(3)
    if kind == 0:
        return {"Idle": {}}
    if kind == 1:
        return {"Tick": {"at": _time(rng), "seq": rng.randint(0, (1 << 32) - 1)}}
    score = _f32(rng.uniform(-1, 1)) if rng.random() < 0.5 else None
    return {"Note": {"text": _text(rng, 60), "level": rng.choice(("low", "mid", "high")), "score": score}}


def _node(rng: random.Random, depth: int) -> dict[str, Any]:
    children = [_node(rng, depth - 1) for _ in range(rng.randint(1, 4))] if depth > 0 else []
    return {
        "label": _phrase(rng, 1, 2)[:32],
        "weight": rng.random(),
        "children": children,
        "origin": _ref(rng) if rng.random() < 0.3 else None,
    }
