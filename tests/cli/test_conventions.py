"""The conventions of both command lines (docs/cli.md): help screens (goldens), `--version`, `python -m fsf`, shell
completion, `-` for standard input and output, many files with `-o DIR`, `fsf fmt --diff`, exit codes 0/1/2, JSON
output checked against ``docs/cli-output.schema.json``, checks that check nothing fail, diagnostics printed once
per run, and what a command imports (nothing it does not use)."""

from __future__ import annotations

import enum
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer.main
from typer.testing import CliRunner

import fsf
from fsf.cli import app as typer_app
from fsf.cli import common
from fsf.cli.fsf_tool import FSF
from fsf.cli.fsf_tool import app as fsf_app
from fsf.cli.fsv_tool import FSV
from fsf.cli.fsv_tool import app as fsv_app
from fsf.render import render_markdown
from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "cli"
OUTPUT_SCHEMA = json.loads((ROOT / "docs" / "cli-output.schema.json").read_text(encoding="utf-8"))
DOCS = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")

SCHEMA = "shape Task {\n  id: str[1..16],\n  done: bool,\n  dependsOn: arr[0..8]<str>,\n}\n"
TASK = {"id": "T1", "done": False, "dependsOn": ["T0"]}
TASK_JSON = json.dumps(TASK)
BAD = "shape Task {\n  id: arr[0..3]<str,\n}\n"
UGLY = "shape Task{id:str}"

runner = CliRunner()


