"""Benchmark report: the pytest-benchmark suite (run now, or its JSON) + a scaling run -> ``benchmarks/RESULTS.md``.

    python -m benchmarks.report                      # run everything (several minutes on 2 busy cores)
    python -m benchmarks.report --json run.json      # tables from an earlier ``--benchmark-json`` run
    python -m benchmarks.report --no-scaling         # skip the 50 MB scaling run
    python -m benchmarks.report --no-store           # skip one section benchmark (SECTIONS: --no-ratios,
                                                     #  --no-store, --no-evolve, --no-breaking, --no-startup,
                                                     #  --no-views; each also runs alone: python -m MODULE --out)

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
from functools import partial
from pathlib import Path
from typing import Any

import attrs

from benchmarks import workload

OPS = ("encode", "encode (generated classes)", "decode", "decode (no canonical check)", "decode (generated classes)",
       "validate", "verify", "content id", "render")
SIZES = (*(str(n) for n in workload.SIZES), "every")
CONTENDERS = ("fsv", "fsv-py", "msgpack", "msgspec", "pydantic", "fastavro", "json")
"""``fsv`` is the default path (the native codec when built), ``fsv-py`` the pure-Python path."""
TOOLING = ("parse+check", "compile", "import+load .fsb")
PACKAGES = ("fsf", "msgpack", "blake3", "lark", "msgspec", "pydantic", "pydantic-core", "fastavro",
            "pytest", "pytest-benchmark")
DEFAULT_OUT = workload.HERE / "RESULTS.md"
SUITE_ARGS = ("--benchmark-timer=time.process_time", "--benchmark-min-rounds=20", "--benchmark-max-time=1.0",
              "--benchmark-warmup=on")
CLOCK = time.process_time
"""CPU time of this process: on a shared machine, wall time mostly measures who else is running."""


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
    median_no_gc: float
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


def _median_time(fn: Callable[[], Any], repeat: int, collector: bool = True) -> float:
    """Median CPU time of ``fn()``, with the cyclic garbage collector on or off during the calls."""
    times = []
    for _ in range(repeat):
        gc.collect()
        if not collector:
            gc.disable()
        try:
            t = CLOCK()
            fn()
            times.append(CLOCK() - t)
        finally:
            gc.enable()
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

    schema = fsf.load_schema(workload.SCALE_FSF, root=workload.ROOT)  # it imports ../shapes/forge-plan.fsf
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
        import pytest

        from benchmarks.bench_fsv import PATHS, _contender, _decoder, _encoder

        for path in PATHS:
            try:
                enc, dec = _encoder(schema, path), _decoder(schema, path)
            except pytest.skip.Exception:
                continue
            cases += [
                (_contender(path), "encode", len(fsv_bytes), partial(enc, "ForgeArchive", value)),
                (_contender(path), "decode", len(fsv_bytes), partial(dec, fsv_bytes, "ForgeArchive")),
            ]
    return [Scaling(who, op, label, n, _median_time(fn, repeat), _median_time(fn, repeat, collector=False), _peak(fn))
            for who, op, n, fn in cases]


def _interleaved_cases() -> list[tuple[str, str, Callable[[], Any]]]:
    """(operation, contender, call) on the 512-task plan for every contender that is installed and landed."""
    import msgpack
    import pytest

    import fsf

    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    value = workload.forge_plan(512)
    wire = workload.positional(schema.ir, "ForgePlan", value)
    floor = msgpack.packb(wire)
    cases: list[tuple[str, str, Callable[[], Any]]] = [
        ("encode", "msgpack", lambda: msgpack.packb(wire)),
        ("decode", "msgpack", lambda: msgpack.unpackb(floor)),
    ]
    skip = (ImportError, AttributeError, NotImplementedError, pytest.skip.Exception)
    try:
        from benchmarks.bench_fsv import PATHS, _contender, _decoder, _encoder

        data = schema.encode("ForgePlan", value)
        cases.append(("validate", "fsv", lambda: schema.validate("ForgePlan", value)))
        for path in PATHS:
            who = _contender(path)
            try:
                enc, dec = _encoder(schema, path), _decoder(schema, path)
                dec(data, "ForgePlan")
                cases += [("encode", who, partial(enc, "ForgePlan", value)), ("decode", who, partial(dec, data,
                                                                                                   "ForgePlan"))]
                lenient = _decoder(schema, path, canonical=False)
                cases.append(("decode (no canonical check)", who, partial(lenient, data, "ForgePlan")))
            except skip:
                pass
    except skip:
        pass
    try:
        from benchmarks import bench_msgspec as ms

        cases += [
            ("encode", "msgspec", lambda: ms._encode(value)),
            ("decode", "msgspec", lambda: ms._DECODER.decode(floor)),
            ("validate", "msgspec", lambda: ms._convert(value)),
        ]
    except skip:
        pass
    try:
        from benchmarks import bench_pydantic as pd

        pd_bytes = pd._encode(value)
        cases += [
            ("encode", "pydantic", lambda: pd._encode(value)),
            ("decode", "pydantic", lambda: pd._decode(pd_bytes)),
            ("validate", "pydantic", lambda: pd.ForgePlan.model_validate(value)),
        ]
    except skip:
        pass
    try:
        from benchmarks import bench_fastavro as fa

        avro = fa._encode(value)
        cases += [
            ("encode", "fastavro", lambda: fa._encode(value)),
            ("decode", "fastavro", lambda: fa._decode(avro)),
            ("validate", "fastavro", lambda: fa._validate(value)),
        ]
    except skip:
        pass
    return cases


def run_interleaved(rounds: int) -> list[Result]:
    """Every contender on the 512-task plan, one call each per round, round after round.

    A shared machine's load changes over minutes; interleaving puts the same load on every contender, so the
    ratios of these medians are the robust ones.
    """
    cases = _interleaved_cases()
    times: list[list[float]] = [[] for _ in cases]
    for _ in range(rounds):
        for (_op, _who, fn), ts in zip(cases, times, strict=True):
            t = CLOCK()
            fn()
            ts.append(CLOCK() - t)
    out = []
    for (op, who, _fn), ts in zip(cases, times, strict=True):
        q = statistics.quantiles(ts, n=4)
        out.append(Result(op, "512", who, statistics.median(ts), q[2] - q[0], rounds, {}))
    return out


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


Median = Callable[[str, str, str], "float | None"]


def _lookup(results: list[Result]) -> Median:
    by = {(r.op, r.size, r.contender): r.median for r in results}
    return lambda op, size, who: by.get((op, size, who))


def _medians_table(med: Median, sizes: Iterable[str]) -> list[str]:
    lines = ["| operation | size | " + " | ".join(CONTENDERS) + " | fsv ÷ msgspec | fsv ÷ floor | fsv-py ÷ msgspec |",
             "|---|---|" + "---:|" * (len(CONTENDERS) + 3)]
    for op in OPS:
        for size in sizes:
            row = dict(zip(CONTENDERS, (med(op, size, who) for who in CONTENDERS), strict=True))
            if all(x is None for x in row.values()):
                continue
            cells = " | ".join(_fmt(x) for x in row.values())
            lines.append(f"| {op} | {size} | {cells} | {_ratio(row['fsv'], row['msgspec'])} | "
                         f"{_ratio(row['fsv'], row['msgpack'])} | {_ratio(row['fsv-py'], row['msgspec'])} |")
    return lines


SECTIONS = {
    "ratios": ("benchmarks.ratios", "the per-round ratios of small and typed values against msgspec"),
    "store": ("benchmarks.bench_store", "the store benchmarks"),
    "evolve": ("benchmarks.bench_evolve", "the evolution benchmark"),
    "breaking": ("benchmarks.bench_breaking", "the fsf breaking --corpus benchmark"),
    "startup": ("benchmarks.bench_startup", "the start-up benchmark"),
    "views": ("benchmarks.bench_views", "the views side by side with plain jinja2"),
}
"""The benchmarks with a section of their own, in the report's order: name (``--no-NAME`` skips it) -> the module
(``section(run(Settings()), Settings(), command)`` is the section's lines; ``python -m MODULE --out RESULTS.md``
replaces just that section) and what it measures."""


def render(results: list[Result], interleaved: list[Result], scaling: list[Scaling], command: str,
           skips: list[str], sections: Iterable[list[str]] = ()) -> str:
    """RESULTS.md: the tables of medians and ratios, the targets, tooling times, the scaling run, then each
    section benchmark's lines (:data:`SECTIONS`)."""
    by = {(r.op, r.size, r.contender): r for r in results}
    med, paired = _lookup(results), _lookup(interleaved)
    lines = [
        "# Benchmark results",
        "",
        "Generated by `benchmarks/report.py`; do not edit by hand. Medians from one run on a shared machine:",
        "compare the ratios (all from the same run), not the absolute times. Times are CPU time of the",
        "measuring process (`time.process_time`), not wall-clock time: other jobs on the machine stretch wall",
        "time by whatever share of a core they take.",
        "",
        f"- Machine: {_machine()}",
        f"- Packages: {_versions()}",
        f"- Commit: {_commit()}",
        f"- Reproduce: `{command}`",
        "",
        "## Targets (512 tasks, ratios of medians from this run)",
        "",
        *_targets(med, paired, by),
        "",
        "## Medians per operation and size (pytest-benchmark suite)",
        "",
        "Sizes are ForgePlan task counts (`shapes/forge-plan.fsf`) and `every` (`benchmarks/every.fsf`, every",
        "construct of the language). `msgpack` is the floor: raw `packb`/`unpackb` of the positional lists, no",
        "checks (its `verify` re-packs and compares, its `content id` is BLAKE3 of the bytes). `json` checks",
        "nothing. What each contender does exactly is in the docstring of its `bench_*.py`. The suite runs one",
        "benchmark after another, so a change in the machine's load between two of them skews their ratio.",
        "",
        *_medians_table(med, SIZES),
    ]
    if interleaved:
        rounds = interleaved[0].rounds
        lines += ["", "## Interleaved medians (512 tasks)", "",
                  f"Every contender called once per round, {rounds} rounds: the load is shared alike, so these",
                  "ratios are the robust ones (the targets above use them when they exist).", "",
                  *_medians_table(paired, ("512",))]
    lines += ["", "## Tooling", "", *_tooling(by)]
    if scaling:
        lines += ["", "## Scaling", "", *_scaling_section(med, scaling)]
    for section in sections:
        lines += ["", *section]
    if skips:
        lines += ["", "## Not measured in this run", "", *(f"- {s}" for s in skips)]
    return "\n".join(lines) + "\n"


