"""CLI plumbing shared by the `fsf` and `fsv` commands, without typer: the command tables and their dispatch,
printing (:func:`echo`) and exits (:class:`Exit`), standard input and output (`-`), error printing and exit codes
(0 ok, 1 bad input, 2 usage), JSON reports.

Start-up is a feature here (git runs `fsv show` once per file, pre-commit and scripts run these per commit): a
command imports only what it uses. :func:`fsf.cli.dispatch.run` first hands an ordinary command line to the fast
path (:mod:`fsf.cli.argspec`: a table generated from the typer declarations), which calls the command function
without importing typer; anything else (help, completion, `--version`, every usage error) goes to the typer app
(:mod:`fsf.cli.app`), built with just the command named. So nothing a command runs may need typer: command
modules print with :func:`echo`, stop with :class:`Exit`, and name typer and :mod:`fsf.cli.options` in their
signatures only, through a :class:`Lazy` handle that typer's reading of the signature resolves.
"""

from __future__ import annotations

import enum
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, TypeVar

from fsf.errors import Diagnostic, FsfError, SchemaError, UsageError, ValidationError

if TYPE_CHECKING:
    from pathlib import Path

    from fsf.schema import Schema

T = TypeVar("T")


def max_values_of(option: int) -> int | None:
    """The library's ``max_values`` for the ``--max-values`` option (0: no limit)."""
    return option or None


class Format(str, enum.Enum):
    """What a checking command prints: text for people, or one JSON document (``docs/cli.md``)."""

    text = "text"
    json = "json"


class Lazy:
    """A module imported when one of its names is first read: ``typer = Lazy("typer")`` in a command module
    costs nothing until typer evaluates a signature that names ``typer.Option`` (the fast path never does)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


# -- command tables and dispatch -------------------------------------------------------------------------------


class Group(NamedTuple):
    """A command group: its help and its commands, each a ``"module:function"`` or a nested :class:`Group`.

    Nothing is imported until a command runs or :func:`fsf.cli.app.make_app` registers it, so a table costs
    nothing to define (a named tuple, not an attrs class, for the same reason: see :class:`Report`).
    """

    help: str
    commands: Mapping[str, str | Group]


# -- printing and exits ----------------------------------------------------------------------------------------


class Exit(SystemExit):
    """Stop the command with exit code ``code`` (whatever it had to say is printed already). A ``SystemExit``, so
    that it ends the process the same way under typer (which lets it through) and on the fast path."""

    def __init__(self, code: int = 0) -> None:
        super().__init__(code)

    @property
    def exit_code(self) -> int:
        return int(self.code or 0)


class BadParameter(Exception):
    """A wrong command line that a command finds itself (two options that do not go together): typer prints it
    as its own usage error (``Invalid value for HINT: MESSAGE``, exit 2). Raise it before the command reads any
    input or writes anything: the fast path answers it by running the command line again under typer."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


_ANSI = r"\033\[[;?0-9]*[a-zA-Z]"
"""An ANSI style code, as click strips them (``click._compat._ansi_re``; compiled when one is seen)."""


def echo(message: str | bytes = "", *, err: bool = False, nl: bool = True) -> None:
    """Print ``message`` (and a newline) on stdout, or stderr with ``err``, as ``typer.echo`` does: text off a
    terminal loses its ANSI codes, bytes go to the binary stream, the stream is flushed. Where click does more
    (Windows consoles, a stream misconfigured as ASCII, one with no binary buffer), this is ``typer.echo``."""
    stream = sys.stderr if err else sys.stdout
    if stream is None:
        return
    buffer = getattr(stream, "buffer", None)
    if os.name == "nt" or buffer is None or _ascii(stream):
        import typer

        typer.echo(message, err=err, nl=nl)
        return
    if isinstance(message, bytes):
        out = message + b"\n" if nl else message
        if out:
            stream.flush()
            buffer.write(out)
            buffer.flush()
        else:
            stream.flush()
        return
    text = message + "\n" if nl else message
    if "\033" in text and not _isatty(stream):
        text = re.sub(_ANSI, "", text)
    if text:
        stream.write(text)
    stream.flush()


def _ascii(stream: Any) -> bool:
    """Whether ``stream`` is set up as ASCII (click then writes UTF-8 through a wrapper of its own)."""
    import codecs

    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name == "ascii"
    except LookupError:
        return False


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty()) if isatty is not None else False


# -- errors and exit codes -------------------------------------------------------------------------------------


