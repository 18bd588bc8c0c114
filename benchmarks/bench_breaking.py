"""Benchmark, breaking: ``fsf breaking --corpus`` over a store of 10 000 values written under three successive
versions of the ForgePlan schema, against verifying the same values, in the same rounds -> medians of per-round
ratios (the "Breaking" section of ``RESULTS.md``).

    python -m benchmarks.bench_breaking                               # print the section
    python -m benchmarks.bench_breaking --out benchmarks/RESULTS.md   # replace (or add) its "## Breaking" section
    python -m benchmarks.bench_breaking --quick                       # a few rounds on 300 values: proves it runs

The target (the `fsf breaking` issue): the corpus check of 10 000 stored values costs at most 1.5× ``fsv verify``
of the same values.

The schemas are text edits of ``shapes/forge-plan.fsf`` (through ``bench_evolve``'s ``_edit``):

- **v1** the file itself; **v2** adds ``ForgeTask.assignee: str?``; **v3** adds ``ForgePlan.owner: str?`` (the
  reader of ``bench_evolve``). Three writer types of ``ForgePlan`` (and two of ``ForgeTask``).
- **new** (the schema checked): v3 with ``ForgePlan.title: str[1..76]`` (a narrowed length, `LENGTH_NARROWED`:
  it breaks the stored plans with a longer title, about 1 in 100), ``ForgeTask.files: arr[1..8]<str>`` (a narrowed
  count, `COUNT_NARROWED`: no stored task has more, so `ok (0 of N values)`), and ``ForgeBatch.worktreeRef``
  renamed to ``@default("") worktree: str`` without ``@was`` (a static change: `FIELD_RENAMED_WITHOUT_WAS`, which
  the schemas decide; it changes ``ForgeBatch``'s id, so every batch is on the plan).

The values: 10 000 seeded 8-task plans (``workload.forge_plan(8, seed=k)``, each its own plan), value ``k``
written with version ``k % 3 + 1`` (v2 and v3 give every other plan's tasks an assignee), put into a new store
(``fsf.init_store``) and written as ``<hex>.fsv`` files. Contenders:

- **in process**: ``check_corpus`` (what ``fsf breaking --corpus`` calls) of every value of a freshly opened
  store (``Store.get`` of each id, as the command reads them) against ``Schema.verify`` of each value with its
  writer schema from that store, read the same way; and against ``Schema.verify`` of each file read from disk
  with the three versions' compiled schemas (the loop ``fsv verify`` runs).
- **command lines**: ``fsf breaking new.fsf --corpus STORE`` (exit 1: the title breaks some) against
  ``fsv verify --store STORE FILE…`` of the same values as files, each verified with its writer schema from the
  store (one process: ``-s`` names one schema, and the values have three). Each run is a fresh interpreter.

Every result is checked before timing (the counts of the corpus check, and that the peers accept every value).
Each round calls every contender once, in an order rotated from round to round; the ratio (ours ÷ peer) is taken
per round and its median reported. Times are CPU time (this process's and its children's) and wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import attrs

import fsf
from benchmarks import workload
from benchmarks.bench_evolve import NEW_FSF, Pair, _edit, pair
from benchmarks.bench_store import _FSF, _FSV, Call, interleave
from benchmarks.harness import command_line, replace_section, run_tool, section_parser, section_settings, write_section
from fsf.api import write_compiled
from fsf.breaking.corpus import Corpus, check_corpus
from fsf.fsv.header import read_header
from fsf.ir.ids import format_id
from fsf.store import Store, init_store, open_store

VALUES_N = 10_000
TASKS = 8
TARGET = 1.5
"""The issue's bound on the corpus check ÷ verify of the same values."""
HEADING = "## Breaking"

