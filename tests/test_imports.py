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
import fsf.fsv.native
from fsf.locate import locate_store

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


SERVED = {"fsf.fsv.pure", "fsf.fsv.reader", "fsf.fsv.writer", "fsf.bytecode.vm", "fsf.bytecode.specialize"}
"""The pure path, the reference reader and writer, the reference VM and the validator specialised from it: a value
the native path serves needs none of them (they load when a call falls back, or for a `time`, the VM's range)."""
if not fsf.fsv.native.AVAILABLE:  # FSF_NO_NATIVE=1 or no C codec: the pure path serves, the VM's table with it
    SERVED = set()
_FSV = "import sys; sys.argv[1:] = {argv!r}; from fsf.cli.fsv_tool import main; main()"
_FSF = "import sys; sys.argv[1:] = {argv!r}; from fsf.cli.fsf_tool import main; main()"
CLI_NEVER = {"fsf.store", "fsf.cli.store", "fsf.cli.app", "fsf.cli.options"}
"""Loaded by no ordinary command line below when no store is found or named (locating one needs only os:
fsf.locate), nor typer's app."""


@pytest.mark.parametrize(("code", "absent", "present"), [
    ("import fsf", {"fsf.front", "fsf.load", "fsf.bytecode", "fsf.fsv", "json", "pathlib"}, {"fsf.schema"}),
    ("import fsf; fsf.load_schema('task.fsb').verify(open('task.fsv', 'rb').read())",
     {"fsf.front", "fsf.load", "json", "pathlib", "fsf.ir.annotations", *SERVED},
     {"fsf.bytecode.container", "fsf.fsv.codec"}),
    ("import fsf; fsf.load_schema('task.fsf').decode(open('task.fsv', 'rb').read())",
     {"json", "pathlib", *SERVED}, {"fsf.front._lalr", "fsf.front.check", "fsf.fsv.codec"}),
], ids=["import fsf", "load .fsb + verify", "load .fsf + decode"])
def test_each_path_imports_only_what_it_uses(work: Path, code: str, absent: set[str], present: set[str]) -> None:
    loaded = _loaded(code, work)
    assert sorted(loaded & (NEVER | absent)) == []
    assert present <= loaded, sorted(present - loaded)


@pytest.mark.parametrize(("code", "absent", "present"), [
    (_FSV.format(argv=["verify", "-s", "task.fsb", "task.fsv"]),
     {"fsf.front", "fsf.load", "json", "fsf.cli._argspec_fsf", "fsf.ir.annotations", *SERVED},
     {"fsf.cli._argspec_fsv", "fsf.cli.values", "fsf.locate", "fsf.fsv.codec"}),
    (_FSV.format(argv=["decode", "-s", "task.fsf", "task.fsv"]), {"fsf.cli._argspec_fsf", *SERVED},
     {"fsf.cli._argspec_fsv", "fsf.front._lalr", "fsf.fsv.jsonform"}),
    (_FSV.format(argv=["encode", "-s", "task.fsf", "--shape", "Task", "task.json", "-o", "out.fsv"]),
     {"fsf.cli._argspec_fsf", *SERVED},
     {"fsf.cli._argspec_fsv", "fsf.front._lalr", "fsf.fsv.jsonform", "tempfile"}),  # tempfile: the atomic write
    (_FSF.format(argv=["check", "task.fsf"]), {"fsf.cli._argspec_fsv", "fsf.fsv", "fsf.cli.values"},
     {"fsf.cli._argspec_fsf", "fsf.cli.schemas", "fsf.front.check"}),
], ids=["fsv verify .fsb", "fsv decode .fsf", "fsv encode .fsf", "fsf check"])
def test_each_command_line_imports_only_what_it_uses(work: Path, monkeypatch: pytest.MonkeyPatch, code: str,
                                                     absent: set[str], present: set[str]) -> None:
    """The hot command lines, as their console scripts run them (the fast path, no store anywhere up the tree)."""
    monkeypatch.delenv("FSF_STORE", raising=False)
    (work / "task.json").write_text('{"id": "T1", "title": "t", "done": false, "dependsOn": ["T0"]}', encoding="utf-8")
    assert locate_store(cwd=work, env={}) is None
    loaded = _loaded(code, work)
    never = ((NEVER - {"fsf.cli"}) | CLI_NEVER) - present
    assert sorted(loaded & (never | absent)) == []
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
