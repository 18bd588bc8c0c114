"""Benchmark, start-up: one `fsf`/`fsv` command on one small schema or value, as a fresh process, against an empty
interpreter (``python -c pass``) in the same rounds -> medians of per-round ratios (the "Start-up" section of
``RESULTS.md``).

    python -m benchmarks.bench_startup                               # print the section
    python -m benchmarks.bench_startup --out benchmarks/RESULTS.md   # replace (or add) its "## Start-up" section
    python -m benchmarks.bench_startup --quick                       # a few rounds: proves it runs

``python -m benchmarks.report`` runs it too (``--no-startup`` skips it). These commands run once per file in git's
textconv, in pre-commit hooks and in scripts over many files, so their cost is mostly start-up. The targets (the
command-line issue): ``fsv verify`` of one small value with a compiled ``.fsb`` schema at most 5× an empty
interpreter, ``fsv decode`` and ``fsv encode`` with a ``.fsf`` schema at most 8×, ``fsf check`` of one small
schema at most 8×.

What runs: each command as its console script does (``python -c "from fsf.cli.fsv_tool import main; main()"
ARGS…``) in a scratch folder with a four-field schema (``task.fsf`` and its ``task.fsb``), one value of it
(``task.json``, ``task.fsv``) and no store to find. Reference rows (no target) show the floors the commands stand
on, as processes too: ``import fsf``, ``import typer``, ``import attrs`` (the data classes every stage is made of:
under ``import fsf`` and all the rest), and the library calls a command makes without the command line
(``import fsf`` + load + verify or decode). Children write and read bytecode caches as an installed
package does (``PYTHONPYCACHEPREFIX`` points to a scratch folder; ``PYTHONDONTWRITEBYTECODE`` is dropped), one
untimed round warms them, and each command's heavy imports (lark, jinja2, pydantic, rich, typer) are recorded from a
separate run.

Times are wall-clock (``time.perf_counter``) and the CPU time of the child (``RUSAGE_CHILDREN``: user + system).
Each round runs every contender once, in an order rotated from round to round; the ratio (command ÷ empty
interpreter) is taken per round and its median reported. The verdict uses the CPU ratio: on a shared machine
other jobs stretch wall time, not CPU time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs

from benchmarks.harness import command_line, replace_section, section_parser, section_settings, write_section

try:
    import resource
except ImportError:  # pragma: no cover - Windows: no CPU column for children
    resource = None  # type: ignore[assignment]

HEADING = "## Start-up"
SCHEMA = """\
/// A unit of work.
shape Task {
  id: str[1..16],
  title: str,
  done: bool,
  dependsOn: arr[0..8]<str>,
}
"""
VALUE = {"id": "T1", "title": "Write the start-up benchmark", "done": False, "dependsOn": ["T0"]}
HEAVY = ("lark", "jinja2", "pydantic", "rich", "typer")
"""Imports a command should make only when it needs them (the parser, the views; pydantic and rich never, typer only
for help and errors: an ordinary command line takes the fast path, fsf/cli/argspec.py)."""
_FSF = "from fsf.cli.fsf_tool import main; main()"
_FSV = "from fsf.cli.fsv_tool import main; main()"
_VERIFY_FLOOR = "import fsf, pathlib; fsf.load_schema('task.fsb').verify(pathlib.Path('task.fsv').read_bytes())"
_DECODE_FLOOR = "import fsf, pathlib; fsf.load_schema('task.fsf').decode(pathlib.Path('task.fsv').read_bytes())"
_CHECK_FLOOR = "import fsf; fsf.load_schema('task.fsf')"
PEER = "python -c pass"


@attrs.frozen
class Case:
    """One contender: its label, the child's arguments after the interpreter, and its target (× the peer)."""

    label: str
    argv: tuple[str, ...]
    target: float | None = None
    reference: bool = False
    """A floor under the commands, shown for comparison (no target)."""