_BASE = workload.FORGE_PLAN_FSF.read_text(encoding="utf-8")
V1_FSF = _BASE
V2_FSF = _edit(V1_FSF, "  description: str\n}", "  description: str,\n  assignee: str?\n}")
V3_FSF = _edit(V2_FSF, "  batches: arr[0..256]<ForgeBatch>\n}", "  batches: arr[0..256]<ForgeBatch>,\n  owner: str?\n}")
assert V3_FSF == NEW_FSF  # the reader of the evolution benchmark
NEW_CHECKED_FSF = _edit(_edit(_edit(V3_FSF, "  title: str,\n  tasks:", "  title: str[1..76],\n  tasks:"),
                              "files: arr[0..256]<str>", "files: arr[1..8]<str>"),
                        "  worktreeRef: str\n", '  @default("") worktree: str\n')
VERSIONS = (V1_FSF, V2_FSF, V3_FSF)
EXPECTED_FINDINGS = {("LENGTH_NARROWED", "ForgePlan.title"), ("COUNT_NARROWED", "ForgeTask.files")}
"""What the corpus check counts: the plans' per-value findings (the rename is a finding of the schemas, which
``--against`` reports; on the values it only makes every batch one of the plan's steps)."""

CORPUS, VERIFY_STORE, VERIFY_FILES = "corpus", "verify-store", "verify-files"
BREAKING_CLI, VERIFY_CLI = "breaking-cli", "verify-cli"
LABELS = {CORPUS: "`check_corpus` of the store's values", VERIFY_STORE: "`Schema.verify` of each, read from the store",
          VERIFY_FILES: "`Schema.verify` of each file, read from disk",
          BREAKING_CLI: "`fsf breaking new.fsf --corpus STORE`", VERIFY_CLI: "`fsv verify --store STORE FILE…`"}


@attrs.frozen
class Settings:
    """Rounds in process and as command lines; values in the store."""

    rounds: int = 9
    cli_rounds: int = 5
    values: int = VALUES_N

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=1, cli_rounds=1, values=300)


@attrs.frozen
class Work:
    """The same values in a store and as files, the schemas, and what the corpus check finds."""

    folder: Path
    store: Path
    files: Path
    names: tuple[str, ...]
    fsbs: tuple[Path, ...]
    new: fsf.Schema
    found: Corpus
    sizes: tuple[int, int]
    """The smallest and largest value, in bytes."""


def plan_value(k: int) -> dict[str, Any]:
    """Plan ``k`` as a value of version ``k % 3 + 1`` (the fields a version lacks left out)."""
    plan = workload.forge_plan(TASKS, seed=k)
    version = k % 3 + 1
    if version >= 2:
        plan["tasks"] = [{**t, "assignee": f"dev-{i}" if k % 2 else None} for i, t in enumerate(plan["tasks"])]
    if version == 3:
        plan["owner"] = None
    return plan


def make(folder: Path, count: int) -> Work:
    """The store, the files and the compiled schemas under ``folder``; the corpus check run once and checked."""
    folder.mkdir(parents=True, exist_ok=True)
    fsbs = []
    for n, text in enumerate(VERSIONS, 1):
        (folder / f"v{n}.fsf").write_text(text, encoding="utf-8")
        fsbs.append(folder / f"v{n}.fsb")
        write_compiled(folder / f"v{n}.fsf", fsbs[-1])
    (folder / "new.fsf").write_text(NEW_CHECKED_FSF, encoding="utf-8")
    schemas = [fsf.load_schema(p) for p in fsbs]
    store = init_store(folder / "store")
    files = folder / "files"
    files.mkdir()
    names = []
    for k in range(count):
        schema = schemas[k % 3]
        data = schema.encode("ForgePlan", plan_value(k))
        ident = store.put(data, schema)
        names.append(ident.removeprefix("blake3:") + ".fsv")  # `fsv verify` checks a hex name too
        (files / names[-1]).write_bytes(data)
    new = fsf.load_schema(folder / "new.fsf")
    found = _corpus(new, open_store(store.where))
    assert found.values == count and found.writers == 3, found
    assert {c.finding.key for c in found.findings} == EXPECTED_FINDINGS, found.findings
    broken = {c.finding.rule: c.broken for c in found.findings}
    assert broken["COUNT_NARROWED"] == 0 < broken["LENGTH_NARROWED"], broken
    sizes = [len(p.read_bytes()) for p in (files / n for n in names)]
    return Work(folder, Path(store.where), files, tuple(names), tuple(fsbs), new, found, (min(sizes), max(sizes)))


