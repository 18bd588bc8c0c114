"""Benchmark, views: FSV bytes of the seeded ForgePlan workloads -> Markdown views -> pytest-benchmark timings.

The target: the 512-task ForgePlan view renders in well under a second (decode, sandboxed Jinja, escaping and
the provenance line included). Run with ``python -m pytest benchmarks/bench_views.py --benchmark-enable``.
"""

from __future__ import annotations

from typing import Any

import pytest

import fsf
from benchmarks.workload import SIZES
from fsf import views


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
