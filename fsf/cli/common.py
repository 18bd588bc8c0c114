"""CLI plumbing shared by the `fsf` and `fsv` commands: the command tables and their lazy dispatch, plain help,
standard input and output (`-`), error printing and exit codes (0 ok, 1 bad input, 2 usage), JSON reports.

Start-up is a feature here (git runs `fsv show` once per file, pre-commit and scripts run these per commit): a
command imports only what it uses. :func:`run` reads the command name from the command line and imports just that
command's module; every command module imports the library inside its functions; help and errors are plain
click text (typer never loads rich); and parameters are converted without pydantic (:class:`_Plain`).
"""

from __future__ import annotations

import enum
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import attrs
import typer
import typer.core

from fsf.errors import Diagnostic, FsfError, SchemaError, UsageError, ValidationError

if TYPE_CHECKING:
    from fsf.schema import Schema

T = TypeVar("T")

RootOpt = Annotated[Path | None, typer.Option(
    "--root", metavar="DIR", help="The folder a schema's imports must stay in (default: the schema's own folder).",
    show_default=False)]


StoreOpt = Annotated[str | None, typer.Option(
    "--store", metavar="DIR|s3://BUCKET/PREFIX",
    help="The store (default: $FSF_STORE, else the nearest `.fsf` folder from here up).", show_default=False)]


ExactOpt = Annotated[bool, typer.Option(
    "--exact", help="Refuse a value written with any type but the schema's own (no resolution through the store).")]


MaxValuesOpt = Annotated[int, typer.Option(
    "--max-values", min=0, metavar="N",
    help="The decode budget: refuse a value of more than N msgpack values (code `budget`; 0: no limit).")]


def max_values_of(option: int) -> int | None:
    """The library's ``max_values`` for the ``--max-values`` option (0: no limit)."""
    return option or None


class Format(str, enum.Enum):
    """What a checking command prints: text for people, or one JSON document (``docs/cli.md``)."""

    text = "text"
    json = "json"


FormatOpt = Annotated[Format, typer.Option(
    "--format", help="`json`: one JSON document on stdout with every finding (docs/cli.md).")]


# -- command tables and dispatch -------------------------------------------------------------------------------


@attrs.frozen
class Group:
    """A command group: its help and its commands, each a ``"module:function"`` or a nested :class:`Group`.

    Nothing is imported until :func:`make_app` registers a command, so a table costs nothing to define.
    """

    help: str
    commands: Mapping[str, str | Group]


def make_app(group: Group, only: Sequence[str] = (), *, tool: str | None = None) -> typer.Typer:
    """The typer app of ``group``. With ``only`` (the command line's words), a group whose next word names one of
    its commands registers (and so imports) that one alone. ``tool`` names a top-level tool: it gets
    ``--version`` and the shell-completion options."""
    app = typer.Typer(name=tool, help=group.help, cls=_Group, no_args_is_help=True, add_completion=tool is not None,
                      pretty_exceptions_enable=False, rich_markup_mode=None)
    app.callback()(_keep_group if tool is None else _with_version)
    chosen = only[0] if only and only[0] in group.commands else None
    for name, target in group.commands.items():
        if chosen is not None and name != chosen:
            continue
        if isinstance(target, Group):
            app.add_typer(make_app(target, only[1:] if chosen else ()), name=name)
        else:
            module, _, attribute = target.partition(":")
            app.command(name, cls=_Command)(getattr(importlib.import_module(module), attribute))
    return app


def run(tool: str, group: Group) -> None:
    """The console script of ``tool``: build the app for this command line (only its command imported) and run
    it."""
    make_app(group, sys.argv[1:], tool=tool)()


def _keep_group() -> None:
    """Keep subcommands as subcommands even while an app has only one."""