def _corpus(new: fsf.Schema, store: Store) -> Corpus:
    return check_corpus(new, [store.get(i) for i in store], store)


def _verify_store(store: Store) -> None:
    for ident in store:
        data = store.get(ident)
        store.schema(format_id(read_header(data).root_id)).verify(data)


def _verify_files(schemas: dict[bytes, fsf.Schema], files: Path, names: tuple[str, ...]) -> None:
    for name in names:
        data = (files / name).read_bytes()
        schemas[read_header(data).root_id].verify(data)


def run(settings: Settings, folder: Path | None = None) -> tuple[Work, list[Pair]]:
    """Every pair, measured on a corpus made in a temporary folder (or under ``folder``)."""
    if folder is not None:
        return _run(settings, Path(tempfile.mkdtemp(prefix="bench-breaking-", dir=folder)))
    with tempfile.TemporaryDirectory(prefix="fsf-bench-breaking-") as tmp:
        return _run(settings, Path(tmp))


def _run(settings: Settings, folder: Path) -> tuple[Work, list[Pair]]:
    work = make(folder / "work", settings.values)
    by_id = {s.id_bytes("ForgePlan"): s for s in (fsf.load_schema(p) for p in work.fsbs)}
    library: dict[str, Call] = {
        CORPUS: lambda _r: _corpus(work.new, open_store(work.store)),
        VERIFY_STORE: lambda _r: _verify_store(open_store(work.store)),
        VERIFY_FILES: lambda _r: _verify_files(by_id, work.files, work.names),
    }
    breaking = [_FSF, "breaking", "new.fsf", "--corpus", str(work.store)]
    verify = [_FSV, "verify", "--store", str(work.store), *work.names]
    doc = json.loads(run_tool([*breaking, "--format", "json"], work.folder, codes=(1,), capture=True))
    assert doc["corpus"] == {"values": settings.values, "writer_types": 3}, doc["corpus"]
    run_tool(verify, work.files)
    cli: dict[str, Call] = {
        BREAKING_CLI: lambda _r: run_tool(breaking, work.folder, codes=(1,)),
        VERIFY_CLI: lambda _r: run_tool(verify, work.files),
    }
    lib_times = interleave(library, settings.rounds)
    cli_times = interleave(cli, settings.cli_rounds)
    op = f"{_n(settings.values)} values"
    return work, [pair(f"{op}, in process", CORPUS, VERIFY_STORE, lib_times),
                  pair(f"{op}, in process", CORPUS, VERIFY_FILES, lib_times),
                  pair(f"{op}, command lines", BREAKING_CLI, VERIFY_CLI, cli_times)]


def _n(count: int) -> str:
    """A count as RESULTS.md writes it: ``10 000``."""
    return f"{count:,}".replace(",", " ")


# -- the section -------------------------------------------------------------------------------------------------