def run(tool: str, *args: str | Path, stdin: str | bytes | None = None,
        env: dict[str, str] | None = None) -> tuple[int, str, str, bytes]:
    """Exit code, stdout, stderr and stdout's bytes of one command line, run in this process."""
    app = fsf_app if tool == "fsf" else fsv_app
    result = runner.invoke(app, [str(a) for a in args], input=stdin, prog_name=tool, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr, result.stdout_bytes


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with `task.fsf`, `task.fsb`, `task.json` and `task.fsv`, the working folder (no store)."""
    monkeypatch.chdir(tmp_path)
    Path("task.fsf").write_text(SCHEMA, encoding="utf-8")
    fsf.api.write_compiled("task.fsf", "task.fsb")
    Path("task.json").write_text(TASK_JSON, encoding="utf-8")
    Path("task.fsv").write_bytes(schema().encode("Task", TASK))
    return tmp_path


def schema() -> fsf.Schema:
    return fsf.compile_source(SCHEMA)


def valid_output(text: str) -> dict[str, Any]:
    """The JSON document a `--format json` run printed, checked against the shipped JSON Schema."""
    doc = json.loads(text)
    jsonschema.validate(doc, OUTPUT_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return doc


# -- help, version, python -m fsf, completion ---------------------------------------------------------------


def _commands(group: common.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, target in group.commands.items():
        if isinstance(target, common.Group):
            yield from _commands(target, (*path, name))
        else:
            yield (*path, name)


HELP_SCREENS = [("fsf", path) for path in _commands(FSF)] + [("fsv", path) for path in _commands(FSV)]


@pytest.mark.parametrize(("tool", "path"), HELP_SCREENS, ids=[" ".join((t, *p)) for t, p in HELP_SCREENS])
def test_help_screens(golden: Golden, tool: str, path: tuple[str, ...]) -> None:
    code, out, err, _ = run(tool, *path, "--help")
    assert (code, err) == (0, "")
    golden.text(GOLDEN / "help" / ("-".join((tool, *path)) + ".txt"), out)
    usage = out.splitlines()[0]
    assert "{" not in usage and not re.search(r"<(bool|str|path|int|float|list|file)\b", out, re.IGNORECASE), out
    target = _target(tool, path)
    if path and not isinstance(target, common.Group):
        assert re.search(r"\n  Examples?:\n    \S", out), "every command's help ends its description with an example"


def _target(tool: str, path: tuple[str, ...]) -> str | common.Group:
    target: str | common.Group = FSF if tool == "fsf" else FSV
    for name in path:
        assert isinstance(target, common.Group)
        target = target.commands[name]
    return target


@pytest.mark.parametrize("tool", ["fsf", "fsv"])
def test_version(tool: str) -> None:
    assert run(tool, "--version")[:3] == (0, f"{tool} {importlib.metadata.version('fsf')}\n", "")


def test_python_dash_m_fsf_runs_the_fsf_tool(work: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "fsf", "--version"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, f"fsf {importlib.metadata.version('fsf')}\n")
    done = subprocess.run([sys.executable, "-m", "fsf", "check", "task.fsf"], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = subprocess.run([sys.executable, "-m", "fsf", "nope"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Usage: python -m fsf" in done.stderr


@pytest.mark.parametrize(("shell", "marks"), [
    ("bash", ("complete -o default -F _fsv_completion fsv", "_FSV_COMPLETE=complete_bash")),
    ("zsh", ("#compdef fsv", "_FSV_COMPLETE=complete_zsh")),
    ("fish", ("complete --command fsv", "_FSV_COMPLETE=complete_fish")),
])
def test_a_completion_script_is_generated(shell: str, marks: tuple[str, ...], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")  # the shell is named, not detected
    monkeypatch.setenv("HOME", str(tmp_path))
    from fsf.cli.fsv_tool import app

    result = runner.invoke(app, ["--show-completion", shell], prog_name="fsv")
    assert result.exit_code == 0 and all(mark in result.stdout for mark in marks), result.output
    result = runner.invoke(app, ["--install-completion", shell], prog_name="fsv")
    assert result.exit_code == 0 and result.stdout.startswith(f"{shell} completion installed in "), result.output
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "_FSV_COMPLETE" in p.read_text(encoding="utf-8")]
    assert written, "the completion script was not written"


def test_completion_completes_commands_and_options() -> None:
    env = {"_FSV_COMPLETE": "complete_bash", "COMP_WORDS": "fsv ver", "COMP_CWORD": "1"}
    assert run("fsv", env=env)[:2] == (0, "verify\n")
    env = {"_FSF_COMPLETE": "complete_bash", "COMP_WORDS": "fsf store imp", "COMP_CWORD": "2"}
    assert run("fsf", env=env)[:2] == (0, "import-history\n")
    env = {"_FSV_COMPLETE": "complete_bash", "COMP_WORDS": "fsv verify --form", "COMP_CWORD": "2"}
    assert run("fsv", env=env)[:2] == (0, "--format\n")


def test_the_plain_conversions_agree_with_typers_own() -> None:
    """Every parameter of every command converts without pydantic, as typer's own conversion would."""
    coercion = pytest.importorskip("typer._coercion")
    samples = {"str": ["x", "-", " a b "], "int": ["0", "7", " 12"], "bool": ["true", "0", "no"],
               "Path": ["x.fsv", "-", "a/b"]}
    seen = set()
    for app in (fsf_app, fsv_app):
        for command in _click_commands(typer.main.get_command(app)):
            typer_app._plain_conversions(command.params)
            for param in command.params:
                plain = param._runtime_param
                assert isinstance(plain, typer_app._Plain), f"{command.name} {param.name}: no plain conversion"
                theirs = coercion.build_runtime_param(param.type_descriptor)
                annotation = param.type_descriptor.annotation
                element = getattr(annotation, "__args__", (annotation,))[0]
                is_enum = isinstance(element, type) and issubclass(element, enum.Enum)
                choices = [m.value for m in element] if is_enum else samples[element.__name__]
                for text in choices:
                    value = [text] if param.multiple or param.nargs == -1 else text
                    assert plain.coerce(value, param=param, ctx=None) == theirs.coerce(value, param=param, ctx=None)
                    seen.add(element.__name__)
    assert {"str", "int", "bool", "Path", "Format", "Target"} <= seen


def _click_commands(command: Any) -> Iterator[Any]:
    yield command
    for sub in getattr(command, "commands", {}).values():
        yield from _click_commands(sub)


@pytest.mark.parametrize(("args", "message"), [
    (("decode", "--max-values", "x", "a.fsv"), "Invalid value for '--max-values': `x` is not an integer"),
    (("decode", "--max-values", "-1", "a.fsv"), "Invalid value for '--max-values': `-1` is less than the minimum 0"),
    (("verify", "--format", "yaml", "a.fsv"), "Invalid value for '--format': `yaml` is not one of `text`, `json`"),
])
def test_a_bad_option_value_is_a_wrong_command_line(args: tuple[str, ...], message: str) -> None:
    code, out, err, _ = run("fsv", *args)
    assert (code, out) == (2, "")
    assert err.endswith(f"\nError: {message}\n")


# -- what a command imports -----------------------------------------------------------------------------------


def _modules(args: list[str], cwd: Path) -> set[str]:
    probe = ("import atexit, json, sys; _out = sys.argv.pop(1); atexit.register(lambda: open(_out, 'w').write("
             "json.dumps(sorted({m.split('.')[0] for m in sys.modules}))))\nfrom fsf.cli.{0}_tool import main; main()")
    out = cwd / "modules.json"
    env = {k: v for k, v in os.environ.items() if k != "FSF_STORE"}
    subprocess.run([sys.executable, "-c", probe.replace("{0}", args[0]), str(out), *args[1:]], cwd=cwd, env=env,
                   capture_output=True, check=False)
    return set(json.loads(out.read_text()))


@pytest.mark.parametrize(("args", "absent"), [
    (["fsv", "verify", "-s", "task.fsb", "task.fsv"], {"lark", "jinja2", "pydantic", "rich"}),
    (["fsv", "decode", "-s", "task.fsb", "task.fsv"], {"lark", "jinja2", "pydantic", "rich"}),
    (["fsv", "show", "-s", "task.fsb", "task.fsv"], {"lark", "pydantic", "rich"}),  # fsf.views loads jinja2
    (["fsf", "check", "task.fsf"], {"jinja2", "pydantic", "rich"}),
    (["fsv", "--help"], {"lark", "jinja2", "pydantic", "rich"}),
    (["fsv", "nope"], {"lark", "jinja2", "pydantic", "rich"}),
])
def test_a_command_imports_only_what_it_uses(work: Path, args: list[str], absent: set[str]) -> None:
    loaded = _modules(args, work)
    assert "fsf" in loaded and not loaded & absent, sorted(loaded & absent)


# -- `-`: standard input and output ---------------------------------------------------------------------------


def test_dash_reads_a_schema_from_stdin(work: Path) -> None:
    assert run("fsf", "check", "-", stdin=SCHEMA)[:3] == (0, "", "")
    code, _, err, _ = run("fsf", "check", "-", stdin=BAD)
    assert code == 1 and err.startswith("<stdin>:2:20: error[F011]: missing `>` after the element type\n")
    code, _, err, _ = run("fsf", "check", "-", stdin=b"shape Caf\xe9 {}")
    assert (code, err) == (1, "error[F000]: cannot read schema `<stdin>`: not UTF-8 (byte 9)\n")
    listing = run("fsf", "disasm", "task.fsf")[1]
    assert run("fsf", "disasm", "-", stdin=SCHEMA)[:2] == (0, listing)
    assert run("fsf", "disasm", "-", stdin=Path("task.fsb").read_bytes())[:2] == (0, listing)
    assert run("fsf", "codegen", "-t", "typescript", "-", stdin=SCHEMA)[1] == run(
        "fsf", "codegen", "-t", "typescript", "task.fsf")[1]
    code, out, _, _ = run("fsf", "compile", "-", "-o", "stdin.fsb", stdin=SCHEMA)
    assert code == 0 and Path("stdin.fsb").read_bytes() == Path("task.fsb").read_bytes()
    assert out == f"Task {schema().id('Task')}\n"
    code, _, err, _ = run("fsf", "compile", "-", stdin=SCHEMA)
    assert code == 2 and err.startswith("error: a schema read from `-` has no file to compile next to")
    code, out, err, data = run("fsf", "compile", "task.fsf", "-o", "-")
    assert (code, data, err) == (0, Path("task.fsb").read_bytes(), f"Task {schema().id('Task')}\n")


def test_dash_reads_and_writes_values(work: Path) -> None:
    value = Path("task.fsv").read_bytes()
    cid = fsf.content_id(value)
    code, _, err, data = run("fsv", "encode", "-s", "task.fsf", "--shape", "Task", "-o", "-", stdin=TASK_JSON)
    assert (code, data, err) == (0, value, cid + "\n")
    assert run("fsv", "encode", "-s", "-", "--shape", "Task", "task.json", "-o", "o.fsv", stdin=SCHEMA)[:2] == (
        0, cid + "\n")
    text = run("fsv", "decode", "-s", "task.fsf", "task.fsv")[1]
    assert json.loads(text) == TASK
    assert run("fsv", "decode", "-s", "task.fsf", "-", stdin=value)[:2] == (0, text)
    assert run("fsv", "decode", "-s", "-", "task.fsv", stdin=SCHEMA)[:2] == (0, text)
    assert run("fsv", "decode", "-s", "task.fsf", "task.fsv", "-o", "-")[:2] == (0, text)
    code, _, err, _ = run("fsv", "decode", "-s", "-", "-", stdin=value)
    assert (code, err) == (2, "error: `-` (standard input) can be read once; give files for the others\n")
    assert run("fsv", "hash", "-", stdin=value)[:2] == (0, f"{cid}  <stdin>\n")
    assert run("fsv", "verify", "-s", "task.fsb", "-", stdin=value)[:2] == (0, f"ok  {cid}  <stdin>\n")
    code, _, err, _ = run("fsv", "verify", "-s", "task.fsb", "-", stdin=value[:-1])
    assert code == 1 and err.startswith("error: <stdin>: ")
    assert f"content id:     {cid}\n" in run("fsv", "inspect", "-", stdin=value)[1]
    assert run("fsv", "show", "-s", "task.fsf", "-", stdin=value)[1] == run("fsv", "show", "-s", "task.fsf",
                                                                          "task.fsv")[1]
    view = render_markdown(schema(), value)
    assert run("fsv", "render", "-s", "task.fsf", "-", stdin=value)[:2] == (0, view)
    assert run("fsv", "render", "-s", "task.fsf", "task.fsv", "-o", "-")[:2] == (0, view)


def test_dash_with_the_store(work: Path) -> None:
    value = Path("task.fsv").read_bytes()
    cid = fsf.content_id(value)
    assert run("fsf", "store", "init")[0] == 0
    assert run("fsf", "store", "add", "-", stdin=SCHEMA)[:2] == (0, f"Task {schema().id('Task')}\n")
    assert run("fsv", "put", "-", stdin=value)[:2] == (0, f"{cid}  <stdin>\n")
    assert run("fsv", "get", cid, "-o", "-")[3] == value
    assert run("fsv", "merge", "task.fsv", "task.fsv", "task.fsv", "-o", "-")[3] == value


def test_many_files_with_an_output_folder(work: Path) -> None:
    Path("b.json").write_text(json.dumps({**TASK, "id": "T2"}), encoding="utf-8")
    code, out, err, _ = run("fsv", "encode", "-s", "task.fsb", "--shape", "Task", "task.json", "b.json", "-o", "out")
    b = schema().encode("Task", {**TASK, "id": "T2"})
    assert (code, err) == (0, "")
    assert out == (f"{fsf.content_id(Path('task.fsv').read_bytes())}  {Path('out', 'task.fsv')}\n"
                   f"{fsf.content_id(b)}  {Path('out', 'b.fsv')}\n")
    assert Path("out/task.fsv").read_bytes() == Path("task.fsv").read_bytes() and Path("out/b.fsv").read_bytes() == b
    code, out, err, _ = run("fsv", "decode", "-s", "task.fsb", "out/task.fsv", "out/b.fsv", "-o", "json")
    assert (code, out, err) == (0, "", "")
    assert json.loads(Path("json/b.json").read_text(encoding="utf-8"))["id"] == "T2"
    code, _, err, _ = run("fsv", "decode", "-s", "task.fsb", "out/task.fsv", "out/b.fsv")
    assert (code, err) == (2, "error: 2 inputs need -o DIR (a folder: one file each)\n")
    code, _, err, _ = run("fsv", "encode", "-s", "task.fsb", "--shape", "Task", "task.json", "out/task.fsv", "-o", "x")
    assert (code, err) == (2, f"error: `task.json` and `{Path('out/task.fsv')}` would both be written to "
                              f"`{Path('x/task.fsv')}`\n")
    code, out, err, _ = run("fsv", "encode", "-s", "task.fsb", "--shape", "Task", "task.json", "-o", "out")
    assert (code, out) == (0, f"{fsf.content_id(Path('task.fsv').read_bytes())}  {Path('out', 'task.fsv')}\n")


def test_encode_all_errors_reports_every_error(work: Path) -> None:
    Path("bad.json").write_text(json.dumps({"id": 7, "done": "no", "dependsOn": [1]}), encoding="utf-8")
    code, out, err, _ = run("fsv", "encode", "-s", "task.fsf", "--shape", "Task", "bad.json", "-o", "bad.fsv")
    assert (code, out, err) == (1, "", "error: Expected `str`, got `int` - at `$.id`\n")
    code, out, err, _ = run("fsv", "encode", "-s", "task.fsf", "--shape", "Task", "bad.json", "-o", "bad.fsv",
                            "--all-errors")
    assert (code, out) == (1, "")
    assert err == ("error: Expected `str`, got `int` - at `$.id`\n"
                   "error: Expected `bool`, got `str` - at `$.done`\n"
                   "error: Expected `str`, got `int` - at `$.dependsOn[0]`\n")
    assert not Path("bad.fsv").exists()


# -- fmt --diff and fmt - ---------------------------------------------------------------------------------------


def test_fmt_diff_prints_a_unified_diff_and_changes_nothing(work: Path) -> None:
    Path("ugly.fsf").write_text(UGLY, encoding="utf-8")
    code, out, err, _ = run("fsf", "fmt", "--diff", "task.fsf", "ugly.fsf")
    assert (code, err) == (1, "")
    assert out == ("--- ugly.fsf (current)\n+++ ugly.fsf (formatted)\n@@ -1 +1,3 @@\n-shape Task{id:str}\n"
                   "\\ No newline at end of file\n+shape Task {\n+  id: str,\n+}\n")
    assert Path("ugly.fsf").read_text(encoding="utf-8") == UGLY
    assert run("fsf", "fmt", "--diff", "task.fsf")[:3] == (0, "", "")


def test_fmt_dash_formats_stdin_to_stdout(work: Path) -> None:
    assert run("fsf", "fmt", "-", stdin=UGLY)[:3] == (0, "shape Task {\n  id: str,\n}\n", "")
    assert run("fsf", "fmt", "-", stdin=SCHEMA)[:3] == (0, SCHEMA, "")
    assert run("fsf", "fmt", "--check", "-", stdin=UGLY)[:2] == (1, "<stdin>\n")
    code, out, err, _ = run("fsf", "fmt", "-", stdin=BAD)
    assert (code, out) == (1, "") and err.startswith("<stdin>:2:20: error[F011]")


# -- exit codes -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("tool", "args", "code"), [
    ("fsf", ["check", "task.fsf"], 0),
    ("fsf", ["check", "nope.fsf"], 1),
    ("fsf", ["check"], 2),
    ("fsf", ["check", "--nope", "task.fsf"], 2),
    ("fsf", ["frobnicate"], 2),
    ("fsf", [], 2),
    ("fsf", ["fmt", "--check", "task.fsf"], 0),
    ("fsf", ["codegen", "-t", "bogus", "task.fsf"], 2),
    ("fsv", ["verify", "-s", "task.fsb", "task.fsv"], 0),
    ("fsv", ["verify", "-s", "task.fsb", "task.json"], 2),
    ("fsv", ["verify", "-s", "task.fsb", "nope.fsv"], 1),
    ("fsv", ["verify"], 1),
    ("fsv", ["decode", "task.fsv"], 2),
    ("fsv", ["encode", "-s", "task.fsf", "--shape", "Nope", "task.json", "-o", "x.fsv"], 2),
    ("fsv", ["get", "blake3:nothex"], 1),
    ("fsv", [], 2),
])
def test_exit_codes(work: Path, tool: str, args: list[str], code: int) -> None:
    assert run(tool, *args)[0] == code


