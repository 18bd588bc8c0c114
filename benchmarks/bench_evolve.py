"""Benchmark, evolution: decoding a ForgePlan written with a previous version of its schema (read strictly as the
writer's type from a store, then resolved) against plain decodes in the same rounds -> medians of per-round ratios
(the "Evolution" section of ``RESULTS.md``).

    python -m benchmarks.bench_evolve                               # print the section
    python -m benchmarks.bench_evolve --out benchmarks/RESULTS.md   # replace (or add) its "## Evolution" section
    python -m benchmarks.bench_evolve --quick                       # a few rounds: proves it runs

``python -m benchmarks.report`` runs it too (``--no-evolve`` skips it). The target (the evolution issue): decoding
the 512-task plan written with the previous version of the schema costs at most 1.5× a plain decode of the same
value, and a value whose type changed only in doc comments or annotations costs nothing extra.

The schemas are text edits of ``shapes/forge-plan.fsf`` made here (that file has no optional field to leave out):

- **new** (the reader): the file with one optional field added to ``ForgeTask`` (``assignee: str?``) and one to
  ``ForgePlan`` (``owner: str?``).
- **old, task changed**: the new schema without ``ForgeTask.assignee`` and with a narrower bound that the new one
  widens (``dependsOn: arr[0..64]<str>``, new ``arr[0..128]``). ``ForgeTask`` and ``ForgePlan`` have other ids
  than the new ones: every task is rebuilt by the resolver (the widened bound itself costs nothing, no value can
  break it); ``ForgeBatch`` has the same id on both sides and is taken as it is.
- **old, plan field added**: the new schema without ``ForgePlan.owner``. Only the root has another id: the tasks
  and batches are taken as they are, only the root's dict is rebuilt.
- **docs**: the new schema with a ``///`` doc comment on ``ForgeTask`` and ``@deprecated("…")`` on a field. Every
  id is the new schema's, so ``decode(store=…)`` of a new value takes the direct path (``Schema.read(…).resolved``
  is False, asserted).

The seeded plan (``workload.forge_plan``, 512 tasks and 8) is encoded with each old schema (without the fields it
lacks) and with the new one (those fields absent, ``None``); the old schemas are recorded in a temporary store
(``fsf.init_store`` + ``Store.add_schema``). Contenders, per size:

- ``new.decode(old, store=store)``: resolution (strict decode as the writer type from the store + the resolver),
  against ``old.decode(old)`` (plain decode of the same bytes by their own schema) and against
  ``new.decode(new)`` (plain decode of the new type's bytes of the same plan);
- ``docs.decode(new, store=store)`` against ``docs.decode(new)``.

Every resolved value is checked equal to ``new.decode(new)`` before timing; the first resolved decode (which
builds and caches the plan) is done before timing too, and its cost is shown apart (``plan build``: a fresh
resolver from the two schemas, median of a few builds). Each round calls every contender once (a batch of
``repeat`` calls, timed together), in an order rotated from round to round; the ratio (ours ÷ peer) is taken per
round and its median reported. Times are CPU time of this process (``time.process_time``) and wall-clock time.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs

import fsf
from benchmarks import workload
from benchmarks.bench_store import Call, interleave
from benchmarks.harness import command_line, replace_section, section_parser, section_settings, write_section
from fsf.evolve import resolver

PLAN_TASKS = 512
SMALL_PLAN_TASKS = 8
TARGET = 1.5
"""The issue's bound on resolution ÷ plain decode at 512 tasks."""

_BASE = workload.FORGE_PLAN_FSF.read_text(encoding="utf-8")