def _targets(med: Median, paired: Median, by: dict[tuple[str, str, str], Result]) -> list[str]:
    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "**not met**")

    def ratio_row(name: str, op: str, other: tuple[str, str], limit: float, who: str = "fsv") -> str:
        suite = (med(op, "512", who), med(other[0], "512", other[1]))
        inter = (paired(op, "512", who), paired(other[0], "512", other[1]))
        a, b = inter if None not in inter else suite
        ok = None if a is None or b is None else a / b <= limit
        if who != "fsv":  # the targets are the default install's; the other paths are shown for comparison
            return f"| {name} | {_ratio(*suite)} | {_ratio(*inter)} | (≤ {limit:g}×) | for comparison |"
        return f"| {name} | {_ratio(*suite)} | {_ratio(*inter)} | ≤ {limit:g}× | {verdict(ok)} |"

    rows = [
        "| target | suite | interleaved | goal | verdict |",
        "|---|---:|---:|---:|---|",
        ratio_row("decode + validate vs msgspec array_like", "decode", ("decode", "msgspec"), 1.5),
        ratio_row("encode (validating dicts) vs msgspec convert + encode", "encode", ("encode", "msgspec"), 1.5),
        ratio_row("strict decode vs decode without the canonical check", "decode",
                  ("decode (no canonical check)", "fsv"), 1.3),
    ]
    rows.append(ratio_row("the same, pure-Python fallback", "decode", ("decode (no canonical check)", "fsv-py"),
                          1.3, who="fsv-py"))

    def pure(m: Median, op: str, size: str) -> float | None:
        """The pure-Python fallback's figure; operations with one path only (validate, render) are shared."""
        x = m(op, size, "fsv-py")
        return m(op, size, "fsv") if x is None else x

    for peer in ("pydantic", "fastavro"):
        pairs = [(op, size, pure(med, op, size), med(op, size, peer)) for op in OPS for size in SIZES]
        both = [(op, size, f / p) for op, size, f, p in pairs if f is not None and p is not None]
        inter = [(op, f / p) for op in OPS
                 if (f := pure(paired, op, "512")) is not None and (p := paired(op, "512", peer)) is not None]
        if not both:
            rows.append(f"| pure-Python FSV ahead of {peer} on every operation | – | – | < 1× | not measured |")
            continue
        worst = max(both, key=lambda x: x[2])
        behind = sum(1 for *_, r in both if r >= 1)
        inter_text = ", ".join(f"{op} {r:.2f}×" for op, r in inter) or "–"
        rows.append(f"| pure-Python FSV ahead of {peer} on every operation | worst {worst[2]:.2f}× "
                    f"({worst[0]} {worst[1]}); "
                    f"behind on {behind} of {len(both)} | {inter_text} | < 1× | {verdict(behind == 0)} |")
    compile_ = med("compile", "forge-plan.fsf", "fsv")
    rows.append(f"| compile `shapes/forge-plan.fsf`, warm | {_fmt(compile_)} | | ≤ 50 ms | "
                f"{verdict(None if compile_ is None else compile_ <= 0.050)} |")
    load = by.get(("import+load .fsb", "forge-plan.fsb", "fsv"))
    inner = load.extra.get("in_process_cpu_s") if load else None
    lark = load.extra.get("lark_imported") if load else None
    ok = None if inner is None else inner <= 0.100 and not lark
    lark_note = "" if lark is None else (", lark imported" if lark else ", lark not imported")
    rows.append(f"| import fsf + load `.fsb` (in a fresh process) | {_fmt(inner)}{lark_note} | | ≤ 100 ms, no lark | "
                f"{verdict(ok)} |")
    notes = ["", "`fsv` is what `Schema.encode`/`decode` run by default: the native one-pass decoder when it was built",
             "(it checks the canonical rules inline as it reads, so its strict and lenient decode are one and the same",
             "pass, and the check's cost is inside its decode ratio to msgspec, which checks no spelling at all);",
             "`fsv-py` is the pure-Python path (`Schema.using(\"pure\", \"reference\")`; msgspec is not a runtime",
             "dependency any more: the old msgspec-accelerated path was retired).",
             "The pydantic/fastavro rows judge the fallback on every operation and size of the suite (operations",
             "with a single path, such as validate, count for both)."]
    return rows + notes


