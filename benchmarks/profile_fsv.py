"""Benchmark profile: FSV decode + validate and encode of one ForgePlan -> a Markdown summary on stdout.

    python -m benchmarks.profile_fsv [--tasks 512] [--rounds 300]

Two views of the same work. A stage breakdown times each step of the codec's fast path on its own (medians
of interleaved rounds, no profiler overhead), beside the msgpack floor and msgspec. A cProfile run lists the
functions where the time goes (its per-call overhead inflates small Python functions, so read its shares
together with the breakdown). The stages come from ``fsf.fsv.codec``'s own pieces; if those change, this script
says which one it cannot find.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import pstats
import statistics
import time
from collections.abc import Callable
from typing import Any

import msgpack

import fsf
from benchmarks import workload


def _medians(stages: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds of each stage; the stages are interleaved round by round so machine noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(rounds):
        for name, fn in stages.items():
            t = time.process_time()
            fn()
            times[name].append(time.process_time() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}


def breakdown(tasks: int, rounds: int) -> list[str]:
    """The decode and encode of a ``tasks``-task plan, step by step on each path, beside the floor and msgspec.

    The steps are ``fsf.fsv.codec``'s own pieces (the pure path's fused converters, :mod:`fsf.fsv.pure`);
    a piece that does not exist in this version of the codec is left out with the reason.
    """
    import fsf.fsv.codec as codec

    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    name = "ForgePlan"
    value = workload.forge_plan(tasks)
    data = schema.encode(name, value)
    payload = data[codec.HEADER_SIZE:]
    wire = msgpack.unpackb(payload)
    root = schema.id_bytes(name)
    n = len(payload)
    missing: list[str] = []
    stages: dict[str, Callable[[], Any]] = {
        "decode, default path (public API)": lambda: schema.decode(data, name),
        "encode, default path (public API)": lambda: schema.encode(name, value),
        "floor: msgpack.unpackb": lambda: msgpack.unpackb(payload),
        "floor: msgpack.packb": lambda: msgpack.packb(wire),
        "header + concatenate": lambda: codec.pack_header(root) + payload,
        "canonical compare (bytes)": lambda: data.endswith(bytes(payload)),
    }
    try:
        from fsf.fsv import pure

        fused_dec, fused_enc = pure.decoders(schema.ir)[name], pure.encoders(schema.ir)[name]
        stages.update({
            "decode, pure path": lambda: codec.decode(schema, data, name, path="pure"),
            "encode, pure path": lambda: codec.encode(schema, name, value, path="pure"),
            "fused: msgpack.unpackb with the codec's limits": lambda: msgpack.unpackb(
                payload, raw=False, strict_map_key=False, max_str_len=n, max_bin_len=n, max_array_len=n,
                max_map_len=n, max_ext_len=0),
            "fused: wire -> dicts, validating": lambda: fused_dec(wire),
            "fused: re-pack (canonical check)": lambda: msgpack.packb(wire),
            "fused: dicts -> wire, validating": lambda: fused_enc(value),
        })
    except AttributeError as err:
        missing.append(f"fused path: {err}")
    try:
        import msgspec

        from benchmarks.bench_msgspec import KEYED, POSITIONAL

        ms_decoder, ms_encoder = msgspec.msgpack.Decoder(POSITIONAL), msgspec.msgpack.Encoder()
        stages["msgspec decode (array_like)"] = lambda: ms_decoder.decode(payload)
        stages["msgspec convert + encode"] = lambda: ms_encoder.encode(msgspec.convert(value, KEYED))
    except ImportError:
        missing.append("msgspec is not installed")
    m = _medians(stages, rounds)
    msgspec_dec, msgspec_enc = m.get("msgspec decode (array_like)"), m.get("msgspec convert + encode")
    lines = [f"## Stage breakdown ({tasks} tasks, payload {n / 1024:.0f} KiB, {rounds} interleaved rounds, CPU time)",
             "", "| step | median | ÷ msgspec decode | ÷ msgspec convert + encode |", "|---|---:|---:|---:|"]
    for step, t in m.items():
        a = f"{t / msgspec_dec:.2f}×" if msgspec_dec else "–"
        b = f"{t / msgspec_enc:.2f}×" if msgspec_enc else "–"
        lines.append(f"| {step} | {t * 1e6:.0f} µs | {a} | {b} |")
    return [*lines, "", *(f"- not measured: {x}" for x in missing), ""]


def profile(tasks: int, rounds: int, top: int) -> list[str]:
    """cProfile of decode and of encode: the ``top`` functions by own time."""
    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    value = workload.forge_plan(tasks)
    data = schema.encode("ForgePlan", value)
    schema.decode(data, "ForgePlan")
    out = [f"## cProfile ({tasks} tasks, {rounds} calls each)", ""]
    import fsf.fsv.codec as codec

    runs: list[tuple[str, Callable[[], Any]]] = [
        ("decode + validate, default path", lambda: schema.decode(data, "ForgePlan")),
        ("encode, default path", lambda: schema.encode("ForgePlan", value)),
    ]
    if "path" in inspect.signature(codec.decode).parameters:
        runs += [("decode + validate, pure path", lambda: codec.decode(schema, data, "ForgePlan", path="pure")),
                 ("encode, pure path", lambda: codec.encode(schema, "ForgePlan", value, path="pure"))]
    for title, fn in runs:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(rounds):
            fn()
        prof.disable()
        stats = pstats.Stats(prof, stream=io.StringIO())
        entries = stats.stats  # type: ignore[attr-defined]
        total = sum(tt for (_cc, _nc, tt, _ct, _callers) in entries.values())
        rows = sorted(entries.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
        out += [f"### {title}", "", "| function | calls per op | own time share | cumulative share |",
                "|---|---:|---:|---:|"]
        for (filename, line, func), (_cc, nc, tt, ct, _callers) in rows:
            where = f"{filename.rsplit('/', 1)[-1]}:{line}" if line else filename
            out.append(f"| `{func}` ({where}) | {nc / rounds:,.0f} | {tt / total:.1%} | {ct / total:.1%} |")
        out.append("")
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: print the Markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    print("\n".join(breakdown(args.tasks, args.rounds) + profile(args.tasks, max(20, args.rounds // 5), args.top)))


if __name__ == "__main__":
    main()
