"""CLI `fsf`: schema files -> checks, compiled containers, listings (thin: arguments in, library call, exit code)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsf._cli_common import make_app, user_errors
from fsf.api import load_schema

app = make_app("FSF schemas: check, compile, disassemble and format .fsf files.")

Files = Annotated[list[Path], typer.Argument(help="Schema files (.fsf).", show_default=False)]


@app.command()
def check(files: Files) -> None:
    """Check schema files and report every error at once (exit 1 if any)."""
    failed = False
    for path in files:
        try:
            with user_errors():
                load_schema(path)
        except typer.Exit:
            failed = True
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """Entry point of the `fsf` console script."""
    app()