def _show_version(ctx: typer.Context, value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("fsf")
        except PackageNotFoundError:  # run from a checkout that was never installed
            number = "(not installed)"
        typer.echo(f"{ctx.find_root().command.name} {number}")
        raise typer.Exit()


def _with_version(version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", is_eager=True, callback=_show_version)] = False) -> None:
    """Keep subcommands as subcommands even while an app has only one."""


# -- plain help and parameters ---------------------------------------------------------------------------------


class _PlainHelp:
    """Help in plain words: a metavar for each value (`SCHEMA`, `N`, `text|json`), never a Python type."""

    def plain_usage(self, ctx: Any, params: Sequence[Any], options_metavar: str | None) -> list[str]:
        pieces = [options_metavar] if options_metavar else []
        for param in params:
            if param.param_type_name == "argument" and not param.hidden:
                name = _argument(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def plain_options(self, ctx: Any, params: Sequence[Any], formatter: Any) -> None:
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in params:
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                sections["Arguments"].append((_argument(param), record[1]))
            else:
                sections["Options"].append((_option_names(param), record[1]))
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class _Command(_PlainHelp, typer.core.TyperCommand):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _plain_conversions(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return self.plain_usage(ctx, self.get_params(ctx), self.options_metavar)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        self.plain_options(ctx, self.get_params(ctx), formatter)


class _Group(_PlainHelp, typer.core.TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        _plain_conversions(self.get_params(ctx))  # the completion and help options too
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*self.plain_usage(ctx, self.get_params(ctx), self.options_metavar), self.subcommand_metavar]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        self.plain_options(ctx, self.get_params(ctx), formatter)
        self.format_commands(ctx, formatter)


def _argument(param: Any) -> str:
    name = _metavar(param)
    return name + "..." if param.nargs != 1 and not name.endswith("...") else name


def _option_names(param: Any) -> str:
    names = ", ".join(sorted(param.opts, key=lambda o: (o.startswith("--"), o)))
    if param.secondary_opts:
        names += " / " + ", ".join(param.secondary_opts)
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return names
    return f"{names} {_metavar(param)}"


def _metavar(param: Any) -> str:
    """The word that stands for ``param``'s value: its metavar, else one from its type (choices, `N`, `PATH`,
    `TEXT`)."""
    if param.metavar:
        return str(param.metavar)
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    args = getattr(annotation, "__args__", None)  # list[X]: X
    element = args[0] if args else annotation
    if isinstance(element, type) and issubclass(element, enum.Enum):
        return "|".join(str(m.value) for m in element)
    if element is int:
        return "N"
    if isinstance(element, type) and issubclass(element, os.PathLike):
        return "PATH"
    return "TEXT" if param.param_type_name == "option" else str(param.name).upper()


@attrs.frozen
class _Plain:
    """A parameter's conversion from command-line text without pydantic (which typer ≥ 0.2x would import for
    every parameter: about eight empty interpreter start-ups), for the types these commands use: str, bool, int
    (with min/max), Path and enums, one or a list. It keeps typer's contract (``coerce(value, param=, ctx=)``); any
    other type is left to typer."""

    convert: Callable[[Any], Any]

    def coerce(self, value: Any, *, param: Any, ctx: Any) -> Any:
        multiple = param.multiple or param.nargs == -1
        if value is None:
            return () if multiple else None
        try:
            if not multiple:
                return self.convert(value)
            if isinstance(value, str):
                raise ValueError(f"`{value}`: expected a list of values")
            return [self.convert(v) for v in value]
        except ValueError as err:
            raise typer.BadParameter(str(err), ctx=ctx, param=param) from None


def _plain_conversions(params: Sequence[Any]) -> None:
    """Give each parameter of a command a :class:`_Plain` conversion where one fits, before the command line is
    parsed (typer ≥ 0.2x builds its own lazily, on first use, only where none was set)."""
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", False) is not None:
            continue  # another typer, or a conversion already made
        annotation = descriptor.annotation
        if getattr(annotation, "__origin__", None) is list:
            annotation = annotation.__args__[0]
        convert = _converter(annotation, descriptor.parameter_info)
        if convert is not None:
            param._runtime_param = _Plain(convert)


def _converter(annotation: Any, info: Any) -> Callable[[Any], Any] | None:
    if getattr(info, "parser", None) is not None:
        return None
    if annotation is str:
        return str
    if annotation is bool:
        return _boolean
    if annotation is Path and not any(getattr(info, flag, False) for flag in
                                      ("exists", "writable", "resolve_path", "allow_dash", "path_type")) \
            and getattr(info, "file_okay", True) and getattr(info, "dir_okay", True):
        return lambda v: v if isinstance(v, Path) else Path(v)
    if annotation is int and not getattr(info, "clamp", False):
        return _integer(getattr(info, "min", None), getattr(info, "max", None))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum) and getattr(info, "case_sensitive", True):
        return _choice(annotation)
    return None


_TRUE, _FALSE = frozenset(("1", "true", "t", "yes", "y", "on")), frozenset(("0", "false", "f", "no", "n", "off", ""))


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"`{value}` is not a boolean")


def _integer(low: float | None, high: float | None) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"`{value}` is not an integer") from None
        if low is not None and n < low:
            raise ValueError(f"`{value}` is less than the minimum {low}")
        if high is not None and n > high:
            raise ValueError(f"`{value}` is more than the maximum {high}")
        return n

    return convert


def _choice(kind: type[enum.Enum]) -> Callable[[Any], enum.Enum]:
    def convert(value: Any) -> enum.Enum:
        if isinstance(value, kind):
            return value
        for member in kind:
            if member.value == value:
                return member
        raise ValueError(f"`{value}` is not one of " + ", ".join(f"`{m.value}`" for m in kind))

    return convert


# -- errors and exit codes -------------------------------------------------------------------------------------


def use_color(stream: Any = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def fail(message: str) -> NoReturn:
    """Print ``message`` on stderr and exit 1."""
    typer.echo(message, err=True)
    raise typer.Exit(1)


def usage(message: str) -> NoReturn:
    """Print ``error: message`` on stderr and exit 2 (a wrong command line)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


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
        except typer.Exit as done:
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


@attrs.define
class Report:
    """What a checking command found, for ``--format json``: one entry per file (or view) checked and every
    finding, printed as one JSON document."""

    command: str
    files: list[dict[str, Any]] = attrs.field(factory=list)
    findings: list[dict[str, Any]] = attrs.field(factory=list)

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
        raise typer.Exit(1)  # emit exits: there is a finding

    def emit(self) -> None:
        """Print the document; exit 1 if anything was found."""
        typer.echo(json.dumps({"version": REPORT_VERSION, "command": self.command, "ok": not self.findings,
                               "checked": len(self.files), "files": self.files, "findings": self.findings},
                              ensure_ascii=False, indent=2))
        if self.findings:
            raise typer.Exit(1)


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
    raise typer.Exit(1)


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
