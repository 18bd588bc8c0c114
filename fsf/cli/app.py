"""CLI, typer time: a command table (:class:`fsf.cli.common.Group`) -> the typer app, with plain help, `--version`,
shell completion and parameters converted without pydantic.

This is the reference parser of both command lines: help screens, completion, every usage error (exit 2), and
whatever the fast path (:mod:`fsf.cli.argspec`) declines. The fast path's table is generated from the apps built
here, and its conversions are the ones :func:`type_spec` picks for typer, so both read a command line the same way.
"""

from __future__ import annotations

import enum
import importlib
import os
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import attrs
import typer
import typer.core

from fsf.cli.argspec import converter, type_spec
from fsf.cli.common import BadParameter, Group, echo


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


def _keep_group() -> None:
    """Keep subcommands as subcommands even while an app has only one."""


def _show_version(ctx: typer.Context, value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("fsf")
        except PackageNotFoundError:  # run from a checkout that was never installed
            number = "(not installed)"
        echo(f"{ctx.find_root().command.name} {number}")
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

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BadParameter as err:  # a wrong command line the command found: typer's usage error
            raise typer.BadParameter(err.message, ctx=ctx, param_hint=err.hint) from None

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
        spec = type_spec(descriptor)
        if spec is not None:
            param._runtime_param = _Plain(converter(spec))
