"""Benchmark, per-round ratios (issue 18): small and typed values against msgspec ``array_like`` -> a Markdown table.

    python -m benchmarks.ratios [--quick] [--rounds 25] [--sizes 8 512] [--out benchmarks/RESULTS.md]

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

import attrs
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


def run_size(size: int, rounds: int) -> list[tuple[str, str, float, float, float]]:
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


HEADING = "## Speed, second round"

TARGETS = {("decode into generated classes", 512): 1.3, ("decode into generated classes", 8): 2.0,
           ("encode generated objects", 512): 1.5, ("decode dicts", 8): 1.3, ("decode dicts", 512): 1.1}
"""Issue 18's goals: (operation, tasks) -> the most its median per-round ratio may be."""


@attrs.frozen
class Settings:
    """How long to measure, and which plans."""

    rounds: int = 25
    sizes: tuple[int, ...] = (8, 512)

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3)


Measured = dict[int, tuple[list[tuple[str, str, float, float, float]], list[tuple[str, str, float, float]]]]
"""Per plan size: the per-round ratios of :func:`run_size` and the memory peaks of :func:`memory`."""


def run(settings: Settings) -> Measured:
    """Every operation at every size, then the memory peaks (never while timing)."""
    return {size: (run_size(size, settings.rounds), memory(size)) for size in settings.sizes}


def section(measured: Measured, settings: Settings, command: str) -> list[str]:
    """The "## Speed, second round" section of ``RESULTS.md``: the per-round ratios, the goals of
    :data:`TARGETS` with their verdicts, and the memory peaks."""
    import datetime as dt

    from benchmarks.report import _commit, _machine

    lines = [
        HEADING,
        "",
        "Small and typed values against msgspec `array_like` (`benchmarks/ratios.py`; its docstring says what each",
        "peer does). Ours ÷ peer, both timed back to back in each round (CPU time, `1600 // tasks` calls each),",
        "median of the per-round ratios; the strict canonical check is on in every figure of ours. Where the",
        "remaining time goes: `benchmarks/PROFILE.md`.",
        "",
        f"- Date: {dt.date.today().isoformat()}; commit: {_commit()}",
        f"- Machine: {_machine()}",
        f"- Rounds: {settings.rounds} per operation and size",
        f"- Reproduce: `{command}`",
        "",
        "| operation | tasks | peer | ours | peer | ratio | goal | verdict |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for size, (ratios, _) in measured.items():
        for op, peer, mine, theirs, ratio in ratios:
            goal = TARGETS.get((op, size))
            verdict = "" if goal is None else ("met" if ratio <= goal else "**not met**")
            lines.append(f"| {op} | {size} | {peer} | {_us(mine)} | {_us(theirs)} | {ratio:.2f}× | "
                         f"{'' if goal is None else f'≤ {goal:g}×'} | {verdict} |")
    lines += ["", "Memory peak of each decode, a multiple of its input (a separate `tracemalloc` pass after the timed",
              "rounds; ours over the FSV bytes, msgspec's over its msgpack bytes; the result included):", "",
              "| decode | tasks | peer | ours: peak ÷ input | peer: peak ÷ input |", "|---|---:|---|---:|---:|"]
    for size, (_, peaks) in measured.items():
        for op, peer, mine_peak, their_peak in peaks:
            lines.append(f"| {op} | {size} | {peer} | {mine_peak:.1f}× | {their_peak:.1f}× |")
    return lines


def main(argv: list[str] | None = None) -> None:
    from benchmarks.harness import command_line, section_parser, section_settings, write_section

    parser = section_parser(__doc__, HEADING)
    parser.add_argument("--rounds", type=int, help="timed rounds (default 25)")
    parser.add_argument("--sizes", type=int, nargs="+", help="task counts (default: 8 512)")
    args = parser.parse_args(argv)
    settings = section_settings(args, Settings, ("rounds", "sizes"))
    write_section(section(run(settings), settings, command_line("benchmarks.ratios", argv)), args.out, HEADING)


if __name__ == "__main__":
    main()