# -- JSON output ----------------------------------------------------------------------------------------------


def test_check_json(work: Path) -> None:
    doc = valid_output(run("fsf", "check", "task.fsf", "--format", "json")[1])
    assert doc == {"version": 1, "command": "fsf check", "ok": True, "checked": 1,
                   "files": [{"file": "task.fsf", "ok": True}], "findings": []}
    Path("two.fsf").write_text("shape a { x: Nope }\n", encoding="utf-8")
    code, out, err, _ = run("fsf", "check", "task.fsf", "two.fsf", "-", "missing.fsf", "--format", "json", stdin=BAD)
    assert (code, err) == (1, "")
    doc = valid_output(out)
    assert doc["ok"] is False and doc["checked"] == 4
    assert [f["ok"] for f in doc["files"]] == [True, False, False, False]
    assert doc["findings"] == [
        {"code": "F101", "message": "type name `a` is not PascalCase", "file": "two.fsf", "line": 1, "column": 7,
         "length": 1, "label": "not PascalCase",
         "hint": "shape, enum, union and variant names are PascalCase: `A`"},
        {"code": "F201", "message": "unknown type `Nope`", "file": "two.fsf", "line": 1, "column": 14, "length": 4,
         "label": "unknown type"},
        {"code": "F011", "message": "missing `>` after the element type", "file": "<stdin>", "line": 2,
         "column": 20, "length": 1, "label": "expected `>` before `,`"},
        {"code": "F000", "message": "cannot read schema `missing.fsf`: no such file or directory",
         "file": "missing.fsf"},
    ]