def _tooling(by: dict[tuple[str, str, str], Result]) -> list[str]:
    rows = ["| operation | median | notes |", "|---|---:|---|"]
    for op in TOOLING:
        for (o, size, who), r in sorted(by.items()):
            if o != op:
                continue
            if "in_process_cpu_s" in r.extra:
                rows.append(f"| import fsf + load `{size}` in a fresh interpreter | {_fmt(r.extra['in_process_cpu_s'])} "
                            f"CPU | {_fmt(r.extra['in_process_wall_s'])} wall; the whole child process "
                            f"{_fmt(r.extra['process_cpu_s'])} CPU; lark imported: {r.extra['lark_imported']} |")
            elif "process_cpu_s" in r.extra:
                rows.append(f"| `{who}` | {_fmt(r.extra['process_cpu_s'])} CPU | the interpreter's own start-up, "
                            "for reference |")
            else:
                rows.append(f"| {op} `{size}` ({who}) | {_fmt(r.median)} | |")
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
    for who in ("fsv", "fsv-py", "msgpack", "msgspec"):
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
              "| contender | operation | value | bytes | median | MB/s | without the cyclic GC | peak memory |",
              "|---|---|---|---:|---:|---:|---:|---:|"]
    for s in scaling:
        mb = s.nbytes / 2**20
        lines.append(f"| {s.contender} | {s.op} | {s.label} | {s.nbytes:,} | {_fmt(s.median)} | "
                     f"{mb / s.median:.0f} | {_fmt(s.median_no_gc)} | {s.peak / s.nbytes:.1f}× |")
    lines += ["", "`without the cyclic GC`: the same calls inside `gc.disable()`; the difference between the two",
              "columns is the collector's work over the millions of containers a large decode builds."]
    return lines