def use_color(stream: Any = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def fail(message: str) -> NoReturn:
    """Print ``message`` on stderr and exit 1."""
    echo(message, err=True)
    raise Exit(1)


def usage(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit 2 (a wrong command line)."""
    echo(f"error: {message}", err=True)
    raise Exit(2)


def error_text(err: Exception) -> str:
    """How a library or file-system error is printed: a schema's diagnostics compiler style, else `error: …`
    lines (one per error of a value validated with every error)."""
    if isinstance(err, SchemaError):
        return err.render(use_color())
    if isinstance(err, ValidationError):
        return "\n".join(f"error: {e}" for e in err.errors)
    if isinstance(err, OSError):
        return f"error: {os_error(err)}"
    return f"error: {err}"


def os_error(err: OSError) -> str:
    where = f" `{err.filename}`" if err.filename else ""
    return f"cannot access{where}: {(err.strerror or str(err)).lower()}"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every library error (and file-system error) into its message on stderr and exit code 1.

    A :class:`UsageError` (a request that cannot be honoured as asked: a wrong file kind, an unknown type
    name on the command line) is a wrong command line: exit code 2.
    """
    try:
        yield
    except UsageError as err:
        usage(str(err))
    except (FsfError, OSError) as err:
        fail(error_text(err))


def each(items: Sequence[T], work: Callable[[T], object]) -> bool:
    """Run ``work`` on every item (a file), printing each one's error and going on; False if any failed. A wrong
    command line (exit 2) stops at once."""
    failed = False
    for item in items:
        try:
            with user_errors():
                work(item)
        except Exit as done:
            if done.exit_code == 2:
                raise
            failed = True
    return not failed


# -- `-`: standard input and output ----------------------------------------------------------------------------

STDIO = "-"
STDIN_NAME = "<stdin>"


def is_stdio(path: str | os.PathLike[str] | None) -> bool:
    """Whether ``path`` is `-` (standard input or output)."""
    return path is not None and os.fspath(path) == STDIO


def shown(path: str | os.PathLike[str]) -> str:
    """The name of an input in messages: the path as given, `<stdin>` for `-`."""
    return STDIN_NAME if is_stdio(path) else os.fspath(path)


def once_stdin(paths: Sequence[str | os.PathLike[str] | None]) -> None:
    """Refuse a command line that reads standard input for two things."""
    if sum(is_stdio(p) for p in paths) > 1:
        raise UsageError("`-` (standard input) can be read once; give files for the others")


def read_input(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the file at ``path``, or of standard input for `-`."""
    if is_stdio(path):
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def write_output(path: str | os.PathLike[str] | None, data: bytes, *, binary: bool) -> None:
    """Write ``data`` atomically to ``path``, or to standard output for None or `-` (binary bytes never to a
    terminal)."""
    if path is None or is_stdio(path):
        if binary and sys.stdout.isatty():
            raise UsageError("will not write binary bytes to a terminal; give -o FILE or redirect")
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_atomic(path, data)


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """:func:`fsf.load.write_atomic`, imported on first use (:mod:`fsf.load` imports the parser)."""
    from fsf.load import write_atomic as write

    write(path, data)


def load_schema_arg(path: Path, root: Path | None) -> Schema:
    """The schema a command line names: a `.fsf` or `.fsb` file, or `-` (standard input: FSF source, or a
    compiled container by its magic bytes, named `<stdin>`; its imports are read from the working folder)."""
    from fsf import artifacts
    from fsf.api import compile_source, load_schema

    if not is_stdio(path):
        artifacts.require(path, ("fsf_schema", "compiled_schema"), "a schema")
        return load_schema(path, root=root)
    from fsf.bytecode.container import MAGIC

    data = read_input(path)
    if data.startswith(MAGIC):
        from fsf.bytecode.container import load_container
        from fsf.schema import Schema

        schema_ir, program = load_container(data, STDIN_NAME)
        return Schema(schema_ir, program, origin=STDIN_NAME)
    return compile_source(source_text(data, STDIN_NAME), STDIN_NAME, root=root)


def read_source_arg(path: Path) -> tuple[str, str]:
    """The name (for messages) and text of the schema source a command line names (`-`: standard input)."""
    if is_stdio(path):
        return STDIN_NAME, source_text(read_input(path), STDIN_NAME)
    from fsf.load import read_source

    return str(path), read_source(str(path))


def source_text(data: bytes, name: str) -> str:
    """Schema source bytes read by a command as text: F001 over the size limit, F000 if not UTF-8."""
    from fsf.front.parse import MAX_SOURCE_BYTES, too_large

    if len(data) > MAX_SOURCE_BYTES:
        raise SchemaError([too_large(name, len(data), data[:200].decode("utf-8", "replace"))])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SchemaError([Diagnostic("F000", f"cannot read schema `{name}`: not UTF-8 (byte {err.start})",
                                      None)]) from None


# -- JSON reports (docs/cli.md, docs/cli-output.schema.json) ---------------------------------------------------

REPORT_VERSION = 1


class Report:
    """What a checking command found, for ``--format json``: one entry per file (or view) checked and every
    finding, printed as one JSON document. (A plain class, as :class:`Group` is a named tuple: making an attrs
    class costs about 0.7 ms, a twentieth of an empty interpreter's start-up, on every command line.)"""

    def __init__(self, command: str) -> None:
        self.command = command
        self.files: list[dict[str, Any]] = []
        self.findings: list[dict[str, Any]] = []

    def add(self, file: str, *errors: BaseException | Diagnostic, ok: bool | None = None, **entry: Any) -> None:
        """One file checked, with the errors found in it: ok when there are none (unless ``ok`` says otherwise:
        a file whose errors were all reported already); ``entry`` adds fields (``content_id``, ``status``)."""
        self.files.append({"file": file, "ok": not errors if ok is None else ok, **entry})
        for err in errors:
            self.findings.extend(findings_of(err, file))

    def fail(self, err: BaseException | Diagnostic, file: str | None = None) -> NoReturn:
        """Print the document with the findings of ``err`` (an error that stops the check: a schema that does not
        load) and exit 1."""
        self.findings.extend(findings_of(err, file))
        self.emit()
        raise Exit(1)  # emit exits: there is a finding

    def emit(self) -> None:
        """Print the document; exit 1 if anything was found."""
        import json

        echo(json.dumps({"version": REPORT_VERSION, "command": self.command, "ok": not self.findings,
                               "checked": len(self.files), "files": self.files, "findings": self.findings},
                              ensure_ascii=False, indent=2))
        if self.findings:
            raise Exit(1)


@contextmanager
def reported(report: Report | None, file: str | None = None) -> Iterator[None]:
    """:func:`user_errors` for text output; with a JSON ``report``, a library error (met in ``file``) ends the
    run as that report's findings instead (a wrong command line is still exit 2, on stderr)."""
    if report is None:
        with user_errors():
            yield
        return
    try:
        yield
    except UsageError as err:
        usage(str(err))
    except (FsfError, OSError) as err:
        report.fail(err, file)


def nothing_checked(report: Report | None, message: str, file: str | None = None) -> NoReturn:
    """A check that checked nothing fails: ``error: message`` (or its JSON report, code ``nothing_checked``),
    exit 1."""
    if report is None:
        fail(f"error: {message}")
    report.findings.append({"code": "nothing_checked", "message": message, **({"file": file} if file else {})})
    report.emit()
    raise Exit(1)


def findings_of(err: BaseException | Diagnostic, file: str | None) -> list[dict[str, Any]]:
    """The findings of one error, each with the fields that locate it (a diagnostic's line and column, a byte
    offset, a value path); ``file`` is where the error was met (None: nowhere in particular)."""
    where = {} if file is None else {"file": file}
    if isinstance(err, Diagnostic):
        return [_diagnostic(err, where)]
    if isinstance(err, SchemaError):
        return [_diagnostic(d, where) for d in err.diagnostics]
    if isinstance(err, ValidationError):
        return [{"code": "invalid", "message": e.message, **where, "path": e.path} for e in err.errors]
    if isinstance(err, OSError):
        return [{"code": "unreadable", "message": os_error(err), **where}]
    found: dict[str, Any] = {"code": str(getattr(err, "code", "error")),
                             "message": str(getattr(err, "message", err)), **where}
    for key in ("offset", "path", "rule"):
        value = getattr(err, key, None)
        if value is not None:
            found[key] = value
    return [found]


def _diagnostic(d: Diagnostic, where: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"code": d.code, "message": d.message, **({"file": d.span.source.name} if d.span else where)}
    if d.span is not None:
        out.update(line=d.span.line, column=d.span.column, length=d.span.length)
    if d.label:
        out["label"] = d.label
    if d.hint:
        out["hint"] = d.hint
    if d.notes:
        out["notes"] = [{"message": n.message, **({"file": n.span.source.name, "line": n.span.line,
                                                    "column": n.span.column} if n.span else {})} for n in d.notes]
    return out