CASES = (
    Case(PEER, ("-c", "pass")),
    Case("fsv verify -s task.fsb task.fsv", ("-c", _FSV, "verify", "-s", "task.fsb", "task.fsv"), 5.0),
    Case("fsv decode -s task.fsf task.fsv", ("-c", _FSV, "decode", "-s", "task.fsf", "task.fsv"), 8.0),
    Case("fsv encode -s task.fsf --shape Task task.json -o out.fsv",
         ("-c", _FSV, "encode", "-s", "task.fsf", "--shape", "Task", "task.json", "-o", "out.fsv"), 8.0),
    Case("fsf check task.fsf", ("-c", _FSF, "check", "task.fsf"), 8.0),
    Case(IMPORT_FSF := "python -c 'import fsf'", ("-c", "import fsf"), reference=True),
    Case(IMPORT_TYPER := "python -c 'import typer'", ("-c", "import typer"), reference=True),
    Case(IMPORT_ATTRS := "python -c 'import attrs'", ("-c", "import attrs"), reference=True),
    Case(VERIFY_FLOOR := "import fsf + load task.fsb + verify", ("-c", _VERIFY_FLOOR), reference=True),
    Case(CHECK_FLOOR := "import fsf + load task.fsf", ("-c", _CHECK_FLOOR), reference=True),
    Case(DECODE_FLOOR := "import fsf + load task.fsf + decode", ("-c", _DECODE_FLOOR), reference=True),
)
FLOORS = {"fsv verify": VERIFY_FLOOR, "fsv decode": DECODE_FLOOR, "fsv encode": DECODE_FLOOR, "fsf check": CHECK_FLOOR}
"""The library calls each command makes, without the command line (encode's: load the source, then a codec)."""


@attrs.frozen
class Settings:
    """How much to run: timed rounds (each runs every case once)."""

    rounds: int = 40

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3)


@attrs.frozen
class Row:
    """One case against the peer: medians of its times and of the per-round ratios, and its heavy imports."""

    case: Case
    rounds: int
    wall: float
    cpu: float
    ratio_wall: float
    ratio_cpu: float
    heavy: tuple[str, ...]

    @property
    def met(self) -> bool | None:
        return None if self.case.target is None else self.ratio_cpu <= self.case.target


# -- running -----------------------------------------------------------------------------------------------------


def _workdir_files(where: Path) -> None:
    """The scratch folder: the schema, its compiled form, the value as JSON and as FSV."""
    import fsf
    from fsf.api import write_compiled

    (where / "task.fsf").write_text(SCHEMA, encoding="utf-8")
    schema = write_compiled(where / "task.fsf", where / "task.fsb")
    (where / "task.json").write_text(json.dumps(VALUE), encoding="utf-8")
    (where / "task.fsv").write_bytes(schema.encode("Task", VALUE))
    assert fsf.load_schema(where / "task.fsb").verify((where / "task.fsv").read_bytes()) == "Task"


