"""Benchmark, store: ``Store.put``/``get`` of the 512-task plan and ``Store.verify`` of 10 000 values, each beside
its plain-file peer in the same rounds -> medians of per-round ratios (the "Store" section of ``RESULTS.md``).

    python -m benchmarks.bench_store                               # print the section
    python -m benchmarks.bench_store --out benchmarks/RESULTS.md   # replace (or add) its "## Store" section
    python -m benchmarks.bench_store --quick                       # a few rounds on 200 values: proves it runs

``python -m benchmarks.report`` runs it too (``--no-store`` skips it). What is measured:

- **put**: the 512-task plan's FSV bytes (a distinct ``sessionId`` each round, so no put is the idempotent
  no-op) into a local store, against writing the same bytes to a plain file with ``fsf.load.write_atomic``
  (temp file, fsync, rename) and with ``open().write()`` (no fsync), and against ``Schema.verify`` alone (the
  check a put makes before it writes). The no-op put of a value already stored is its own row.
- **get**: ``Store.get`` (read, then BLAKE3 of the bytes against their name) against ``open().read()`` of the
  plain file.
- **verify**: ``Store.verify()`` of a store of 10 000 values against a loop of ``Schema.verify`` over the same
  values as files read from disk, and the same as processes: ``fsf store verify --store DIR`` against
  ``fsv verify -s X.fsb FILE…`` (no store found, so ``fsv`` checks no references). Two stores: a chain of 10 000
  ``SignedAuditRecord`` (``shapes/audit.fsf``, each referencing the one before) and 10 000 8-task ForgePlans
  (no references). The store does more than the files' loop: it hashes every value against its name and, for
  the chain, decodes each value to find its reference and reads the header of the value it names.

Times are wall-clock (``time.perf_counter``: fsync waits and child processes are the point here) and CPU time
of this process and its children. Each round calls every contender once, in an order rotated from round to
round; the ratio (ours ÷ peer) is taken per round and its median reported. Page caches are warm after the first
round on both sides.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import attrs

import fsf
from benchmarks import workload
from benchmarks.harness import command_line, replace_section, section_parser, section_settings, write_section
from fsf.api import write_compiled
from fsf.load import write_atomic
from fsf.store import ENV, VALUES, Store, init_store, key_of, locate_store

try:
    import resource
except ImportError:  # pragma: no cover - Windows: the CPU column then leaves the children out
    resource = None  # type: ignore[assignment]

AUDIT_FSF = workload.ROOT / "shapes" / "audit.fsf"
VALUES_N = 10_000
"""Values in each store that ``verify`` checks."""
PLAN_TASKS = 512
SMALL_PLAN_TASKS = 8
_FSF = "from fsf.cli.fsf_tool import main; main()"
_FSV = "from fsf.cli.fsv_tool import main; main()"

Call = Callable[[int], object]
"""One contender's work in round ``r`` (its argument)."""


@attrs.frozen
class Settings:
    """How much to run: rounds of put/get, of the in-process verify, of the CLI verify; values per store."""

    rounds: int = 200
    verify_rounds: int = 5
    cli_rounds: int = 3
    values: int = VALUES_N

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=5, verify_rounds=1, cli_rounds=1, values=200)


@attrs.frozen
class Pair:
    """One of ours against one peer: medians of the times, medians of the per-round ratios (ours ÷ peer)."""

    op: str
    ours: str
    peer: str
    rounds: int
    ours_wall: float
    peer_wall: float
    ratio_wall: float
    ratio_cpu: float


# -- timing ------------------------------------------------------------------------------------------------------


