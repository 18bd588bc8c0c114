"""Benchmark harness: labels that group contenders side by side, and skips for parts that have not landed.

Every benchmark calls :func:`label` before timing, so pytest-benchmark puts the same operation and size of every
contender in one group (``decode 512``) and ``benchmarks/report.py`` can read the contender back from
``extra_info`` instead of parsing test names.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest

T = TypeVar("T")


def label(benchmark: Any, op: str, size: int | str, contender: str) -> None:
    """Put this benchmark in group ``"{op} {size}"`` and record who it measures."""
    benchmark.group = f"{op} {size}"
    benchmark.extra_info.update(op=op, size=str(size), contender=contender)


def need_attr(obj: object, attr: str, what: str) -> None:
    """Skip the benchmark while ``obj.attr`` does not exist yet (a part of FSF still being built)."""
    if not hasattr(obj, attr):
        pytest.skip(f"{what} has not landed yet (`{getattr(obj, '__name__', type(obj).__name__)}.{attr}` missing)")


def need_module(name: str, what: str) -> None:
    """Skip the benchmark while module ``name`` does not exist yet."""
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{what} has not landed yet (module `{name}` missing)")


def probe(what: str, fn: Callable[..., T], *args: Any) -> T:
    """Call ``fn(*args)`` once before timing; skip while it fails because a module it needs has not landed."""
    try:
        return fn(*args)
    except (ImportError, NotImplementedError) as err:
        pytest.skip(f"{what} cannot run yet: {type(err).__name__}: {err}")


def replace_section(text: str, heading: str, lines: list[str]) -> str:
    """``text`` (a RESULTS.md) with its section ``heading`` ("## Store") replaced by ``lines``, or with them added
    before "## Not measured in this run" (where the report puts sections), else at the end."""
    block = "\n".join(lines) + "\n"
    start = text.find(f"\n{heading}\n")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        return text[:start + 1] + block + (text[end:] if end >= 0 else "")
    end = text.find("\n## Not measured in this run\n")
    if end >= 0:
        return text[:end + 1] + block + text[end:]
    return text.rstrip("\n") + "\n\n" + block


def section_parser(doc: str | None, heading: str, quick: str = "a few rounds (proves it runs)") -> argparse.ArgumentParser:
    """A section command's argument parser with its two common options: ``--out`` (the RESULTS.md whose section
    ``heading`` is replaced or added) and ``--quick`` (``quick`` says what that run does)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--out", type=Path, help=f"replace (or add) the {heading[3:]} section of this RESULTS.md")
    parser.add_argument("--quick", action="store_true", help=quick)
    return parser


def section_settings(args: Any, settings_type: Any, names: tuple[str, ...]) -> Any:
    """A section command's settings: ``settings_type.quick()`` under ``--quick``, else the defaults, with each
    field of ``names`` that the command line gave (not None) replaced (a tuple for an option taking many)."""
    settings = settings_type.quick() if args.quick else settings_type()
    given = {n: tuple(v) if isinstance(v, list) else v for n in names if (v := getattr(args, n)) is not None}
    return attrs.evolve(settings, **given)


def command_line(module: str, argv: list[str] | None) -> str:
    """How a run of ``python -m module`` was asked for, as RESULTS.md quotes it (``argv``: None for sys.argv)."""
    return f"python -m {module}" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))


def write_section(lines: list[str], out: Path | None, heading: str) -> None:
    """A section command's end: print ``lines``, or put them into the RESULTS.md ``out`` as section ``heading``."""
    if out is None:
        print("\n".join(lines))
        return
    out.write_text(replace_section(out.read_text(encoding="utf-8"), heading, lines), encoding="utf-8")
    print(f"wrote the {heading[3:]} section of {out}", file=sys.stderr)


def run_tool(args: list[str], cwd: Path, codes: tuple[int, ...] = (0,), *, capture: bool = False) -> str:
    """``python -c ARGS...`` (a tool's ``main()`` call, then its arguments) in ``cwd``, without an ambient store
    (``$FSF_STORE`` unset): its standard output with ``capture`` (else it goes to /dev/null and "" is returned,
    as for a timed run); an AssertionError with its standard error on an exit code not in ``codes`` (``fsf
    breaking`` exits 1 when something breaks, which a benchmark may mean to measure)."""
    from fsf.store import ENV

    env = {k: v for k, v in os.environ.items() if k != ENV}
    done = subprocess.run([sys.executable, "-c", *args], cwd=cwd, env=env, text=True, check=False,
                          stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert done.returncode in codes, f"exit {done.returncode} (expected {codes}): {done.stderr[-2000:]}"
    return done.stdout or ""
