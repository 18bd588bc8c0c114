"""The command line's fast path (fsf/cli/argspec.py): its table is generated from the typer apps, it reads every
command line as typer does or declines it, it serves the ordinary ones without importing typer, click or rich,
and what a command prints and its exit code are the same either way."""

from __future__ import annotations

import functools
import importlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import typer
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf.cli import argspec, common, gen_argspec
from fsf.cli.app import make_app
from fsf.cli.fsf_tool import FSF
from fsf.cli.fsv_tool import FSV
from tests.support.golden import Golden

GROUPS = {"fsf": FSF, "fsv": FSV}
SCHEMA = "shape Task {\n  id: str[1..16],\n  done: bool,\n  dependsOn: arr[0..8]<str>,\n}\n"
TASK = {"id": "T1", "done": False, "dependsOn": ["T0"]}
TOOLS = {tool: argspec.table(tool) for tool in GROUPS}


def test_the_committed_tables_are_generated_from_the_typer_apps(golden: Golden) -> None:
    """``fsf/cli/_argspec_fsf.py`` and ``_argspec_fsv.py`` are what ``python -m fsf.cli.gen_argspec --write`` makes
    now (``FSF_UPDATE_GOLDEN=1`` rewrites them)."""
    texts = gen_argspec.sources()
    assert sorted(texts) == sorted(gen_argspec.ARGSPECS) == sorted(GROUPS)
    for tool, text in texts.items():
        golden.text(gen_argspec.ARGSPECS[tool], text)


def test_every_command_is_in_the_fast_path() -> None:
    """No parameter of any command is beyond the fast parser (``params`` None would send every use to typer)."""
    assert [" ".join((tool, *path)) for tool, path, node in _leaves() if node["params"] is None] == []
    assert {(tool, *path) for tool, path, _ in _leaves()} == set(_group_leaves())