def test_verify_json(work: Path) -> None:
    value = Path("task.fsv").read_bytes()
    Path("cut.fsv").write_bytes(value[:-1])
    Path("wrong.fsv").write_bytes(fsf.compile_source("shape T { v: u8 }").encode("T", {"v": 1}))
    code, out, err, _ = run("fsv", "verify", "-s", "task.fsb", "task.fsv", "cut.fsv", "wrong.fsv", "nope.fsv",
                            "--format", "json")
    assert (code, err) == (1, "")
    doc = valid_output(out)
    assert doc["files"][0] == {"file": "task.fsv", "ok": True, "content_id": fsf.content_id(value)}
    assert [f["ok"] for f in doc["files"]] == [True, False, False, False]
    with pytest.raises(fsf.DecodeError) as cut:
        schema().verify(value[:-1])
    codes = [(f["file"], f["code"]) for f in doc["findings"]]
    assert codes == [("cut.fsv", cut.value.code), ("wrong.fsv", "schema_mismatch"), ("nope.fsv", "unreadable")]
    assert doc["findings"][0]["offset"] == cut.value.offset and doc["findings"][1]["offset"] == 5
    assert doc["findings"][2]["message"] == "cannot access `nope.fsv`: no such file or directory"
    assert run("fsv", "verify", "-s", "task.fsb", "task.fsv", "--format", "json")[0] == 0


