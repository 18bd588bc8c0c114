"""Benchmark, views: FSV bytes of the seeded ForgePlan workloads -> Markdown views -> pytest-benchmark timings, and
the view layer against a plain jinja2 render of the same template in the same rounds -> medians of per-round ratios
(the "Views, side by side" section of ``RESULTS.md``).

    python -m pytest benchmarks/bench_views.py --benchmark-enable   # the pytest-benchmark timings
    python -m benchmarks.bench_views                                # print the section
    python -m benchmarks.bench_views --out benchmarks/RESULTS.md    # replace (or add) its section
    python -m benchmarks.bench_views --quick                        # a few rounds: proves it runs

The target (the speed issue, second round): rendering the 512-task plan costs at most 2× a plain jinja2 render of
the same template and the decoded dicts. What runs, per size (the ``ForgePlan`` workloads of
``benchmarks/workload.py``):

- the peer, ``plain jinja2``: a ``jinja2.Environment`` with the whitespace options of the views (``trim_blocks``,
  ``lstrip_blocks``, ``keep_trailing_newline``), autoescape off, no sandbox, no finalize, the template compiled
  once outside the timing, rendered with the decoded dicts as ``value``. The template's two filters of our own
  are the least a plain render could do: ``code`` wraps its value in one pair of backticks, ``paragraphs`` is
  ``str``; ``join`` and ``map`` are Jinja's;
- ``fsf.render_markdown``: what ``fsv render`` calls, from the FSV bytes (decode with the strict canonical
  check, template lookup, the view model, the sandboxed template, escaping, budgets, the provenance line);
- reference rows, each also ÷ the peer: ``render_with`` (the view layer alone: the decoded dicts and the
  template found once, as the peer gets them), ``Schema.decode`` (what ``render_markdown`` adds before it), and
  ``sandboxed jinja2`` (the peer's environment and filters in Jinja's ``ImmutableSandboxedEnvironment``: the
  cost of the sandbox itself).

Each round runs every contender ``calls`` times (CPU time, ``time.process_time``), in an order rotated from
round to round; the figure is the median over rounds of (contender ÷ peer) in that round.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs
import jinja2
import jinja2.sandbox
import pytest

import fsf
from benchmarks import workload
from benchmarks.harness import command_line, replace_section, section_parser, section_settings, write_section
from benchmarks.workload import SIZES
from fsf import views
from fsf.render import bundled_views
from fsf.views.render import render_with

HEADING = "## Views, side by side"
TARGET = 2.0
"""The issue's bound on ``fsf.render_markdown`` ÷ plain jinja2 at 512 tasks."""
TARGET_TASKS = 512
CLOCK = time.process_time
PEER = "plain jinja2"
RENDER_MARKDOWN = "`fsf.render_markdown` (FSV bytes)"
RENDER_WITH = "`render_with` (decoded dicts: the view layer alone)"
DECODE = "`Schema.decode` (FSV bytes)"
SANDBOXED = "sandboxed jinja2 (the peer in `ImmutableSandboxedEnvironment`)"
CONTENDERS = (PEER, RENDER_MARKDOWN, RENDER_WITH, DECODE, SANDBOXED)
CALLS = {8: 100, 64: 15, 512: 2}
"""Calls per contender per round, so that one contender's turn takes some milliseconds."""


@attrs.frozen
class Settings:
    """How long to measure."""

    rounds: int = 25
    sizes: tuple[int, ...] = SIZES

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3, sizes=(8, 512))


@attrs.frozen
class Row:
    """One contender at one size: the median of its own times, and of its per-round ratios to the peer."""

    tasks: int
    contender: str
    median: float
    ratio: float