def _leaves() -> Iterator[tuple[str, tuple[str, ...], dict[str, Any]]]:
    def walk(node: dict[str, Any], path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        if "commands" not in node:
            yield path, node
            return
        for name, child in node["commands"].items():
            yield from walk(child, (*path, name))

    for tool, node in TOOLS.items():
        for path, leaf in walk(node, ()):
            yield tool, path, leaf


def _group_leaves() -> Iterator[tuple[str, ...]]:
    def walk(group: common.Group, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        for name, target in group.commands.items():
            if isinstance(target, common.Group):
                yield from walk(target, (*path, name))
            else:
                yield (*path, name)

    for tool, group in GROUPS.items():
        for path in walk(group, ()):
            yield (tool, *path)


# -- the differential test: the fast parser against typer ------------------------------------------------------


class _Typer:
    """Both apps with every command function replaced by a recorder of the arguments typer calls it with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.patches = []
        for _, _, node in _leaves():
            module, _, attribute = node["target"].partition(":")
            original = getattr(importlib.import_module(module), attribute)
            self.patches.append(mock.patch.object(importlib.import_module(module), attribute,
                                                  self._recorder(node["target"], original)))
        for patch in self.patches:
            patch.start()
        self.apps = {tool: typer.main.get_command(make_app(group, tool=tool)) for tool, group in GROUPS.items()}

    def _recorder(self, target: str, original: Any) -> Any:
        @functools.wraps(original)
        def record(**kwargs: Any) -> None:
            self.calls.append((target, kwargs))

        return record

    def call(self, tool: str, argv: list[str]) -> tuple[str, dict[str, Any]] | None:
        """The command and arguments typer calls for ``argv``; None when it refuses the command line or calls
        nothing (help, a usage error)."""
        self.calls.clear()
        try:
            self.apps[tool].main(args=argv, prog_name=tool, standalone_mode=False)
        except typer._click.exceptions.UsageError:
            return None
        except typer._click.exceptions.Exit:
            return None
        assert len(self.calls) <= 1
        return self.calls[0] if self.calls else None

    def stop(self) -> None:
        for patch in self.patches:
            patch.stop()


@pytest.fixture(scope="module")
def reference() -> Iterator[_Typer]:
    recorded = _Typer()
    yield recorded
    recorded.stop()


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``True == 1``, ``["a"] != ("a",)`` only by type)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


WORDS = ["a.fsv", "b.fsf", "-", "x", "0", "7", " 12", "-1", "1_0", "+3", "", "=", "=x", "a=b", "--", "--nope", "-z",
         "-", "text", "json", "yaml", "python", "true", "no", "READ_OLD", "--help", "-h"]
"""Words a command line is made of besides the options themselves: paths, numbers, choices, near misses."""


@st.composite
def command_lines(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A tool and a command line for one of its commands: its options (alone, with a value, with `=`, short with
    the value attached, bundled), words of :data:`WORDS`, in any order and number."""
    tool, path, node = draw(st.sampled_from(list(_leaves())))
    params = node["params"]
    opts = [(p, o) for p in params if p["kind"] == "option" for o in p["opts"]]
    value = st.sampled_from(WORDS + [v for p in params if p["type"] == "choice"
                                     for v in _choices(p)])
    words: list[str] = []
    for _ in range(draw(st.integers(0, 7))):
        kind = draw(st.integers(0, 5))
        if kind <= 2 and opts:
            param, opt = draw(st.sampled_from(opts))
            if param["flag"] or kind == 0:
                words.append(opt)
            elif kind == 1:
                words += [opt, draw(value)]
            elif opt.startswith("--"):
                words.append(f"{opt}={draw(value)}")
            else:
                words.append(opt + draw(value))
        elif kind == 3 and opts:
            shorts = [o[1] for _, o in opts if not o.startswith("--")]
            if shorts:
                words.append("-" + "".join(draw(st.lists(st.sampled_from(shorts), min_size=2, max_size=3))))
        else:
            words.append(draw(value))
    return tool, [*path, *words]


def _choices(param: dict[str, Any]) -> list[str]:
    module, _, name = param["enum"].partition(":")
    return [m.value for m in getattr(importlib.import_module(module), name)]


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command_lines())
def test_the_fast_parser_agrees_with_typer_or_declines(reference: _Typer, line: tuple[str, list[str]]) -> None:
    tool, argv = line
    fast = argspec.parse(tool, argv, {})
    if fast is None:
        return
    theirs = reference.call(tool, argv)
    assert theirs is not None, f"typer refuses {argv}, the fast path reads {fast}"
    assert theirs[0] == fast.target and _same(dict(fast.kwargs), theirs[1]), (argv, fast.kwargs, theirs[1])


ORDINARY = [
    ("fsv", ["verify", "-s", "task.fsb", "task.fsv"]),
    ("fsv", ["decode", "-s", "task.fsf", "task.fsv"]),
    ("fsv", ["encode", "-s", "task.fsf", "--shape", "Task", "task.json", "-o", "out.fsv"]),
    ("fsf", ["check", "task.fsf"]),
    ("fsv", ["verify", "--format=json", "-stask.fsb", "--max-values", "10", "a.fsv", "b.fsv", "--exact"]),
    ("fsv", ["decode", "--", "-s"]),
    ("fsv", ["show", "--textconv", "a.fsv"]),
    ("fsv", ["render", "-s", "a.fsf", "-s", "b.fsf", "a.fsv"]),
    ("fsv", ["merge", "base.fsv", "ours.fsv", "theirs.fsv", "-o", "-"]),
    ("fsv", ["git", "install", "--global"]),
    ("fsf", ["codegen", "-t", "python", "-"]),
    ("fsf", ["store", "ls"]),
    ("fsf", ["breaking", "new.fsf", "--category", "JSON", "--category", "SOURCE", "--against", "git:HEAD"]),
    # the corners of click's parser
    ("fsv", ["verify", "-s=task.fsb", "a.fsv"]),  # a short option's attached value keeps its `=`
    ("fsv", ["verify", "--schema=", "--shape=a=b"]),  # a long option's value after the first `=`, empty too
    ("fsv", ["verify", "-s", "--shape", "a.fsv"]),  # an option's value may look like an option
    ("fsv", ["verify", "-s", "a.fsf", "-s", "b.fsf"]),  # the last one wins
    ("fsv", ["verify", "--max-values", " 12", "-", "--", "--exact"]),  # after `--`, only arguments
    ("fsv", ["encode", "-s", "x", "--shape", "T", "-o", "o"]),  # an empty list defaulting to None is None
    ("fsv", ["merge", "-o", "-", "b", "o", "t"]),
    ("fsv", ["decode", "a.fsv", "--max-values", "1_0", "b.fsv"]),  # int() reads `1_0`, typer too
]


@pytest.mark.parametrize(("tool", "argv"), ORDINARY, ids=[" ".join((t, *a)) for t, a in ORDINARY])
def test_an_ordinary_command_line_is_served_as_typer_reads_it(reference: _Typer, tool: str, argv: list[str]) -> None:
    """The guard: these never reach typer, and they mean what they mean to typer."""
    fast = argspec.parse(tool, argv, {})
    assert fast is not None, "the fast path declined an ordinary command line"
    theirs = reference.call(tool, argv)
    assert theirs is not None and theirs[0] == fast.target and _same(dict(fast.kwargs), theirs[1])


@pytest.mark.parametrize(("tool", "argv", "environ"), [
    ("fsv", [], {}),
    ("fsv", ["--version"], {}),
    ("fsv", ["--help"], {}),
    ("fsv", ["verify", "--help"], {}),
    ("fsv", ["verify", "a.fsv", "--help"], {}),
    ("fsv", ["--install-completion", "bash"], {}),
    ("fsv", ["verify", "a.fsv"], {"_FSV_COMPLETE": "complete_bash"}),
    ("fsv", ["nope"], {}),
    ("fsv", ["git"], {}),
    ("fsv", ["verify", "--nope"], {}),
    ("fsv", ["verify", "-Z"], {}),
    ("fsv", ["verify", "--max-values", "x"], {}),
    ("fsv", ["verify", "--max-values", "-1"], {}),
    ("fsv", ["verify", "--format", "yaml"], {}),
    ("fsv", ["verify", "--exact=1"], {}),
    ("fsv", ["verify", "-s"], {}),
    ("fsv", ["decode"], {}),
    ("fsv", ["inspect", "a.fsv", "b.fsv"], {}),
    ("fsv", ["encode", "--shape", "Task", "-o", "x.fsv"], {}),
    ("fsf", ["codegen", "a.fsf"], {}),
])
def test_the_fast_path_declines_what_typer_must_answer(tool: str, argv: list[str], environ: dict[str, str]) -> None:
    assert argspec.parse(tool, argv, environ) is None


# -- the same behaviour either way ----------------------------------------------------------------------------

_FAST = "from fsf.cli.{0}_tool import main; main()"
_TYPER = ("import sys; from fsf.cli.app import make_app; from fsf.cli.{0}_tool import {1}; "
          "make_app({1}, sys.argv[1:], tool='{0}')()")
"""The typer path as the console script takes it when the fast path declines (the same program name: `-c`)."""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with `task.fsf`, `task.fsb`, `task.json`, `task.fsv` and a bad `bad.fsf`."""
    (tmp_path / "task.fsf").write_text(SCHEMA, encoding="utf-8")
    fsf.api.write_compiled(tmp_path / "task.fsf", tmp_path / "task.fsb")
    (tmp_path / "task.json").write_text(json.dumps(TASK), encoding="utf-8")
    (tmp_path / "task.fsv").write_bytes(fsf.compile_source(SCHEMA).encode("Task", TASK))
    (tmp_path / "bad.fsf").write_text("shape Task {\n  id: arr[0..3]<str,\n}\n", encoding="utf-8")
    return tmp_path


def _process(code: str, args: list[str], cwd: Path, stdin: bytes = b"") -> tuple[int, bytes, bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("FSF_STORE", "NO_COLOR")}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, input=stdin, capture_output=True,
                          check=False)
    return done.returncode, done.stdout, done.stderr


SAME = [
    ("fsv", ["verify", "-s", "task.fsb", "task.fsv"]),
    ("fsv", ["verify", "-s", "task.fsb", "task.fsv", "nope.fsv"]),
    ("fsv", ["verify", "--format", "json", "-s", "task.fsb", "task.fsv", "task.json"]),
    ("fsv", ["verify", "-s", "task.fsf"]),
    ("fsv", ["decode", "-s", "task.fsf", "task.fsv"]),
    ("fsv", ["decode", "-s", "task.fsb", "-", "-"]),
    ("fsv", ["encode", "-s", "task.fsf", "--shape", "Task", "task.json", "-o", "out.fsv"]),
    ("fsv", ["encode", "-s", "task.fsf", "--shape", "Nope", "task.json", "-o", "out.fsv"]),
    ("fsv", ["hash", "task.fsv", "task.fsf"]),
    ("fsf", ["check", "task.fsf", "bad.fsf"]),
    ("fsf", ["check", "--format", "json", "bad.fsf"]),
    ("fsf", ["compile", "task.fsf", "bad.fsf", "-o", "x.fsb"]),  # the command's own usage error: typer answers
    ("fsf", ["fmt", "--check", "task.fsf"]),
    ("fsf", ["breaking", "task.fsf", "--category", "NOPE", "--against", "task.fsb"]),
]


@pytest.mark.parametrize(("tool", "argv"), SAME, ids=[" ".join((t, *a)) for t, a in SAME])
def test_the_fast_path_prints_and_exits_as_typer_does(work: Path, tool: str, argv: list[str]) -> None:
    """The console script (the fast path) and the typer app, both as processes on the same command line: the
    same exit code, stdout and stderr."""
    assert argspec.parse(tool, argv, {}) is not None
    fast = _process(_FAST.format(tool), argv, work)
    (work / "out.fsv").unlink(missing_ok=True)
    slow = _process(_TYPER.format(tool, tool.upper()), argv, work)
    assert fast == slow
    assert fast[0] in (0, 1, 2) and b"Traceback" not in fast[2]


_PROBE = ("import atexit, json, sys; _out = sys.argv.pop(1); atexit.register(lambda: open(_out, 'w').write("
          "json.dumps(sorted({m.split('.')[0] for m in sys.modules}))))\n")


@pytest.mark.parametrize(("tool", "argv"), ORDINARY[:4], ids=[" ".join((t, *a)) for t, a in ORDINARY[:4]])
def test_the_benchmarked_commands_import_no_typer(work: Path, tool: str, argv: list[str]) -> None:
    """The guard of the start-up benchmark's commands: typer, click and rich stay out, and the command worked."""
    out = work / "modules.json"
    code, _, err = _process(_PROBE + _FAST.format(tool), [str(out), *argv], work)
    assert (code, err) == (0, b"")
    loaded = set(json.loads(out.read_text()))
    assert "fsf" in loaded and not loaded & {"typer", "click", "rich"}, sorted(loaded & {"typer", "click", "rich"})


def test_help_still_comes_from_typer(work: Path) -> None:
    code, out, _ = _process(_FAST.format("fsv"), ["verify", "--help"], work)
    assert code == 0 and out.startswith(b"Usage: -c verify [OPTIONS] [IN.fsv...]\n")


# -- printing: common.echo against typer.echo ------------------------------------------------------------------


class _Terminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [False, True])
@pytest.mark.parametrize(("message", "nl", "err"), [
    ("ok  blake3:00  a.fsv", True, False),
    ("\x1b[31merror\x1b[0m: red \x1b[1;4mbold\x1b[m", True, True),
    ("no newline", False, False),
    ("", True, False),
    ("", False, True),
    (b"\x89FSV\x1b[31m bytes", False, False),
    (b"bytes", True, True),
    ("ünïcødé ✓", True, False),
])
def test_echo_prints_as_typer_echo(monkeypatch: pytest.MonkeyPatch, terminal: bool, message: str | bytes, nl: bool,
                                   err: bool) -> None:
    written = []
    for echo in (common.echo, typer.echo):
        kind = _Terminal if terminal else io.TextIOWrapper
        out, error = kind(io.BytesIO(), encoding="utf-8"), kind(io.BytesIO(), encoding="utf-8")
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", error)
        echo(message, err=err, nl=nl)
        out.flush()
        error.flush()
        written.append((out.buffer.getvalue(), error.buffer.getvalue()))  # type: ignore[attr-defined]
    assert written[0] == written[1]