def test_verify_json_of_an_invalid_value(work: Path) -> None:
    value = Path("task.fsv").read_bytes()
    Path("empty-id.fsv").write_bytes(value.replace(b"\xa2T1", b"\xa0"))  # `id: ""`, out of its bounds
    doc = valid_output(run("fsv", "verify", "-s", "task.fsf", "empty-id.fsv", "--format", "json")[1])
    assert doc["findings"] == [{"code": "bounds", "file": "empty-id.fsv", "offset": 38,
                                "message": "0 code points is out of range for `str[1..16]` at `$.id`"}]


def test_verify_json_of_a_schema_that_does_not_load(work: Path) -> None:
    Path("bad.fsf").write_text(BAD, encoding="utf-8")
    code, out, _, _ = run("fsv", "verify", "-s", "bad.fsf", "task.fsv", "--format", "json")
    doc = valid_output(out)
    assert code == 1 and doc["checked"] == 0 and doc["findings"][0]["code"] == "F011"


@pytest.fixture
def views(work: Path) -> Path:
    """`views/` with the value and its fresh view."""
    folder = work / "views"
    folder.mkdir()
    value = Path("task.fsv").read_bytes()
    (folder / "task.fsv").write_bytes(value)
    (folder / "task.md").write_text(render_markdown(schema(), value), encoding="utf-8")
    return folder


