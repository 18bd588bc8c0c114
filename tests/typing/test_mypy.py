"""Typed API: ``mypy --strict`` accepts the uses in ``uses_api.py`` and refuses each misuse in ``misuses_api.py``,
both type-checked beside a module generated from ``shapes/forge-plan.fsf``, so the types really check."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import fsf

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

pytest.importorskip("mypy")


def test_mypy_accepts_the_uses_and_refuses_the_misuses(tmp_path: Path) -> None:
    schema = fsf.load_schema(ROOT / "shapes" / "forge-plan.fsf")
    (tmp_path / "forge_plan.py").write_text(fsf.codegen(schema, "python"), "utf-8")
    for name in ("uses_api.py", "misuses_api.py"):
        shutil.copy(HERE / name, tmp_path / name)
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--hide-error-context",
                          "--cache-dir", str(tmp_path / ".mypy_cache"), "forge_plan.py", "uses_api.py",
                          "misuses_api.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    errors = [m for m in re.finditer(r"^([\w.]+):(\d+): error: (.*)$", run.stdout, re.M)]
    assert run.returncode == (1 if errors else 0), run.stdout + run.stderr
    reported = {(m.group(1), int(m.group(2))) for m in errors}
    lines = (HERE / "misuses_api.py").read_text("utf-8").splitlines()
    marked = {("misuses_api.py", i) for i, line in enumerate(lines, 1) if line.endswith("# refused")}
    assert len(marked) == 5
    assert reported == marked, run.stdout
    shown = {int(m.group(2)): m.group(3) for m in errors}
    assert 'has no attribute "Bord"' in shown[min(i for _, i in marked)]


def test_the_typed_uses_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = fsf.load_schema(ROOT / "shapes" / "forge-plan.fsf")
    (tmp_path / "forge_plan.py").write_text(fsf.codegen(schema, "python"), "utf-8")
    shutil.copy(HERE / "uses_api.py", tmp_path / "uses_api.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("forge_plan", "uses_api"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import uses_api  # type: ignore[import-not-found]

    data = (ROOT / "shapes" / "examples" / "forge-plan" / "ForgePlan.small.fsv").read_bytes()
    assert uses_api.round_trip(schema, data) == data
    assert uses_api.every_error(schema, {"title": 1}) == [
        ("Missing required field `sessionId` in `ForgePlan`", "$", ()),
        ("Missing required field `tasks` in `ForgePlan`", "$", ()),
        ("Missing required field `batches` in `ForgePlan`", "$", ()),
        ("Expected `str`, got `int`", "$.title", ("title",)),
    ]
    for name in ("forge_plan", "uses_api"):
        sys.modules.pop(name, None)
