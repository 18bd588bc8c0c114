"""Benchmark profile: FSV decode + validate and encode of one ForgePlan -> a Markdown summary on stdout.

    python -m benchmarks.profile_fsv [--tasks 512] [--rounds 300]

Two views of the same work. A stage breakdown times each step of the codec's fast path on its own (medians
of interleaved rounds, no profiler overhead), beside the msgpack floor and msgspec. A cProfile run lists the
functions where the time goes (its per-call overhead inflates small Python functions, so read its shares
together with the breakdown). The stages come from ``fsf.codec``'s own pieces; if those change, this script
says which one it cannot find.
"""

from __future__ import annotations

import argparse
import cProfile
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


def _table(title: str, medians: dict[str, float], whole: str, parts: list[str], peers: list[str]) -> list[str]:
    total = medians[whole]
    lines = [f"### {title}", "", "| step | median | share of FSV |", "|---|---:|---:|"]
    for name in [whole, *parts]:
        lines.append(f"| {name} | {medians[name] * 1e6:.0f} µs | {medians[name] / total:.0%} |")
    lines.append(f"| (sum of the steps) | {sum(medians[p] for p in parts) * 1e6:.0f} µs | "
                 f"{sum(medians[p] for p in parts) / total:.0%} |")
    for name in peers:
        lines.append(f"| {name} | {medians[name] * 1e6:.0f} µs | {medians[name] / total:.0%} |")
    return [*lines, ""]


def breakdown(tasks: int, rounds: int) -> list[str]:
    """The decode and encode of a ``tasks``-task plan, step by step, beside the floor and msgspec."""
    from fsf.codec import HEADER_SIZE, pack_header, plan_of, read_header

    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    plan_value = workload.forge_plan(tasks)
    data = schema.encode("ForgePlan", plan_value)
    payload = data[HEADER_SIZE:]
    codec = plan_of(schema)
    from_wire, to_wire = codec.from_wire("ForgePlan"), codec.to_wire("ForgePlan")
    wire = msgpack.unpackb(payload)
    value = from_wire(wire, 1)
    root = schema.id_bytes("ForgePlan")
    n = len(payload)
    decode = {
        "FSV decode (whole, public API)": lambda: schema.decode(data, "ForgePlan"),
        "header + slice": lambda: (read_header(data), data[HEADER_SIZE:]),
        "msgpack.unpackb (with the codec's limits)": lambda: msgpack.unpackb(
            payload, raw=False, strict_map_key=False, max_str_len=n, max_bin_len=n, max_array_len=n,
            max_map_len=n, max_ext_len=0),
        "wire -> dicts (Plan.from_wire)": lambda: from_wire(wire, 1),
        "validate (specialised)": lambda: schema.validate("ForgePlan", value),
        "canonical check: re-pack": lambda: msgpack.packb(wire),
        "canonical check: compare": lambda: payload == bytes(payload),
    }
    encode = {
        "FSV encode (whole, public API)": lambda: schema.encode("ForgePlan", plan_value),
        "validate (specialised)": lambda: schema.validate("ForgePlan", plan_value),
        "dicts -> wire (Plan.to_wire)": lambda: to_wire(plan_value),
        "msgpack.packb": lambda: msgpack.packb(wire),
        "header + concatenate": lambda: pack_header(root) + payload,
    }
    peers: dict[str, Callable[[], Any]] = {"floor: msgpack.unpackb": lambda: msgpack.unpackb(payload),
                                           "floor: msgpack.packb": lambda: msgpack.packb(wire)}
    try:
        import msgspec

        from benchmarks.bench_msgspec import KEYED, POSITIONAL

        decoder, encoder = msgspec.msgpack.Decoder(POSITIONAL), msgspec.msgpack.Encoder()
        peers["msgspec decode (array_like)"] = lambda: decoder.decode(payload)
        peers["msgspec convert + encode"] = lambda: encoder.encode(msgspec.convert(plan_value, KEYED))
    except ImportError:
        pass
    medians = _medians({**decode, **{f"enc: {k}": v for k, v in encode.items()}, **peers}, rounds)
    enc = {k.removeprefix("enc: "): v for k, v in medians.items() if k.startswith("enc: ")}
    payload_kib = len(payload) / 1024
    return [
        f"## Stage breakdown ({tasks} tasks, payload {payload_kib:.0f} KiB, {rounds} interleaved rounds)", "",
        *_table("Decode + validate", medians, "FSV decode (whole, public API)", list(decode)[1:],
                [p for p in peers if "unpackb" in p or "decode" in p]),
        *_table("Encode (validating dicts)", {**enc, **medians}, "FSV encode (whole, public API)",
                list(encode)[1:], [p for p in peers if "packb" in p.replace("unpackb", "") or "encode" in p]),
    ]


def profile(tasks: int, rounds: int, top: int) -> list[str]:
    """cProfile of decode and of encode: the ``top`` functions by own time."""
    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    value = workload.forge_plan(tasks)
    data = schema.encode("ForgePlan", value)
    schema.decode(data, "ForgePlan")
    out = [f"## cProfile ({tasks} tasks, {rounds} calls each)", ""]
    for title, fn in (("decode + validate", lambda: schema.decode(data, "ForgePlan")),
                      ("encode", lambda: schema.encode("ForgePlan", value))):
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