def peer_template(source: str, *, sandboxed: bool = False) -> jinja2.Template:
    """The peer: ``source`` compiled by a plain (or Jinja's sandboxed) environment with the views' whitespace
    options and the least ``code`` and ``paragraphs`` filters a plain render could have."""
    cls = jinja2.sandbox.ImmutableSandboxedEnvironment if sandboxed else jinja2.Environment
    env = cls(autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["code"] = lambda value, in_table=True: f"`{value}`"
    env.filters["paragraphs"] = str
    return env.from_string(source)


def contenders(schema: fsf.Schema, tasks: int) -> dict[str, Callable[[], Any]]:
    """Each contender's one call on the ``tasks``-task plan (everything it is given is built here, untimed)."""
    data = schema.encode("ForgePlan", workload.forge_plan(tasks))
    value = schema.decode(data)
    choice = views.find_template("ForgePlan", None, (), type_id=schema.id("ForgePlan"), bundled=bundled_views)
    plain, sandboxed = peer_template(choice.source), peer_template(choice.source, sandboxed=True)
    ir, type_id, value_id, limits = schema.ir, schema.id("ForgePlan"), fsf.content_id(data), views.Limits()
    return {
        PEER: lambda: plain.render(value=value),
        RENDER_MARKDOWN: lambda: fsf.render_markdown(schema, data),
        RENDER_WITH: lambda: render_with(ir, "ForgePlan", value, value_id, type_id, choice, limits),
        DECODE: lambda: schema.decode(data),
        SANDBOXED: lambda: sandboxed.render(value=value),
    }


def _check(calls: dict[str, Callable[[], Any]], tasks: int) -> None:
    """Every renderer writes one section per task (the peer renders the same document, unescaped)."""
    for name in (PEER, RENDER_MARKDOWN, RENDER_WITH, SANDBOXED):
        text = calls[name]()
        assert text.count("\n### T") == tasks, name


def run(settings: Settings) -> list[Row]:
    """Measure every contender at every size; rows in the order of ``CONTENDERS``."""
    schema = fsf.load_schema(workload.FORGE_PLAN_FSF)
    rows: list[Row] = []
    for tasks in settings.sizes:
        calls = contenders(schema, tasks)
        _check(calls, tasks)
        n = CALLS.get(tasks, 10)
        times: dict[str, list[float]] = {name: [] for name in CONTENDERS}
        for r in range(settings.rounds + 1):  # round 0 warms caches (templates, bundled views) and is dropped
            order = CONTENDERS[r % len(CONTENDERS):] + CONTENDERS[:r % len(CONTENDERS)]
            for name in order:
                call = calls[name]
                start = CLOCK()
                for _ in range(n):
                    call()
                if r:
                    times[name].append((CLOCK() - start) / n)
        peer = times[PEER]
        rows += [Row(tasks, name, statistics.median(times[name]),
                     statistics.median(t / p for t, p in zip(times[name], peer, strict=True))) for name in CONTENDERS]
    return rows


def verdict(rows: list[Row]) -> str:
    row = next((r for r in rows if r.tasks == TARGET_TASKS and r.contender == RENDER_MARKDOWN), None)
    if row is None:
        return f"views: no {TARGET_TASKS}-task row in this run"
    met = "met" if row.ratio <= TARGET else "NOT met"
    return f"views: render_markdown {TARGET_TASKS} tasks = {row.ratio:.2f}x plain jinja2 (target <= {TARGET:g}x): {met}"


def section(rows: list[Row], settings: Settings, command: str) -> list[str]:
    """The RESULTS.md section."""
    from benchmarks.report import _commit, _fmt, _machine

    lines = [
        HEADING,
        "",
        "The view layer against a plain jinja2 render of the same template (`shapes/ForgePlan.md.j2`) and the same",
        "decoded dicts, in the same rounds (`benchmarks/bench_views.py`; its docstring says what each contender",
        "does). Figures are medians over rounds of (contender ÷ plain jinja2) in that round, CPU time, the order",
        "rotated from round to round; the reference rows show where the time of `fsf.render_markdown` goes.",
        "",
        f"- Date: {dt.date.today().isoformat()}; commit: {_commit()}",
        f"- Machine: {_machine()}",
        f"- Rounds: {settings.rounds} (after one untimed round), calls per round: "
        + ", ".join(f"{CALLS.get(t, 10)} at {t} tasks" for t in settings.sizes),
        f"- Target: `fsf.render_markdown` of the {TARGET_TASKS}-task plan ≤ {TARGET:g}× plain jinja2",
        f"- Reproduce: `{command}`",
        "",
        "| tasks | contender | median | ÷ plain jinja2 | goal | verdict |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        target = r.tasks == TARGET_TASKS and r.contender == RENDER_MARKDOWN
        goal = f"≤ {TARGET:g}×" if target else ""
        met = ("met" if r.ratio <= TARGET else "**not met**") if target else ""
        ratio = "1 (peer)" if r.contender == PEER else f"{r.ratio:.2f}×"
        lines.append(f"| {r.tasks} | {r.contender} | {_fmt(r.median)} | {ratio} | {goal} | {met} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    """Command line: run the side-by-side benchmark, print the section or write it into a RESULTS.md."""
    parser = section_parser(__doc__, HEADING)
    parser.add_argument("--rounds", type=int, help="timed rounds")
    parser.add_argument("--sizes", type=int, nargs="+", help="task counts (default: 8 64 512)")
    args = parser.parse_args(argv)
    settings = section_settings(args, Settings, ("rounds", "sizes"))
    command = command_line("benchmarks.bench_views", argv)
    rows = run(settings)
    lines = section(rows, settings, command)
    print(verdict(rows), file=sys.stderr)
    write_section(lines, args.out, HEADING)


@pytest.mark.parametrize("tasks", SIZES)
def test_render_forge_plan_view(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], tasks: int) -> None:
    """The ForgePlan per-type template (``shapes/ForgePlan.md.j2``) from FSV bytes."""
    data = forge_schema.encode("ForgePlan", plans[tasks])
    text = benchmark(fsf.render_markdown, forge_schema, data)
    assert text.count("\n### T") == tasks


@pytest.mark.parametrize("tasks", SIZES)
def test_render_generic_view(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], tasks: int) -> None:
    """The bundled generic template (outline of sections, bullets and tables) from FSV bytes."""
    data = forge_schema.encode("ForgePlan", plans[tasks])
    text = benchmark(fsf.render_markdown, forge_schema, data, template_dirs=[])
    assert text.splitlines()[1] == "# ForgePlan"


def test_drift_check_512(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any]) -> None:
    """One drift check: render the 512-task view again and compare it with the committed text."""
    data = forge_schema.encode("ForgePlan", plans[512])
    committed = fsf.render_markdown(forge_schema, data)
    assert benchmark(lambda: views.diff_views(committed, fsf.render_markdown(forge_schema, data), "plan.md")) == ""


def test_side_by_side_quick() -> None:
    """The quick run completes: a row per contender and size, the peer's own ratio 1, a section that replaces
    itself (no timing is asserted)."""
    settings = attrs.evolve(Settings.quick(), rounds=1)
    rows = run(settings)
    assert [(r.tasks, r.contender) for r in rows] == [(t, c) for t in settings.sizes for c in CONTENDERS]
    assert all(r.ratio == 1 for r in rows if r.contender == PEER)
    lines = section(rows, settings, "pytest")
    assert lines[0] == HEADING and len(lines) == 15 + len(rows)
    assert replace_section(replace_section("# R\n", HEADING, lines), HEADING, lines).count(HEADING) == 1
    assert verdict(rows).startswith(f"views: render_markdown {TARGET_TASKS} tasks = ")


if __name__ == "__main__":
    main()