def _cpu() -> float:
    """CPU seconds of this process and of its children that have been waited for."""
    if resource is None:  # pragma: no cover
        return time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def interleave(cases: dict[str, Call], rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds of every case in every round; each round starts one case further down the list."""
    names = list(cases)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            wall, cpu = time.perf_counter(), _cpu()
            cases[name](r)
            times[name].append((time.perf_counter() - wall, _cpu() - cpu))
    return times


def pair(op: str, ours: str, peer: str, times: dict[str, list[tuple[float, float]]]) -> Pair:
    """``ours`` against ``peer`` from one :func:`interleave` run."""
    a, b = times[ours], times[peer]
    return Pair(op, ours, peer, len(a), statistics.median(x[0] for x in a), statistics.median(y[0] for y in b),
                statistics.median(x[0] / max(y[0], 1e-9) for x, y in zip(a, b, strict=True)),
                statistics.median(x[1] / max(y[1], 1e-9) for x, y in zip(a, b, strict=True)))


# -- workloads ---------------------------------------------------------------------------------------------------


def distinct_plans(schema: fsf.Schema, tasks: int, count: int, seed: int = workload.SEED) -> list[bytes]:
    """``count`` FSV ForgePlans: the seeded ``tasks``-task plan with a distinct ``sessionId`` each (same length as
    the original, so every one is the same size)."""
    base = workload.forge_plan(tasks, seed)
    return [schema.encode("ForgePlan", {**base, "sessionId": f"sess-{k:032x}"}) for k in range(count)]


def audit_chain(schema: fsf.Schema, count: int, seed: int = workload.SEED) -> list[bytes]:
    """``count`` FSV ``SignedAuditRecord`` values, seq 1…count, each referencing the one before (oldest first)."""
    rng = random.Random(f"audit-chain/{seed}/{count}")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    providers = ("anthropic", "openai", "google", "mistral", "local")
    models = ("claude-sonnet-4-5", "gpt-5-codex", "gemini-2.5-pro", "codestral-25", "qwen3-coder")
    out: list[bytes] = []
    for seq in range(1, count + 1):
        k = rng.randrange(len(providers))
        record = {
            "seq": seq,
            "at": start + dt.timedelta(seconds=seq * 7, microseconds=rng.randrange(1_000_000)),
            "provider": providers[k],
            "model": models[k],
            "inputHash": rng.randbytes(32),
            "outputHash": rng.randbytes(32),
            "prev": fsf.content_id(out[-1]) if out else None,
        }
        out.append(schema.encode("SignedAuditRecord", {"record": record, "signature": rng.randbytes(64),
                                                       "keyId": f"key-{seq % 4}"}))
    return out


def _shard_folder(store: Store, data: bytes) -> None:
    """Make the shard folder ``data`` will go in: a store past its first few hundred values has every one (the
    first put into a shard also makes the folder and fsyncs its parent, which a plain file never pays)."""
    digest = bytes.fromhex(fsf.content_id(data).removeprefix("blake3:"))
    Path(store.where, *key_of(VALUES, digest).split("/")).parent.mkdir(parents=True, exist_ok=True)


def _plain_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)


def _plain_read(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


# -- put and get -------------------------------------------------------------------------------------------------

PUT, PUT_NOOP, ATOMIC, PLAIN, VERIFY_ONLY = ("`Store.put`", "`Store.put`, already stored",
                                             "`fsf.load.write_atomic`", "`open().write()`", "`Schema.verify` alone")
GET, READ = "`Store.get`", "`open().read()`"


def run_put_get(folder: Path, rounds: int) -> list[Pair]:
    """Put and get of the 512-task plan against plain files, interleaved over ``rounds`` rounds."""
    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    values = distinct_plans(schema, PLAN_TASKS, rounds + 1)
    warm, fresh = values[0], values[1:]
    store = init_store(folder / "store")
    files = folder / "files"
    files.mkdir()
    warm_id = store.put(warm, schema)  # records the schema: later puts find it there, as in a used store
    warm_file = files / "warm.fsv"
    _plain_write(warm_file, warm)
    for data in fresh:
        _shard_folder(store, data)
    cases: dict[str, Call] = {
        PUT: lambda r: store.put(fresh[r], schema),
        ATOMIC: lambda r: write_atomic(files / f"atomic-{r}.fsv", fresh[r]),
        PLAIN: lambda r: _plain_write(files / f"plain-{r}.fsv", fresh[r]),
        VERIFY_ONLY: lambda r: schema.verify(fresh[r]),
        PUT_NOOP: lambda r: store.put(warm, schema),
        GET: lambda r: store.get(warm_id),
        READ: lambda r: _plain_read(warm_file),
    }
    times = interleave(cases, rounds)
    assert all(fsf.content_id(v) in store for v in fresh) and store.get(warm_id) == warm == _plain_read(warm_file)
    op = f"put {PLAN_TASKS} tasks ({len(warm) / 1024:.0f} KiB)"
    noop = f"put {PLAN_TASKS} tasks, already stored"
    return [pair(op, PUT, ATOMIC, times), pair(op, PUT, PLAIN, times), pair(op, PUT, VERIFY_ONLY, times),
            pair(noop, PUT_NOOP, ATOMIC, times), pair(noop, PUT_NOOP, PLAIN, times),
            pair(f"get {PLAN_TASKS} tasks", GET, READ, times)]


# -- verify ------------------------------------------------------------------------------------------------------


@attrs.frozen
class Corpus:
    """The same values twice: in a store, and as ``<hex>.fsv`` files beside the compiled schema."""

    label: str
    store: Store
    files: Path
    names: tuple[str, ...]
    fsb: Path
    schema: fsf.Schema


def corpus(folder: Path, label: str, source: Path, make: Callable[[fsf.Schema], list[bytes]]) -> Corpus:
    """Compile ``source`` to a ``.fsb``, make the values, put them in a new store and write them as files."""
    folder.mkdir(parents=True)
    fsb = folder / source.with_suffix(".fsb").name
    writer = write_compiled(source, fsb)
    values = make(writer)
    store = init_store(folder / "store")
    for data in values:
        store.put(data, writer)
    files = folder / "files"
    files.mkdir()
    names = []
    for data in values:
        name = fsf.content_id(data).removeprefix("blake3:") + ".fsv"  # `fsv verify` checks a hex name too
        _plain_write(files / name, data)
        names.append(name)
    return Corpus(label, store, files, tuple(names), fsb, fsf.load_schema(fsb))


def _verify_files(c: Corpus) -> None:
    for name in c.names:
        c.schema.verify(_plain_read(c.files / name))


def _verify_store(c: Corpus) -> None:
    report = c.store.verify()
    assert report.ok and report.values == len(c.names), report.problems[:3]


def _cli(args: list[str], cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    subprocess.run([sys.executable, "-c", *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, check=True)


def _every_round(fn: Callable[[], object]) -> Call:
    """The same work in every round."""
    return lambda _r: fn()


def run_verify(folder: Path, settings: Settings) -> list[Pair]:
    """``Store.verify`` and ``fsf store verify`` against ``Schema.verify`` and ``fsv verify`` of the same files."""
    n = settings.values
    corpora = [
        corpus(folder / "audit", f"{n:_} audit records (a chain of refs)".replace("_", " "), AUDIT_FSF,
               lambda s: audit_chain(s, n)),
        corpus(folder / "plans", f"{n:_} {SMALL_PLAN_TASKS}-task plans (no refs)".replace("_", " "),
               workload.FORGE_PLAN_FSF, lambda s: distinct_plans(s, SMALL_PLAN_TASKS, n)),
    ]
    for c in corpora:  # `fsv verify` would check every reference through the whole graph in a store it found
        assert locate_store(env={}, cwd=c.files) is None, f"a store is found from {c.files}"
    library: dict[str, Call] = {}
    cli: dict[str, Call] = {}
    for c in corpora:
        library[f"store {c.label}"] = _every_round(partial(_verify_store, c))
        library[f"files {c.label}"] = _every_round(partial(_verify_files, c))
        cli[f"store {c.label}"] = _every_round(partial(_cli, [_FSF, "store", "verify", "--store", c.store.where],
                                                       c.files))
        cli[f"files {c.label}"] = _every_round(partial(_cli, [_FSV, "verify", "-s", str(c.fsb), *c.names], c.files))
    lib_times = interleave(library, settings.verify_rounds)
    cli_times = interleave(cli, settings.cli_rounds)
    out = []
    for c in corpora:
        op = f"verify {c.label}"
        out.append(attrs.evolve(pair(op, f"store {c.label}", f"files {c.label}", lib_times),
                                ours="`Store.verify()`", peer="`Schema.verify` of each file, read from disk"))
        out.append(attrs.evolve(pair(op, f"store {c.label}", f"files {c.label}", cli_times),
                                ours="`fsf store verify --store DIR`", peer=f"`fsv verify -s {c.fsb.name} FILE…`"))
    return out


# -- the section -------------------------------------------------------------------------------------------------


def run(settings: Settings, folder: Path | None = None) -> list[Pair]:
    """Every pair, measured in a temporary folder (or under ``folder``)."""
    with _workdir(folder) as where:
        return run_put_get(where / "put-get", settings.rounds) + run_verify(where / "verify", settings)


@contextmanager
def _workdir(folder: Path | None) -> Iterator[Path]:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        yield Path(tempfile.mkdtemp(prefix="bench-store-", dir=folder))
        return
    with tempfile.TemporaryDirectory(prefix="fsf-bench-store-") as tmp:
        yield Path(tmp)


def _file_system(path: Path) -> str:
    """The type of the file system ``path`` is on (from /proc/mounts), or ``unknown``."""
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    except OSError:
        pass
    return kind


HEADING = "## Store"


def section(pairs: list[Pair], settings: Settings, command: str, folder: Path | None = None) -> list[str]:
    """The "## Store" section of ``RESULTS.md`` (``folder``: where :func:`run` worked, if not in the default
    temporary folder)."""
    from benchmarks.report import _commit, _fmt, _machine

    where = (folder or Path(tempfile.gettempdir())).resolve()
    lines = [
        HEADING,
        "",
        "Put and get of the 512-task plan against plain files, and verify of a store of small values against",
        "verifying the same values as files (`benchmarks/bench_store.py`; its docstring says what each row does).",
        "Ratios are medians of per-round ratios (ours ÷ peer, both timed in the same round, the order rotated",
        "from round to round); times are medians. Wall time includes fsync waits and child processes; CPU time",
        "is this process's and its children's. Put and get, verify in process and verify as command lines are",
        "three runs one after another on a shared machine: compare within a row, not the times of two runs.",
        "",
        f"- Date: {dt.date.today().isoformat()}; commit: {_commit()}",
        f"- Machine: {_machine()}; store and files on {_file_system(where)}",
        f"- Rounds: put and get {settings.rounds}; verify {settings.verify_rounds} in process, "
        f"{settings.cli_rounds} as command lines (each a fresh interpreter, its start-up included)",
        f"- Reproduce: `{command}`",
        "",
        "| operation | ours | peer | ours (wall) | peer (wall) | ratio (wall) | ratio (CPU) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for p in pairs:
        lines.append(f"| {p.op} | {p.ours} | {p.peer} | {_fmt(p.ours_wall)} | {_fmt(p.peer_wall)} | "
                     f"{p.ratio_wall:.2f}× | {p.ratio_cpu:.2f}× |")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Command line: run the store benchmarks, print the section or write it into a RESULTS.md."""
    parser = section_parser(__doc__, HEADING, "a few rounds on 200 values (proves it runs)")
    parser.add_argument("--rounds", type=int, help="rounds of put and get")
    parser.add_argument("--verify-rounds", type=int, help="rounds of the in-process verify")
    parser.add_argument("--cli-rounds", type=int, help="rounds of the command-line verify")
    parser.add_argument("--values", type=int, help="values in each store that verify checks")
    parser.add_argument("--dir", type=Path, help="work under this folder and keep what is made there (default: a temporary folder)")
    args = parser.parse_args(argv)
    settings = section_settings(args, Settings, ("rounds", "verify_rounds", "cli_rounds", "values"))
    command = command_line("benchmarks.bench_store", argv)
    lines = section(run(settings, args.dir), settings, command, args.dir)
    write_section(lines, args.out, HEADING)


def test_store_bench_quick(tmp_path: Path) -> None:
    """The quick run completes and renders a row per pair (no timing is asserted)."""
    settings = Settings.quick()
    pairs = run(settings, tmp_path)
    assert len(pairs) == 10
    lines = section(pairs, settings, "pytest")
    assert lines[0] == HEADING and sum(line.startswith("| put ") for line in lines) == 5
    assert replace_section(replace_section("# R\n", "## Store", lines), "## Store", lines).count("## Store") == 1


if __name__ == "__main__":
    main()