def test_a_closed_pipe_ends_the_command_as_under_typer(work: Path) -> None:
    """A reader that went away (`fsv verify … | head -0`): exit 1, nothing on stderr, on both paths."""
    ends = []
    for code in (_FAST.format("fsv"), _TYPER.format("fsv", "FSV")):
        child = subprocess.Popen([sys.executable, "-c", code, "verify", "-s", "task.fsb", "task.fsv"], cwd=work,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # before the child can have written anything
        ends.append((child.wait(timeout=60), child.stderr.read()))
        child.stderr.close()
    assert ends == [(1, b""), (1, b"")]


def _interrupted() -> None:
    raise KeyboardInterrupt


def _end_of_input() -> None:
    raise EOFError


def _wrong_command_line() -> None:
    raise common.BadParameter("no", "'-o'")


@pytest.mark.parametrize(("function", "code", "stderr"), [
    ("_interrupted", 130, ""),
    ("_end_of_input", 1, "\nAborted!\n"),
])
def test_serve_ends_a_command_as_typer_does(capsys: pytest.CaptureFixture[str], function: str, code: int,
                                            stderr: str) -> None:
    """typer's main loop: Ctrl-C exits 130 quietly, the end of input prints `Aborted!` and exits 1."""
    with pytest.raises(SystemExit) as done:
        argspec.serve(argspec.Call(f"{__name__}:{function}", {}))
    assert done.value.code == code and capsys.readouterr() == ("", stderr)


def test_serve_leaves_a_wrong_command_line_to_typer(capsys: pytest.CaptureFixture[str]) -> None:
    assert argspec.serve(argspec.Call(f"{__name__}:_wrong_command_line", {})) is False
    assert capsys.readouterr() == ("", "")
