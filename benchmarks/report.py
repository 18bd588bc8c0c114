"""Benchmark report: the pytest-benchmark suite (run now, or its JSON) + a scaling run -> ``benchmarks/RESULTS.md``.

    python -m benchmarks.report                      # run everything (several minutes on 2 busy cores)
    python -m benchmarks.report --json run.json      # tables from an earlier ``--benchmark-json`` run
    python -m benchmarks.report --no-scaling         # skip the 50 MB scaling run

Every FSV figure is quoted as a ratio to msgspec and to the raw msgpack floor measured in the same run; the
machine is shared, so medians and ratios mean something and absolute times only roughly.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from benchmarks import workload

OPS = ("encode", "decode", "decode (no canonical check)", "validate", "verify", "content id", "render")
SIZES = (*(str(n) for n in workload.SIZES), "every")
CONTENDERS = ("fsv", "msgpack", "msgspec", "pydantic", "fastavro", "json")
TOOLING = ("parse+check", "compile", "import+load .fsb")
PACKAGES = ("fsf", "msgpack", "blake3", "lark", "msgspec", "pydantic", "pydantic-core", "fastavro",
            "pytest", "pytest-benchmark")
DEFAULT_OUT = workload.HERE / "RESULTS.md"
SUITE_ARGS = ("--benchmark-min-rounds=25", "--benchmark-max-time=2.0", "--benchmark-warmup=on")


@attrs.frozen
class Result:
    """One benchmark's median (seconds) and how it was measured."""

    op: str
    size: str
    contender: str
    median: float
    iqr: float
    rounds: int
    extra: dict[str, Any]


@attrs.frozen
class Scaling:
    """Encode or decode of one value by one contender: its size, median time and traced peak memory."""

    contender: str
    op: str
    label: str
    nbytes: int
    median: float
    peak: int


# -- the suite -----------------------------------------------------------------------------------------------------


def run_suite(json_path: Path, extra: Iterable[str]) -> tuple[list[str], str]:
    """Run the benchmark suite into ``json_path``; returns the command and pytest's output."""
    cmd = [sys.executable, "-m", "pytest", "benchmarks", "--benchmark-enable", f"--benchmark-json={json_path}",
           *SUITE_ARGS, *extra, "-p", "no:cacheprovider", "-q", "-rs"]
    proc = subprocess.run(cmd, cwd=workload.ROOT, capture_output=True, text=True, check=False)
    if not json_path.exists():
        sys.exit(f"the benchmark run wrote no JSON (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr}")
    return cmd, proc.stdout


def read_results(data: dict[str, Any]) -> list[Result]:
    """The labelled benchmarks of a pytest-benchmark JSON document."""
    out = []
    for bench in data.get("benchmarks", []):
        info = dict(bench.get("extra_info") or {})
        if "op" not in info:
            continue
        stats = bench["stats"]
        out.append(Result(info.pop("op"), info.pop("size"), info.pop("contender"), stats["median"], stats["iqr"],
                          stats["rounds"], info))
    return out


def skipped(output: str) -> list[str]:
    """The skip reasons pytest printed with ``-rs`` (one line each, deduplicated)."""
    reasons = []
    for line in output.splitlines():
        m = re.match(r"SKIPPED \[(\d+)\] [^:]+:\d+: (.*)", line)
        if m:
            reasons.append(f"{m.group(2)} ({m.group(1)} benchmark{'s' if m.group(1) != '1' else ''})")
    return reasons


# -- scaling -------------------------------------------------------------------------------------------------------