def child_env(where: Path) -> dict[str, str]:
    """The children's environment: bytecode caches in a scratch folder, no store named."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "FSF_STORE")}
    env["PYTHONPYCACHEPREFIX"] = str(where / "pycache")
    return env


def _cpu() -> float:
    """CPU seconds (user + system) of the children that have been waited for."""
    if resource is None:  # pragma: no cover
        return 0.0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _run(case: Case, where: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``case``; it must succeed."""
    wall, cpu = time.perf_counter(), _cpu()
    done = subprocess.run([sys.executable, *case.argv], cwd=where, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - wall, _cpu() - cpu
    assert done.returncode == 0, f"{case.label}: exit {done.returncode}: {done.stderr.decode(errors='replace')}"
    return took


def heavy_imports(case: Case, where: Path, env: dict[str, str]) -> tuple[str, ...]:
    """Which of :data:`HEAVY` the case imports (run once more, reporting its modules at exit)."""
    report = where / "modules.json"
    probe = ("import atexit, json, sys; _report = sys.argv.pop(1); atexit.register(lambda: open(_report, 'w')"
             ".write(json.dumps(sorted({m.split('.')[0] for m in sys.modules}))))")
    argv = list(case.argv)
    code = argv[1]
    subprocess.run([sys.executable, "-c", f"{probe}\n{code}", str(report), *argv[2:]], cwd=where, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    loaded = set(json.loads(report.read_text()))
    return tuple(m for m in HEAVY if m in loaded)


def run(settings: Settings, folder: Path | None = None) -> list[Row]:
    """Every case against the peer, interleaved over ``settings.rounds`` rounds (after one untimed round)."""
    with _workdir(folder) as where:
        _workdir_files(where)
        from fsf.store import locate_store

        assert locate_store(env={}, cwd=where) is None, f"a store is found from {where}"
        env = child_env(where)
        for case in CASES:  # warm the bytecode caches and the page cache
            _run(case, where, env)
        times: dict[str, list[tuple[float, float]]] = {case.label: [] for case in CASES}
        for r in range(settings.rounds):
            k = r % len(CASES)
            for case in CASES[k:] + CASES[:k]:
                times[case.label].append(_run(case, where, env))
        peer = times[PEER]
        rows = []
        for case in CASES:
            mine = times[case.label]
            rows.append(Row(case, len(mine), statistics.median(x[0] for x in mine),
                            statistics.median(x[1] for x in mine),
                            statistics.median(x[0] / max(p[0], 1e-9) for x, p in zip(mine, peer, strict=True)),
                            statistics.median(x[1] / max(p[1], 1e-9) for x, p in zip(mine, peer, strict=True)),
                            () if case.label == PEER else heavy_imports(case, where, env)))
        return rows


@contextmanager
def _workdir(folder: Path | None) -> Iterator[Path]:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        yield Path(tempfile.mkdtemp(prefix="bench-startup-", dir=folder))
        return
    with tempfile.TemporaryDirectory(prefix="fsf-bench-startup-") as tmp:
        yield Path(tmp)


# -- the section -------------------------------------------------------------------------------------------------


def verdicts(rows: list[Row]) -> list[str]:
    """One line per target: the command, its CPU ratio, the goal and whether it is met."""
    return [f"`{r.case.label}`: {r.ratio_cpu:.1f}× (goal ≤ {r.case.target:g}×, "
            f"{'met' if r.met else 'not met'})" for r in rows if r.case.target is not None]


def section(rows: list[Row], settings: Settings, command: str) -> list[str]:
    """The "## Start-up" section of ``RESULTS.md``."""
    from benchmarks.report import _commit, _fmt, _machine

    by = {r.case.label: r for r in rows}
    lines = [
        HEADING,
        "",
        "One command on one small schema or value as a fresh process (`benchmarks/bench_startup.py`; its docstring",
        "says what runs) against an empty interpreter, `python -c pass`, in the same rounds. Ratios are medians of",
        "per-round ratios (command ÷ empty interpreter, the order rotated from round to round); the verdict uses the",
        "CPU ratio (the child's user + system time), which other jobs on a shared machine do not stretch. The",
        "reference rows are the floors under the commands: what `import fsf`, `import typer`, `import attrs` and the",
        "library calls alone cost as processes.",
        "",
        f"- Date: {dt.date.today().isoformat()}; commit: {_commit()}",
        f"- Machine: {_machine()}",
        f"- Rounds: {settings.rounds} (after one untimed round that warms the bytecode caches)",
        f"- Reproduce: `{command}`",
        "",
        "| command | median (wall) | median (CPU) | ratio (wall) | ratio (CPU) | goal | verdict | imports of "
        + ", ".join(HEAVY) + " |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        goal = "" if r.case.target is None else f"≤ {r.case.target:g}×"
        verdict = "" if r.met is None else ("met" if r.met else "**not met**")
        heavy = "–" if r.case.label == PEER else (", ".join(r.heavy) or "none")
        name = f"reference: `{r.case.label}`" if r.case.reference else f"`{r.case.label}`"
        lines.append(f"| {name} | {_fmt(r.wall)} | {_fmt(r.cpu)} | {r.ratio_wall:.2f}× | "
                     f"{r.ratio_cpu:.2f}× | {goal} | {verdict} | {heavy} |")
    fsf_alone, typer_alone, attrs_alone = by.get(IMPORT_FSF), by.get(IMPORT_TYPER), by.get(IMPORT_ATTRS)
    if fsf_alone is None or typer_alone is None or attrs_alone is None:
        return lines
    lines += ["", "Where the time goes (CPU ratios of this run): each command against the floor of its library calls",
              "alone (the reference row that does the same work without the command line):", "",
              "| command | goal | command | its floor | the command line adds |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        floor = by.get(FLOORS.get(" ".join(r.case.label.split()[:2]), ""))
        if r.case.target is not None and floor is not None:
            lines.append(f"| `{r.case.label}` | ≤ {r.case.target:g}× | {r.ratio_cpu:.1f}× | {floor.ratio_cpu:.1f}× "
                         f"(`{floor.case.label}`) | {r.ratio_cpu - floor.ratio_cpu:+.1f}× |")
    lines += ["", f"`import fsf` alone is {fsf_alone.ratio_cpu:.1f}× and `import typer` alone "
              f"{typer_alone.ratio_cpu:.1f}× (the two share the interpreter's standard library, so their costs do",
              f"not add up in full); `import attrs` alone, under every stage of fsf, is "
              f"{attrs_alone.ratio_cpu:.1f}×. A `.fsf` source adds the",
              "pre-built parser (`fsf/front/_lalr.py`: no lark), the AST and the checker. A goal below its floor",
              "cannot be met by the command line: the floors are the library's import and load costs."]
    return lines


def main(argv: list[str] | None = None) -> None:
    """Command line: run the start-up benchmark, print the section or write it into a RESULTS.md."""
    parser = section_parser(__doc__, HEADING)
    parser.add_argument("--rounds", type=int, help="timed rounds")
    parser.add_argument("--dir", type=Path, help="work under this folder and keep what is made there")
    args = parser.parse_args(argv)
    settings = section_settings(args, Settings, ("rounds",))
    command = command_line("benchmarks.bench_startup", argv)
    rows = run(settings, args.dir)
    lines = section(rows, settings, command)
    print("\n".join(verdicts(rows)), file=sys.stderr)
    write_section(lines, args.out, HEADING)


def test_startup_bench_quick(tmp_path: Path) -> None:
    """The quick run completes (every command exits 0), renders a row per case and records the heavy imports: the
    verify of a `.fsb` imports none of them, no command imports lark (a `.fsf` is read by the pre-built parser),
    pydantic or rich (no timing is asserted)."""
    settings = Settings.quick()
    rows = run(settings, tmp_path)
    assert [r.case for r in rows] == list(CASES) and all(r.rounds == settings.rounds for r in rows)
    heavy = {r.case.label: r.heavy for r in rows}
    assert heavy["fsv verify -s task.fsb task.fsv"] == ()
    assert all(not {"lark", "pydantic", "rich"} & set(r.heavy) for r in rows)
    assert all("typer" not in r.heavy for r in rows if r.case.target is not None)
    lines = section(rows, settings, "pytest")
    tables = "\n".join(lines).split("\n\n")
    by_case = next(t for t in tables if t.startswith("| command | median"))
    floors = next(t for t in tables if t.startswith("| command | goal"))
    assert lines[0] == HEADING and len(by_case.splitlines()) == 2 + len(CASES) and len(floors.splitlines()) == 2 + 4
    assert replace_section(replace_section("# R\n", HEADING, lines), HEADING, lines).count(HEADING) == 1
    assert len(verdicts(rows)) == 4


if __name__ == "__main__":
    main()
