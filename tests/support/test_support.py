"""The shared test helpers: the golden check fails on a missing file and shows a diff, the one update flag writes
and then still compares, and the strategies module is imported one way, so it loads once."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from tests.support import strategies
from tests.support.golden import Golden

TESTS = Path(__file__).resolve().parents[1]


def test_a_missing_golden_file_fails_and_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as info:
        Golden("tests/x.py::test_x", update=False).text(tmp_path / "a.txt", "text\n")
    assert str(info.value) == (f"missing golden file {tmp_path / 'a.txt'}; create it with "
                               "`FSF_UPDATE_GOLDEN=1 python -m pytest 'tests/x.py::test_x'` and review it before "
                               "committing")
    assert not (tmp_path / "a.txt").exists()


def test_a_difference_fails_with_a_unified_diff(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"one\ntwo\n")
    with pytest.raises(pytest.fail.Exception) as info:
        Golden("t", update=False).text(path, "one\nthree\n")
    message = str(info.value)
    assert message.startswith(f"{path} differs from what the test computed; review, then regenerate with "
                              "`FSF_UPDATE_GOLDEN=1 python -m pytest 't'`\n")
    assert message.endswith(" one\n-two\n+three\n")
    Golden("t", update=False).text(path, "one\ntwo\n")


def test_the_update_flag_writes_then_compares(tmp_path: Path) -> None:
    Golden("t", update=True).text(tmp_path / "new" / "a.txt", "caf\u00e9 \udc80\n", errors="surrogateescape")
    assert (tmp_path / "new" / "a.txt").read_bytes() == b"caf\xc3\xa9 \x80\n"
    # A dump that does not read back as the value fails even while updating.
    with pytest.raises(pytest.fail.Exception, match=r"differs"):
        Golden("t", update=True).json(tmp_path / "v.json", {"a": 1}, lambda value: json.dumps({"a": 2}))


def test_json_golden_files_compare_values_not_spelling(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    path.write_text('{"b": [1, 2],\n "a": "x"}\n', encoding="utf-8")
    Golden("t", update=False).json(path, {"a": "x", "b": [1, 2]}, json.dumps)
    with pytest.raises(pytest.fail.Exception, match=r'\+\{"a": "y"'):
        Golden("t", update=False).json(path, {"a": "y", "b": [1, 2]}, lambda v: json.dumps(v, sort_keys=True))


def test_the_strategies_are_imported_one_way_and_load_once() -> None:
    imported = set()
    for path in TESTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("strategies"):
                imported.add(node.module)
            elif isinstance(node, ast.ImportFrom) and any(a.name == "strategies" for a in node.names):
                imported.add(f"{node.module}.strategies")
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names if a.name.endswith("strategies"))
    assert imported - {"hypothesis.strategies"} == {"tests.support.strategies"}
    # In a whole run every test module is imported by now: one module object holds the file.
    loaded = [name for name, module in sys.modules.items()
              if Path(getattr(module, "__file__", None) or "/").resolve() == Path(strategies.__file__).resolve()]
    assert loaded == ["tests.support.strategies"]