def test_render_check_json(views: Path) -> None:
    doc = valid_output(run("fsv", "render", "-s", "task.fsf", "views/task.fsv", "--check", "views/task.md",
                           "--format", "json")[1])
    assert doc["ok"] is True and doc["files"] == [{"file": str(Path("views/task.md")), "ok": True, "status": "ok"}]
    stale = views / "task.md"
    stale.write_text(stale.read_text(encoding="utf-8").replace("T1", "T9"), encoding="utf-8")
    code, out, _, _ = run("fsv", "render", "-s", "task.fsf", "--check-dir", "views", "--format", "json")
    doc = valid_output(out)
    assert code == 1 and doc["files"][0]["status"] == "stale"
    (finding,) = doc["findings"]
    assert finding["code"] == "stale" and finding["diff"].startswith(f"--- {stale.relative_to(views.parent)}")
    code, out, _, _ = run("fsv", "render", "-s", "task.fsf", "--check-dir", "views", "--format", "json", "--fix")
    doc = valid_output(out)
    assert code == 0 and doc["files"][0]["status"] == "fixed"
    code, _, err, _ = run("fsv", "render", "-s", "task.fsf", "views/task.fsv", "--format", "json")
    assert (code, err) == (2, "error: --format json reports a drift check: give --check OUT.md or --check-dir DIR\n")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_verify_append_only_json(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = work / "home"
    home.mkdir()
    for key, value in {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
                       "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
                       "GIT_CONFIG_GLOBAL": str(home / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(home),
                       "GIT_CEILING_DIRECTORIES": str(work.parent)}.items():
        monkeypatch.setenv(key, value)
    for command in (["init", "-q"], ["add", "task.fsv", "task.json"], ["commit", "-q", "-m", "one value"]):
        subprocess.run(["git", *command], check=True, capture_output=True)
    doc = valid_output(run("fsv", "verify", "--append-only-since", "HEAD", ".", "--format", "json")[1])
    assert doc["files"] == [{"file": "task.fsv", "ok": True, "status": "unchanged"}] and doc["ok"] is True
    Path("task.fsv").unlink()
    code, out, err, _ = run("fsv", "verify", "--append-only-since", "HEAD", ".", "--format", "json")
    doc = valid_output(out)
    assert (code, err, doc["files"][0]["status"], doc["findings"][0]["code"]) == (1, "", "removed", "removed")


# -- a check that checks nothing fails --------------------------------------------------------------------------


def test_check_dir_without_views_fails(work: Path) -> None:
    Path("empty").mkdir()
    code, out, err, _ = run("fsv", "render", "-s", "task.fsf", "--check-dir", "empty")
    assert (code, out) == (1, "")
    assert err == ("0 view(s) checked under `empty`: 0 stale, 0 failed\nerror: no view under `empty` was checked "
                   "(none has a provenance line naming a value of the given schema(s)): nothing was checked\n")
    doc = valid_output(run("fsv", "render", "-s", "task.fsf", "--check-dir", "empty", "--format", "json")[1])
    assert doc["ok"] is False and doc["findings"][0]["code"] == "nothing_checked"


def test_verify_of_no_file_fails(work: Path) -> None:
    assert run("fsv", "verify", "-s", "task.fsb")[:3] == (1, "", "error: no files to verify: nothing was checked\n")
    doc = valid_output(run("fsv", "verify", "--format", "json")[1])
    assert (doc["ok"], doc["checked"], doc["findings"][0]["code"]) == (False, 0, "nothing_checked")
    code, _, err, _ = run("fsv", "verify", "--append-only-since", "HEAD")
    assert (code, err) == (1, "error: --append-only-since needs the folders or files to compare: nothing was "
                              "checked\n")


# -- diagnostics once per run -----------------------------------------------------------------------------------


def test_an_error_in_an_imported_file_is_printed_once(work: Path) -> None:
    Path("common.fsf").write_text("shape Common {\n  x: Nope,\n}\n", encoding="utf-8")
    Path("plan.fsf").write_text('import "common.fsf"\n\nshape Plan {\n  c: Common?,\n}\n', encoding="utf-8")
    code, out, err, _ = run("fsf", "check", "common.fsf", "plan.fsf")
    assert (code, out) == (1, "")
    assert err == ("common.fsf:2:6: error[F201]: unknown type `Nope`\n  |\n2 |   x: Nope,\n"
                   "  |      ^^^^ unknown type\n")
    code, out, err, _ = run("fsf", "check", "plan.fsf", "common.fsf", "plan.fsf")
    assert code == 1 and err.count("error[F201]") == 1
    doc = valid_output(run("fsf", "check", "common.fsf", "plan.fsf", "--format", "json")[1])
    assert [f["ok"] for f in doc["files"]] == [False, False] and len(doc["findings"]) == 1


# -- documentation --------------------------------------------------------------------------------------------


def test_docs_name_every_command_and_option() -> None:
    """docs/cli.md has a section per command that names each of its options."""
    for tool, app in (("fsf", fsf_app), ("fsv", fsv_app)):
        root = typer.main.get_command(app)
        for path, command in _leaves(root, (tool,)):
            heading = f"### `{' '.join(path)}`"
            assert heading in DOCS, f"docs/cli.md has no {heading}"
            body = DOCS.split(heading, 1)[1].split("\n### ", 1)[0]
            for param in command.params:
                for opt in getattr(param, "opts", []):
                    if opt.startswith("--") and opt != "--help":
                        assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", body), f"{heading}: no `{opt}`"


def _leaves(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = getattr(command, "commands", None)
    if not subs:
        yield path, command
        return
    for name, sub in subs.items():
        yield from _leaves(sub, (*path, name))


def test_the_output_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(OUTPUT_SCHEMA)


def test_the_license_is_mit() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 The FSF/FSV authors\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
