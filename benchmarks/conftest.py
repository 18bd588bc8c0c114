"""Benchmark fixtures: the seeded workloads and schemas, built once per session; collects ``bench_*.py`` files.

The root configuration only collects ``tests/``; this folder is run explicitly with
``python -m pytest benchmarks --benchmark-enable``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import fsf
from benchmarks import workload


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect ``bench_*.py`` as test modules (one file per contender, msgspec style).

    A file named on the command line is collected by pytest itself already.
    """
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def forge_schema() -> fsf.Schema:
    """``shapes/forge-plan.fsf``."""
    return fsf.load_schema(workload.FORGE_PLAN_FSF)


@pytest.fixture(scope="session")
def every_schema() -> fsf.Schema:
    """``benchmarks/every.fsf`` (every construct of the language)."""
    return fsf.load_schema(workload.EVERY_FSF)


@pytest.fixture(scope="session")
def plans() -> dict[int, dict[str, Any]]:
    """The ForgePlan workloads by task count."""
    return {n: workload.forge_plan(n) for n in workload.SIZES}


@pytest.fixture(scope="session")
def every() -> dict[str, Any]:
    """The every-construct value."""
    return workload.every_value()
