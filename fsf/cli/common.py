"""CLI plumbing shared by the `fsf` and `fsv` commands: error printing and exit codes (0 ok, 1 bad input, 2 usage)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from fsf.errors import FsfError, SchemaError, UsageError

RootOpt = Annotated[Path | None, typer.Option(
    "--root", metavar="DIR", help="The folder a schema's imports must stay in (default: the schema's own folder).",
    show_default=False)]


StoreOpt = Annotated[str | None, typer.Option(
    "--store", metavar="DIR|s3://BUCKET/PREFIX",
    help="The store (default: $FSF_STORE, else the nearest `.fsf` folder from here up).", show_default=False)]


ExactOpt = Annotated[bool, typer.Option(
    "--exact", help="Refuse a value written with any type but the schema's own (no resolution through the store).")]


def use_color(stream: Any = None) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set."""
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def fail(message: str) -> NoReturn:
    """Print ``message`` on stderr and exit 1."""
    typer.echo(message, err=True)
    raise typer.Exit(1)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every library error (and file-system error) into its message on stderr and exit code 1.

    A :class:`UsageError` (a request that cannot be honoured as asked: a wrong file kind, an unknown type
    name on the command line) is a wrong command line: exit code 2.
    """
    try:
        yield
    except SchemaError as err:
        fail(err.render(use_color()))
    except UsageError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    except FsfError as err:
        fail(f"error: {err}")
    except OSError as err:
        where = f" `{err.filename}`" if err.filename else ""
        fail(f"error: cannot access{where}: {(err.strerror or str(err)).lower()}")


def make_app(help_text: str) -> typer.Typer:
    """A typer app with the house settings (no shell-completion commands, no locals in tracebacks)."""
    app = typer.Typer(help=help_text, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False)

    @app.callback()
    def _group() -> None:
        """Keep subcommands as subcommands even while an app has only one."""

    return app