def main(argv: list[str] | None = None) -> None:
    """Command line: run (or read) the suite, run the scaling, write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", type=Path, help="read this pytest-benchmark JSON instead of running the suite")
    parser.add_argument("--save-json", type=Path, help="keep the suite's pytest-benchmark JSON here")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the report")
    parser.add_argument("--no-scaling", action="store_true", help="skip the large-value scaling run")
    parser.add_argument("--scale-mb", type=float, default=workload.SCALE_BYTES / 2**20, help="size of the large value")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each large-value operation")
    parser.add_argument("--rounds", type=int, default=300, help="rounds of the interleaved run (0: skip it)")
    for name, (module, what) in SECTIONS.items():
        parser.add_argument(f"--no-{name}", action="store_true",
                            help=f"skip {what} (alone: python -m {module} --out FILE)")
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
            if args.save_json:
                args.save_json.write_text(path.read_text())
    interleaved = [] if args.rounds == 0 else run_interleaved(args.rounds)
    scaling = [] if args.no_scaling else run_scaling(int(args.scale_mb * 2**20), args.repeat)
    sections = []
    for name, (module, what) in SECTIONS.items():
        if not getattr(args, f"no_{name}"):
            print(f"running {what} …", file=sys.stderr)
            bench = importlib.import_module(module)
            settings = bench.Settings()
            sections.append(bench.section(bench.run(settings), settings, command))
    text = render(read_results(data), interleaved, scaling, command, skips, sections)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