def _median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _peak(fn: Callable[[], Any]) -> int:
    """Bytes allocated at the peak of ``fn()`` above what was allocated before (tracemalloc), result included."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        del result
    finally:
        tracemalloc.stop()
    return peak


def run_scaling(target_bytes: int, repeat: int) -> list[Scaling]:
    """Encode and decode of the ~``target_bytes`` ForgeArchive by FSV, the msgpack floor and msgspec."""
    import msgpack

    import fsf

    schema = fsf.load_schema(workload.SCALE_FSF)
    value = workload.forge_archive(target_bytes)
    wire = workload.positional(schema.ir, "ForgeArchive", value)
    floor_bytes = msgpack.packb(wire)
    label = f"{len(value['plans'])} plans × 512 tasks, {len(floor_bytes) / 2**20:.0f} MB"
    cases: list[tuple[str, str, int, Callable[[], Any]]] = [
        ("msgpack", "encode", len(floor_bytes), lambda: msgpack.packb(wire)),
        ("msgpack", "decode", len(floor_bytes), lambda: msgpack.unpackb(floor_bytes)),
    ]
    try:
        import msgspec

        from benchmarks.bench_msgspec import KEYED, POSITIONAL

        archive_pos = msgspec.defstruct("ArchivePos", [("plans", list[POSITIONAL])], array_like=True)
        archive_keyed = msgspec.defstruct("ArchiveKeyed", [("plans", list[KEYED])])
        decoder = msgspec.msgpack.Decoder(archive_pos)
        encoder = msgspec.msgpack.Encoder()
        cases += [
            ("msgspec", "encode", len(floor_bytes), lambda: encoder.encode(msgspec.convert(value, archive_keyed))),
            ("msgspec", "decode", len(floor_bytes), lambda: decoder.decode(floor_bytes)),
        ]
    except ImportError:
        pass
    try:
        fsv_bytes = schema.encode("ForgeArchive", value)
    except (AttributeError, ImportError, NotImplementedError):
        fsv_bytes = None
    if fsv_bytes is not None:
        cases += [
            ("fsv", "encode", len(fsv_bytes), lambda: schema.encode("ForgeArchive", value)),
            ("fsv", "decode", len(fsv_bytes), lambda: schema.decode(fsv_bytes, "ForgeArchive")),
        ]
    return [Scaling(who, op, label, n, _median_time(fn, repeat), _peak(fn)) for who, op, n, fn in cases]


# -- the document --------------------------------------------------------------------------------------------------


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    us = seconds * 1e6
    if us < 1000:
        return f"{us:.3g} µs"
    if us < 1e6:
        return f"{us / 1000:.3g} ms"
    return f"{us / 1e6:.3g} s"


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None else f"{a / b:.2f}×"


def _versions() -> str:
    parts = []
    for name in PACKAGES:
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name} (not installed)")
    return ", ".join(parts)


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()} ({platform.python_implementation()}), load average {load}")


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=workload.ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "fsf"], cwd=workload.ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes under `fsf/`" if dirty else "")


def render(results: list[Result], scaling: list[Scaling], command: str, skips: list[str]) -> str:
    """RESULTS.md: the table of medians and ratios, the targets, tooling times and the scaling run."""
    by = {(r.op, r.size, r.contender): r for r in results}

    def med(op: str, size: str, who: str) -> float | None:
        r = by.get((op, size, who))
        return r.median if r else None

    lines = [
        "# Benchmark results",
        "",
        "Generated by `benchmarks/report.py`; do not edit by hand. Medians from one run of the whole suite on a",
        "shared machine: compare the ratios (all from the same run), not the absolute times.",
        "",
        f"- Machine: {_machine()}",
        f"- Packages: {_versions()}",
        f"- Commit: {_commit()}",
        f"- Reproduce: `{command}`",
        "",
        "## Medians per operation and size",
        "",
        "Sizes are ForgePlan task counts (`shapes/forge-plan.fsf`) and `every` (`benchmarks/every.fsf`, every",
        "construct of the language). `msgpack` is the floor: raw `packb`/`unpackb` of the positional lists, no",
        "checks (its `verify` re-packs and compares, its `content id` is BLAKE3 of the bytes). `json` checks",
        "nothing. What each contender does exactly is in the docstring of its `bench_*.py`.",
        "",
        "| operation | size | " + " | ".join(CONTENDERS) + " | FSV ÷ msgspec | FSV ÷ floor |",
        "|---|---|" + "---:|" * (len(CONTENDERS) + 2),
    ]
    for op in OPS:
        for size in SIZES:
            row = [med(op, size, who) for who in CONTENDERS]
            if all(x is None for x in row):
                continue
            fsv = row[0]
            cells = " | ".join(_fmt(x) for x in row)
            lines.append(f"| {op} | {size} | {cells} | {_ratio(fsv, row[2])} | {_ratio(fsv, row[1])} |")
    lines += ["", "## Targets (512 tasks, medians, ratios from this run)", ""]
    lines += _targets(med, by)
    lines += ["", "## Tooling", ""]
    lines += _tooling(by)
    if scaling:
        lines += ["", "## Scaling", ""]
        lines += _scaling_section(med, scaling)
    if skips:
        lines += ["", "## Not measured in this run", ""]
        lines += [f"- {s}" for s in skips]
    return "\n".join(lines) + "\n"


def _targets(med: Callable[[str, str, str], float | None], by: dict[tuple[str, str, str], Result]) -> list[str]:
    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "**not met**")

    def ratio_row(name: str, a: float | None, b: float | None, limit: float) -> str:
        ok = None if a is None or b is None else a / b <= limit
        return f"| {name} | {_ratio(a, b)} | ≤ {limit:g}× | {verdict(ok)} |"

    decode, lenient = med("decode", "512", "fsv"), med("decode (no canonical check)", "512", "fsv")
    rows = [
        "| target | measured | goal | verdict |",
        "|---|---:|---:|---|",
        ratio_row("decode + validate vs msgspec array_like", decode, med("decode", "512", "msgspec"), 1.5),
        ratio_row("encode (validating dicts) vs msgspec convert + encode", med("encode", "512", "fsv"),
                  med("encode", "512", "msgspec"), 1.5),
        ratio_row("strict decode vs decode without the canonical check", decode, lenient, 1.3),
    ]
    for peer in ("pydantic", "fastavro"):
        pairs = [(op, size, med(op, size, "fsv"), med(op, size, peer)) for op in OPS for size in SIZES]
        both = [(op, size, f / p) for op, size, f, p in pairs if f is not None and p is not None]
        if not both:
            rows.append(f"| FSV ahead of {peer} on every operation | – | < 1× | not measured |")
            continue
        worst = max(both, key=lambda x: x[2])
        behind = sum(1 for *_, r in both if r >= 1)
        rows.append(f"| FSV ahead of {peer} on every operation | worst {worst[2]:.2f}× ({worst[0]} {worst[1]}); "
                    f"behind on {behind} of {len(both)} | < 1× | {verdict(behind == 0)} |")
    compile_ = med("compile", "forge-plan.fsf", "fsv")
    rows.append(f"| compile `shapes/forge-plan.fsf`, warm | {_fmt(compile_)} | ≤ 50 ms | "
                f"{verdict(None if compile_ is None else compile_ <= 0.050)} |")
    load = by.get(("import+load .fsb", "forge-plan.fsb", "fsv"))
    inner = load.extra.get("in_process_median_s") if load else None
    lark = load.extra.get("lark_imported") if load else None
    ok = None if inner is None else inner <= 0.100 and not lark
    lark_note = "" if lark is None else (", lark imported" if lark else ", lark not imported")
    rows.append(f"| import fsf + load `.fsb` (in a fresh process) | {_fmt(inner)}{lark_note} | ≤ 100 ms, no lark | "
                f"{verdict(ok)} |")
    notes = ["", "Every FSV figure here is the pure-Python implementation (there is no accelerated path yet), so the",
             "pydantic and fastavro rows are also the pure-Python-fallback targets."]
    if lenient is None:
        notes += ["The canonical check cannot be switched off through the public API yet, so its cost is not",
                  "measured here; `benchmarks/PROFILE.md` estimates it from the profile."]
    return rows + notes


def _tooling(by: dict[tuple[str, str, str], Result]) -> list[str]:
    rows = ["| operation | median | notes |", "|---|---:|---|"]
    for op in TOOLING:
        for (o, size, who), r in sorted(by.items()):
            if o != op:
                continue
            note = ""
            if "in_process_median_s" in r.extra:
                note = (f"whole process; import + load inside it {_fmt(r.extra['in_process_median_s'])}, "
                        f"lark imported: {r.extra.get('lark_imported')}")
            elif who != "fsv":
                note = "interpreter start-up alone, for reference"
            rows.append(f"| {op} `{size}` ({who}) | {_fmt(r.median)} | {note} |")
    return rows


def _scaling_section(med: Callable[[str, str, str], float | None], scaling: list[Scaling]) -> list[str]:
    import msgpack

    import fsf

    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    payload = {str(n): len(msgpack.packb(workload.positional(schema.ir, "ForgePlan", workload.forge_plan(n))))
               for n in workload.SIZES}
    lines = ["Time per MB of payload (positional msgpack size) from the suite's medians, then for one value of",
             "the large value below (`benchmarks/scale.fsf`: a ForgeArchive of 512-task plans). Flat rows mean",
             "linear growth.", "",
             "| contender | operation | " + " | ".join(f"{n} tasks ({payload[n] / 1024:.0f} KiB)" for n in payload)
             + " | large value |", "|---|---|" + "---:|" * (len(payload) + 1)]
    big = {(s.contender, s.op): s for s in scaling}
    for who in ("fsv", "msgpack", "msgspec"):
        for op in ("encode", "decode"):
            cells = []
            for n, nbytes in payload.items():
                m = med(op, n, who)
                cells.append("–" if m is None else f"{_fmt(m / (nbytes / 2**20))}/MB")
            s = big.get((who, op))
            cells.append("–" if s is None else f"{_fmt(s.median / (s.nbytes / 2**20))}/MB")
            if any(c != "–" for c in cells):
                lines.append(f"| {who} | {op} | " + " | ".join(cells) + " |")
    lines += ["", "The large value, one by one (median of a few runs; peak from `tracemalloc`, result included, as a",
              "multiple of the encoded size):", "",
              "| contender | operation | value | bytes | median | MB/s | peak memory |", "|---|---|---|---:|---:|---:|---:|"]
    for s in scaling:
        mb = s.nbytes / 2**20
        lines.append(f"| {s.contender} | {s.op} | {s.label} | {s.nbytes:,} | {_fmt(s.median)} | "
                     f"{mb / s.median:.0f} | {s.peak / s.nbytes:.1f}× |")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Command line: run (or read) the suite, run the scaling, write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", type=Path, help="read this pytest-benchmark JSON instead of running the suite")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the report")
    parser.add_argument("--no-scaling", action="store_true", help="skip the large-value scaling run")
    parser.add_argument("--scale-mb", type=float, default=workload.SCALE_BYTES / 2**20, help="size of the large value")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each large-value operation")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest (after --)")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.report" + "".join(f" {shlex.quote(a)}" for a in (argv or sys.argv[1:]))
    skips: list[str] = []
    if args.json:
        data = json.loads(args.json.read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.json"
            print("running the benchmark suite …", file=sys.stderr)
            _, output = run_suite(path, args.pytest_args)
            data = json.loads(path.read_text())
            skips = skipped(output)
    scaling = [] if args.no_scaling else run_scaling(int(args.scale_mb * 2**20), args.repeat)
    text = render(read_results(data), scaling, command, skips)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