def _edit(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced by ``new`` exactly once (an edit that no longer applies is an error)."""
    assert text.count(old) == 1, f"{old!r} is not once in the schema text"
    return text.replace(old, new)


NEW_FSF = _edit(_edit(_BASE, "  description: str\n}", "  description: str,\n  assignee: str?\n}"),
                "  batches: arr[0..256]<ForgeBatch>\n}", "  batches: arr[0..256]<ForgeBatch>,\n  owner: str?\n}")
"""The reader: ``shapes/forge-plan.fsf`` with ``ForgeTask.assignee: str?`` and ``ForgePlan.owner: str?``."""
OLD_TASK_FSF = _edit(_edit(NEW_FSF, "  description: str,\n  assignee: str?\n}", "  description: str\n}"),
                     "dependsOn: arr[0..128]<str>", "dependsOn: arr[0..64]<str>")
"""The previous version, task changed: no ``ForgeTask.assignee``, ``dependsOn`` bounded at 64 (the new one: 128)."""
OLD_PLAN_FSF = _edit(NEW_FSF, "  batches: arr[0..256]<ForgeBatch>,\n  owner: str?\n}",
                     "  batches: arr[0..256]<ForgeBatch>\n}")
"""The previous version, a top-level field added since: no ``ForgePlan.owner``."""
DOCS_FSF = _edit(_edit(NEW_FSF, "shape ForgeTask {", "/// One unit of work of a plan.\nshape ForgeTask {"),
                 "  title: str,\n  tasks:", '  @deprecated("shown in the plan\'s header only")\n  title: str,\n  tasks:')
"""The new schema changed only in a doc comment and an annotation (the same ids)."""

RESOLVE_TASK, OLD_TASK, RESOLVE_PLAN, OLD_PLAN = "resolve-task", "old-task", "resolve-plan", "old-plan"
NEW_PLAIN, DOCS_STORE, DOCS_PLAIN = "new", "docs-store", "docs"
LABELS = {RESOLVE_TASK: "`new.decode(old, store=…)`", OLD_TASK: "`old.decode(old)`",
          RESOLVE_PLAN: "`new.decode(old, store=…)`", OLD_PLAN: "`old.decode(old)`", NEW_PLAIN: "`new.decode(new)`",
          DOCS_STORE: "`docs.decode(new, store=…)`", DOCS_PLAIN: "`docs.decode(new)`"}
"""The contenders (keys of the timing run) and how the table names them."""


@attrs.frozen
class Settings:
    """Rounds of each size; calls per round and contender (a batch timed together) at 512 and at 8 tasks."""

    rounds: int = 200
    repeat: int = 3
    small_repeat: int = 100
    plan_builds: int = 20

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=5, repeat=1, small_repeat=5, plan_builds=2)


@attrs.frozen
class Schemas:
    new: fsf.Schema
    old_task: fsf.Schema
    old_plan: fsf.Schema
    docs: fsf.Schema

    @classmethod
    def compile(cls) -> Schemas:
        made = cls(*(fsf.compile_source(text, "forge-plan.fsf") for text in (NEW_FSF, OLD_TASK_FSF, OLD_PLAN_FSF,
                                                                                DOCS_FSF)))
        for name in made.new.shapes:
            assert made.docs.id(name) == made.new.id(name), name
        for old, changed in ((made.old_task, {"ForgeTask", "ForgePlan"}), (made.old_plan, {"ForgePlan"})):
            assert {n for n in made.new.shapes if old.id(n) != made.new.id(n)} == changed
        return made


@attrs.frozen
class Pair:
    """One of ours against one peer: medians of the CPU times per call, medians of the per-round ratios."""

    op: str
    ours: str
    peer: str
    rounds: int
    ours_cpu: float
    peer_cpu: float
    ratio_cpu: float
    ratio_wall: float


def pair(op: str, ours: str, peer: str, times: dict[str, list[tuple[float, float]]]) -> Pair:
    """``ours`` against ``peer`` from one :func:`~benchmarks.bench_store.interleave` run ((wall, CPU) per round)."""
    a, b = times[ours], times[peer]
    return Pair(op, ours, peer, len(a), statistics.median(x[1] for x in a), statistics.median(y[1] for y in b),
                statistics.median(x[1] / max(y[1], 1e-9) for x, y in zip(a, b, strict=True)),
                statistics.median(x[0] / max(y[0], 1e-9) for x, y in zip(a, b, strict=True)))


@attrs.frozen
class Result:
    """One size: the pairs (ours ÷ peer) and how long building a plan takes."""

    tasks: int
    nbytes: dict[str, int]
    pairs: list[Pair]
    plan_build: dict[str, float]


def _values(tasks: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The seeded plan as a value of the new type, of the old type without ``assignee`` and of the old type
    without ``owner`` (the fields the new type adds are absent: ``None``)."""
    plan = workload.forge_plan(tasks)
    new = {**plan, "owner": None, "tasks": [{**t, "assignee": None} for t in plan["tasks"]]}
    return new, {**plan, "owner": None}, {k: v for k, v in new.items() if k != "owner"}


def run_size(schemas: Schemas, store: fsf.Store, tasks: int, rounds: int, repeat: int,
             plan_builds: int) -> Result:
    """Every contender at ``tasks`` tasks, interleaved over ``rounds`` rounds of ``repeat`` calls each."""
    s = schemas
    new_value, old_task_value, old_plan_value = _values(tasks)
    new_bytes = s.new.encode("ForgePlan", new_value)
    old_task_bytes = s.old_task.encode("ForgePlan", old_task_value)
    old_plan_bytes = s.old_plan.encode("ForgePlan", old_plan_value)
    expected = s.new.decode(new_bytes)
    for data, old in ((old_task_bytes, s.old_task), (old_plan_bytes, s.old_plan)):
        got = s.new.read(data, store=store)  # builds and caches the plan: not timed
        assert got.resolved and got.name == "ForgePlan" and got.value == expected
        assert old.decode(data) != expected  # the old form lacks a field
    direct = s.docs.read(new_bytes, store=store)
    assert not direct.resolved and direct.value == expected

    def batch(fn: Any, *args: Any, **kwargs: Any) -> Call:
        def call(r: int) -> None:
            for _ in range(repeat):
                fn(*args, **kwargs)

        return call

    cases: dict[str, Call] = {
        RESOLVE_TASK: batch(s.new.decode, old_task_bytes, store=store),
        OLD_TASK: batch(s.old_task.decode, old_task_bytes),
        RESOLVE_PLAN: batch(s.new.decode, old_plan_bytes, store=store),
        OLD_PLAN: batch(s.old_plan.decode, old_plan_bytes),
        NEW_PLAIN: batch(s.new.decode, new_bytes),
        DOCS_STORE: batch(s.docs.decode, new_bytes, store=store),
        DOCS_PLAIN: batch(s.docs.decode, new_bytes),
    }
    times = interleave(cases, rounds)
    per_call = {name: [(w / repeat, c / repeat) for w, c in ts] for name, ts in times.items()}
    task_op, plan_op = f"{tasks} tasks, task changed", f"{tasks} tasks, plan field added"
    docs_op = f"{tasks} tasks, docs and annotations only"
    pairs = [pair(task_op, RESOLVE_TASK, OLD_TASK, per_call), pair(task_op, RESOLVE_TASK, NEW_PLAIN, per_call),
             pair(plan_op, RESOLVE_PLAN, OLD_PLAN, per_call), pair(plan_op, RESOLVE_PLAN, NEW_PLAIN, per_call),
             pair(docs_op, DOCS_STORE, DOCS_PLAIN, per_call), pair(docs_op, DOCS_PLAIN, NEW_PLAIN, per_call)]
    builds = {"task changed": _plan_build(s.old_task, s.new, plan_builds),
              "plan field added": _plan_build(s.old_plan, s.new, plan_builds)}
    nbytes = {"new": len(new_bytes), "old, task changed": len(old_task_bytes),
              "old, plan field added": len(old_plan_bytes)}
    return Result(tasks, nbytes, pairs, builds)


def _plan_build(writer: fsf.Schema, reader: fsf.Schema, builds: int) -> float:
    """Median CPU seconds of building the resolver of ``writer``'s ForgePlan as ``reader``'s (match + compile)."""
    out = []
    for _ in range(builds):
        start = time.process_time()
        resolver(writer._side(), "ForgePlan", reader._side(), "ForgePlan")
        out.append(time.process_time() - start)
    return statistics.median(out)


def run(settings: Settings) -> list[Result]:
    """Both sizes, the old schemas in a new temporary store."""
    schemas = Schemas.compile()
    with tempfile.TemporaryDirectory(prefix="fsf-bench-evolve-") as tmp:
        store = fsf.init_store(Path(tmp) / "store")
        store.add_schema(schemas.old_task, ["ForgePlan"])
        store.add_schema(schemas.old_plan, ["ForgePlan"])
        return [run_size(schemas, store, PLAN_TASKS, settings.rounds, settings.repeat, settings.plan_builds),
                run_size(schemas, store, SMALL_PLAN_TASKS, settings.rounds, settings.small_repeat,
                         settings.plan_builds)]


# -- the section -------------------------------------------------------------------------------------------------

HEADING = "## Evolution"


def section(results: list[Result], settings: Settings, command: str) -> list[str]:
    """The "## Evolution" section of ``RESULTS.md``."""
    from benchmarks.report import _commit, _fmt, _machine

    big = next((r for r in results if r.tasks == PLAN_TASKS), None)
    lines = [
        HEADING,
        "",
        "Decoding a ForgePlan written with a previous version of its schema (strict decode as the writer's type",
        "from a store, then resolved into the reader's type, `docs/evolution.md`) against plain decodes in the",
        "same rounds (`benchmarks/bench_evolve.py`; its docstring gives the schemas). `new` is",
        "`shapes/forge-plan.fsf` plus the optional fields `ForgeTask.assignee` and `ForgePlan.owner`; `old, task",
        "changed` lacks `assignee` and bounds `dependsOn` at 64 (new: 128), so every task is rebuilt; `old, plan",
        "field added` lacks only `owner` (tasks and batches keep their ids and are taken as they are); `docs`",
        "differs from `new` only in a `///` comment and a `@deprecated` annotation (the same ids: the direct path,",
        "`Schema.read(...).resolved` is False). `old` and `new` are the same plan, so the second row of each",
        "pair compares with the new type's own bytes. Ratios are medians of per-round ratios (ours ÷ peer, both",
        "timed in the same round, the order rotated from round to round); times are medians per call. At 8",
        "tasks the extra is mostly a fixed cost per call of the resolved path (the writer's schema found in the",
        "store by the header's id, the root matched, the cached plan looked up), spread over 64 times the work",
        "at 512 tasks.",
        "",
        f"- Date: {dt.date.today().isoformat()}; commit: {_commit()}",
        f"- Machine: {_machine()}",
        f"- Rounds: {settings.rounds} per size; calls per round and contender: {settings.repeat} at "
        f"{PLAN_TASKS} tasks, {settings.small_repeat} at {SMALL_PLAN_TASKS}",
        f"- Reproduce: `{command}`",
    ]
    if big is not None:
        ratio = next(p.ratio_cpu for p in big.pairs if p.ours == RESOLVE_TASK and p.peer == OLD_TASK)
        verdict = "met" if ratio <= TARGET else "**not met**"
        lines.append(f"- Target: resolution of the {PLAN_TASKS}-task plan (task changed) ≤ {TARGET}× a plain "
                     f"decode of the same bytes: {ratio:.2f}× (CPU), {verdict}")
    lines += ["", "| value | ours | peer | ours (CPU) | peer (CPU) | ratio (CPU) | ratio (wall) |",
              "|---|---|---|---:|---:|---:|---:|"]
    for r in results:
        for p in r.pairs:
            lines.append(f"| {p.op} | {LABELS[p.ours]} | {LABELS[p.peer]} | {_fmt(p.ours_cpu)} | {_fmt(p.peer_cpu)} | "
                         f"{p.ratio_cpu:.2f}× | {p.ratio_wall:.2f}× |")
    lines += ["", "Sizes and the one-time cost of a plan (matching the two types and compiling the resolver; done",
              "once per reader and writer schema object and cached, so it is not in the rows above):", "",
              "| tasks | bytes: new | old, task changed | old, plan field added | plan build: task changed | "
              "plan field added |", "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.tasks} | {r.nbytes['new']:,} | {r.nbytes['old, task changed']:,} | "
                     f"{r.nbytes['old, plan field added']:,} | {_fmt(r.plan_build['task changed'])} | "
                     f"{_fmt(r.plan_build['plan field added'])} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Command line: run the evolution benchmark, print the section or write it into a RESULTS.md."""
    parser = section_parser(__doc__, HEADING)
    parser.add_argument("--rounds", type=int, help="rounds per size")
    parser.add_argument("--repeat", type=int, help=f"calls per round and contender at {PLAN_TASKS} tasks")
    parser.add_argument("--small-repeat", type=int, help=f"calls per round and contender at {SMALL_PLAN_TASKS} tasks")
    args = parser.parse_args(argv)
    settings = section_settings(args, Settings, ("rounds", "repeat", "small_repeat"))
    command = command_line("benchmarks.bench_evolve", argv)
    lines = section(run(settings), settings, command)
    write_section(lines, args.out, HEADING)


def test_evolve_bench_quick() -> None:
    """The quick run completes (every resolved value checked equal to the new decode, the docs-only schema on the
    direct path) and renders a row per pair (no timing is asserted)."""
    settings = Settings.quick()
    results = run(settings)
    assert [r.tasks for r in results] == [PLAN_TASKS, SMALL_PLAN_TASKS] and all(len(r.pairs) == 6 for r in results)
    lines = section(results, settings, "pytest")
    assert lines[0] == HEADING and sum(line.startswith(f"| {PLAN_TASKS} tasks") for line in lines) == 6
    assert replace_section(replace_section("# R\n", HEADING, lines), HEADING, lines).count(HEADING) == 1


if __name__ == "__main__":
    main()
