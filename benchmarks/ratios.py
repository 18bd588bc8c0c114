"""Benchmark, per-round ratios (issue 18): small and typed values against msgspec ``array_like`` -> a Markdown table.

    python -m benchmarks.ratios [--rounds 25] [--sizes 8 512]

Each round times ours and the peer back to back (``calls`` calls each, CPU time), so both share the machine's
load of that moment; the figure is the median of the per-round ratios. Peers (``benchmarks/bench_msgspec.py``):
``Decoder(ForgePlan).decode`` of the positional bytes (decode of dicts and of generated classes, verify),
``Encoder.encode`` of the decoded ``array_like`` Structs (encode of generated objects: same positional bytes,
not validating), ``convert`` + ``encode`` (encode of dicts), ``convert`` (validate). The strict canonical check is
on in every figure of ours.

A second table gives the memory peak of each decode as a multiple of its input (ours: the FSV bytes; the peer's:
its msgpack bytes), measured with ``tracemalloc`` in a separate pass after the timed rounds (tracing slows every
allocation, so it never runs while timing): the most memory traced at once during one call, the result
included.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack

import fsf
from benchmarks import bench_msgspec as ms
from benchmarks import workload

CLOCK = time.process_time


def _generated(schema: fsf.Schema) -> Any:
    path = Path(tempfile.mkdtemp()) / "forge_plan_ratios.py"
    path.write_text(fsf.codegen(schema, "python"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def cases(size: int) -> dict[str, tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """operation -> (peer, ours, peer's call) on the ``size``-task plan."""
    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    gen = _generated(schema)
    value = workload.forge_plan(size)
    floor = msgpack.packb(workload.positional(schema.ir, "ForgePlan", value))
    data = schema.encode("ForgePlan", value)
    objs = schema.decode(data, "ForgePlan", into=gen)
    structs = ms._DECODER.decode(floor)
    assert schema.encode("ForgePlan", objs) == data and ms._ENCODER.encode(structs) == floor
    decode_ms = "msgspec `Decoder(ForgePlan).decode`"
    return {
        "decode dicts": (decode_ms, lambda: schema.decode(data, "ForgePlan"), lambda: ms._DECODER.decode(floor)),
        "decode into generated classes": (decode_ms, lambda: schema.decode(data, "ForgePlan", into=gen),
                                          lambda: ms._DECODER.decode(floor)),
        "encode generated objects": ("msgspec `encode(struct)`", lambda: schema.encode("ForgePlan", objs),
                                     lambda: ms._ENCODER.encode(structs)),
        "encode dicts": ("msgspec convert + encode", lambda: schema.encode("ForgePlan", value),
                         lambda: ms._encode(value)),
        "verify": (decode_ms, lambda: schema.verify(data), lambda: ms._DECODER.decode(floor)),
        "validate": ("msgspec `convert`", lambda: schema.validate("ForgePlan", value), lambda: ms._convert(value)),
        "decode dicts (floor)": ("`msgpack.unpackb`", lambda: schema.decode(data, "ForgePlan"),
                                 lambda: msgpack.unpackb(floor)),
    }


DECODES = ("decode dicts", "decode into generated classes")
"""The operations whose memory peak is reported."""


def memory(size: int) -> list[tuple[str, str, float, float]]:
    """(operation, peer, our peak, the peer's peak) per decode, each peak a multiple of its input's length."""
    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    value = workload.forge_plan(size)
    data = schema.encode("ForgePlan", value)
    floor = msgpack.packb(workload.positional(schema.ir, "ForgePlan", value))
    out = []
    for op, (peer, ours, theirs) in cases(size).items():
        if op in DECODES:
            out.append((op, peer, _peak(ours) / len(data), _peak(theirs) / len(floor)))
    return out


def _peak(call: Callable[[], Any]) -> int:
    """The most bytes traced at once during ``call()`` (warmed up first, so caches built once do not count)."""
    call()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    del result
    return peak


def run(size: int, rounds: int) -> list[tuple[str, str, float, float, float]]:
    """(operation, peer, ours, peer, median ratio) per case; times per call."""
    calls = max(1, 1600 // size)
    out = []
    for op, (peer, ours, theirs) in cases(size).items():
        ratios, mine, peers = [], [], []
        for _ in range(rounds):
            t = CLOCK()
            for _ in range(calls):
                ours()
            a = CLOCK() - t
            t = CLOCK()
            for _ in range(calls):
                theirs()
            b = CLOCK() - t
            ratios.append(a / b)
            mine.append(a / calls)
            peers.append(b / calls)
        out.append((op, peer, statistics.median(mine), statistics.median(peers), statistics.median(ratios)))
    return out


def _us(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us:.3g} µs" if us < 1000 else f"{us / 1000:.3g} ms"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 512])
    args = parser.parse_args(argv)
    print("| operation | tasks | peer | ours | peer time | ratio (median per round) |")
    print("|---|---:|---|---:|---:|---:|")
    for size in args.sizes:
        for op, peer, mine, theirs, ratio in run(size, args.rounds):
            print(f"| {op} | {size} | {peer} | {_us(mine)} | {_us(theirs)} | {ratio:.2f}× |")
    print()
    print("| decode | tasks | peer | ours: peak ÷ input | peer: peak ÷ input |")
    print("|---|---:|---|---:|---:|")
    for size in args.sizes:
        for op, peer, mine_peak, their_peak in memory(size):
            print(f"| {op} | {size} | {peer} | {mine_peak:.1f}× | {their_peak:.1f}× |")


if __name__ == "__main__":
    main()