def section(measured: tuple[Work, list[Pair]], settings: Settings, command: str) -> list[str]:
    """The "## Breaking" section of ``RESULTS.md``."""
    work, pairs = measured
    from benchmarks.report import _commit, _fmt, _machine

    counted = {c.finding.rule: c for c in work.found.findings}
    title = counted["LENGTH_NARROWED"]
    lines = [
        HEADING,
        "",
        "`fsf breaking --corpus` over a store of values written under three successive versions of the ForgePlan",
        "schema, against verifying the same values (`benchmarks/bench_breaking.py`; its docstring gives the",
        "schemas). v1 is `shapes/forge-plan.fsf`, v2 adds `ForgeTask.assignee: str?`, v3 adds `ForgePlan.owner:",
        "str?`; the new schema narrows `ForgePlan.title` to `str[1..76]` and `ForgeTask.files` to `arr[1..8]` and",
        "renames `ForgeBatch.worktreeRef` to `worktree` (with `@default(\"\")`, without `@was`: a finding of the",
        "schemas, reported with `--against`). Only the values that break are decoded and walked; the others are",
        "checked once by the C codec against their writer's types with the new schema's bounds folded in",
        "(`docs/breaking.md`, \"Against the stored values\"). Ratios are medians of per-round ratios (ours ÷ peer,",
        "both timed in the same round, the order rotated from round to round); times are medians. CPU time is",
        "this process's and its children's.",
        "",
        f"- Values: {_n(work.found.values)} seeded {TASKS}-task plans, each its own, {work.sizes[0]:,} to "
        f"{work.sizes[1]:,} bytes, of {work.found.writers} writer types; walked: {_n(work.found.walked)}",
        f"- Found: `LENGTH_NARROWED` at `ForgePlan.title`, {_n(title.broken)} of {_n(title.total)} values break; "
        f"`COUNT_NARROWED` at `ForgeTask.files`, ok (0 of {_n(counted['COUNT_NARROWED'].total)})",
        f"- Date: {dt.date.today().isoformat()}; commit: {_commit()}",
        f"- Machine: {_machine()}",
        f"- Rounds: {settings.rounds} in process, {settings.cli_rounds} as command lines (each a fresh interpreter, "
        "its start-up included)",
        f"- Reproduce: `{command}`",
    ]
    for p in pairs if work.found.values == VALUES_N else ():  # the target is of 10 000 values
        if p.peer in (VERIFY_STORE, VERIFY_CLI):
            verdict = "met" if p.ratio_cpu <= TARGET else "**not met**"
            where = "in process" if p.peer == VERIFY_STORE else "as command lines"
            lines.append(f"- Target {where}: the corpus check ≤ {TARGET}× verify of the same values: "
                         f"{p.ratio_cpu:.2f}× (CPU), {p.ratio_wall:.2f}× (wall), {verdict}")
    lines += ["", "| values | ours | peer | ours (CPU) | peer (CPU) | ratio (CPU) | ratio (wall) |",
              "|---|---|---|---:|---:|---:|---:|"]
    for p in pairs:
        lines.append(f"| {p.op} | {LABELS[p.ours]} | {LABELS[p.peer]} | {_fmt(p.ours_cpu)} | {_fmt(p.peer_cpu)} | "
                     f"{p.ratio_cpu:.2f}× | {p.ratio_wall:.2f}× |")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Command line: run the breaking benchmark, print the section or write it into a RESULTS.md."""
    parser = section_parser(__doc__, HEADING, "a few rounds on 300 values (proves it runs)")
    parser.add_argument("--rounds", type=int, help="rounds in process")
    parser.add_argument("--cli-rounds", type=int, help="rounds as command lines")
    parser.add_argument("--values", type=int, help="values in the store")
    parser.add_argument("--dir", type=Path, help="work under this folder and keep what is made there")
    args = parser.parse_args(argv)
    settings = section_settings(args, Settings, ("rounds", "cli_rounds", "values"))
    command = command_line("benchmarks.bench_breaking", argv)
    lines = section(run(settings, args.dir), settings, command)
    write_section(lines, args.out, HEADING)


def test_breaking_bench_quick(tmp_path: Path) -> None:
    """The quick run completes (the corpus check's findings and counts checked) and renders a row per pair (no
    timing is asserted)."""
    settings = Settings.quick()
    work, pairs = run(settings, tmp_path)
    assert len(pairs) == 3 and work.found.walked == next(c.broken for c in work.found.findings
                                                         if c.finding.rule == "LENGTH_NARROWED")
    lines = section((work, pairs), settings, "pytest")
    assert lines[0] == HEADING and sum(line.startswith("| 300 values") for line in lines) == 3
    assert replace_section(replace_section("# R\n", HEADING, lines), HEADING, lines).count(HEADING) == 1


if __name__ == "__main__":
    main()
