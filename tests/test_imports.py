"""Start-up: what ``import fsf`` and the library's load paths import -> only what each one uses.

Each case runs in a fresh interpreter and lists the modules it must not have loaded (the guards of the lazy imports:
a module-level import that creeps back fails here, not only in the start-up benchmark) and those it must have (the
fast path still serves). ``tests/bytecode/test_container.py`` keeps its own guard that a ``.fsb`` never loads lark.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import fsf
import fsf.api

SCHEMA = "shape Task { id: str[1..16], title: str, done: bool, dependsOn: arr[0..8]<str> }\n"
VALUE = {"id": "T1", "title": "t", "done": False, "dependsOn": ["T0"]}
NEVER = {"lark", "regex", "jinja2", "markupsafe", "pydantic", "rich", "typer", "fsf.codegen", "fsf.views",
         "fsf.store", "fsf.evolve", "fsf.breaking", "fsf.gitrev", "fsf.cli", "tempfile", "difflib"}
"""Loaded by none of the cases below: the code generators and views, the store, evolution, the command line, the
temporary files of atomic writes and the did-you-mean of messages."""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "task.fsf").write_text(SCHEMA, encoding="utf-8")
    schema = fsf.api.write_compiled(tmp_path / "task.fsf")
    (tmp_path / "task.fsv").write_bytes(schema.encode("Task", VALUE))
    return tmp_path


def _loaded(code: str, cwd: Path) -> set[str]:
    """The modules (and their packages) loaded after running ``code`` in a fresh interpreter in ``cwd``."""
    probe = f"{code}\nimport sys\nprint(sorted(sys.modules))"  # printed as a repr: the probe imports nothing
    done = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    names = set(ast.literal_eval(done.stdout.splitlines()[-1]))
    return names | {n.split(".")[0] for n in names}


@pytest.mark.parametrize(("code", "absent", "present"), [
    ("import fsf", {"fsf.front", "fsf.load", "fsf.bytecode", "fsf.fsv", "json", "pathlib"}, {"fsf.schema"}),
    ("import fsf; fsf.load_schema('task.fsb').verify(open('task.fsv', 'rb').read())",
     {"fsf.front", "fsf.load", "json", "pathlib"}, {"fsf.bytecode.container", "fsf.fsv.codec"}),
    ("import fsf; fsf.load_schema('task.fsf').decode(open('task.fsv', 'rb').read())",
     {"json", "pathlib"}, {"fsf.front._lalr", "fsf.front.check", "fsf.fsv.codec"}),
], ids=["import fsf", "load .fsb + verify", "load .fsf + decode"])
def test_each_path_imports_only_what_it_uses(work: Path, code: str, absent: set[str], present: set[str]) -> None:
    loaded = _loaded(code, work)
    assert sorted(loaded & (NEVER | absent)) == []
    assert present <= loaded, sorted(present - loaded)


def test_fsf_codegen_stays_the_function_when_the_package_is_imported(work: Path) -> None:
    """``import fsf`` no longer loads the package ``fsf.codegen``; importing it later (as decoding into generated
    classes does) binds it on ``fsf`` as a submodule would be, which must not hide the function."""
    code = ("import fsf, sys\n"
            "before = fsf.codegen\n"
            "assert 'fsf.codegen' not in sys.modules\n"
            "import fsf.codegen.objects\n"
            "from fsf.codegen import objects\n"
            "assert fsf.codegen is before and callable(fsf.codegen) and objects.__name__ == 'fsf.codegen.objects'\n"
            "print(fsf.codegen(fsf.load_schema('task.fsf'), 'typescript').splitlines()[-1])")
    done = subprocess.run([sys.executable, "-c", code], cwd=work, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[-1] == "}"
    assert fsf.codegen is fsf.api.codegen
