"""CLI `fsf`: schema files -> checks, compiled containers, listings (thin: arguments in, library call, exit code)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from fsf.api import COMPILED_SUFFIX, load_schema
from fsf.cli.breaking import breaking
from fsf.cli.common import RootOpt, StoreOpt, make_app, user_errors
from fsf.cli.store import optional_store, store_app

app = make_app("FSF schemas: check, compile, disassemble and format .fsf files.")

Files = Annotated[list[Path], typer.Argument(help="Schema files (.fsf).", show_default=False)]


@app.command()
def check(files: Files, root: RootOpt = None) -> None:
    """Check schema files and report every error at once (exit 1 if any)."""
    _require_inside(files, root)
    failed = False
    for path in files:
        try:
            with user_errors():
                load_schema(path, root=root)
        except typer.Exit:
            failed = True
    if failed:
        raise typer.Exit(1)


@app.command("compile")
def compile_(
    files: Files,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="The .fsb to write (one input only).")] = None,
    root: RootOpt = None,
    store: StoreOpt = None,
) -> None:
    """Compile schema files to .fsb containers (default: next to each input) and print each type's id; with a
    store, record every type's closure in it."""
    from fsf.api import write_compiled

    if output is not None and len(files) > 1:
        raise typer.BadParameter("-o/--output takes one input file", param_hint="'-o'")
    _require_inside(files, root)
    recorder = optional_store(store)
    failed = False
    for path in files:
        try:
            with user_errors():
                schema = write_compiled(path, output, root=root)
                if recorder is not None:
                    recorder.add_schema(schema)
        except typer.Exit:
            failed = True
            continue
        for name in schema.shapes:
            typer.echo(f"{name} {schema.id(name)}")
    if failed:
        raise typer.Exit(1)


def _require_inside(files: list[Path], root: Path | None) -> None:
    """With --root, a schema source whose folder is outside it is a wrong command line: exit 2, nothing read."""
    from fsf.load import schema_root

    if root is not None:
        with user_errors():
            for path in files:
                if not str(path).endswith(COMPILED_SUFFIX):
                    schema_root(str(path), root)


@app.command()
def disasm(file: Annotated[Path, typer.Argument(help="A schema (.fsf) or compiled schema (.fsb).")],
           root: RootOpt = None) -> None:
    """Print the bytecode listing of a schema, with symbolic jump labels."""
    from fsf.bytecode.dis import disassemble

    with user_errors():
        typer.echo(disassemble(load_schema(file, root=root).program), nl=False)


@app.command("fmt")
def fmt_(
    files: Files,
    check_only: Annotated[bool, typer.Option("--check", help="Change nothing; list the files that would change.")]
    = False,
) -> None:
    """Rewrite schema files in the one canonical layout (comments kept, ids unchanged)."""
    from fsf.front.fmt import format_source
    from fsf.load import read_source, write_atomic

    failed = False
    for path in files:
        try:
            with user_errors():
                text = read_source(str(path))
                formatted = format_source(text, str(path))
                if formatted != text:
                    if check_only:
                        typer.echo(str(path))
                        failed = True
                    else:
                        write_atomic(path, formatted.encode("utf-8"))
                        typer.echo(f"reformatted {path}", err=True)
        except typer.Exit:
            failed = True
    if failed:
        raise typer.Exit(1)


class Target(str, Enum):
    python = "python"
    jsonschema = "jsonschema"
    typescript = "typescript"


@app.command()
def codegen(
    file: Annotated[Path, typer.Argument(help="A schema (.fsf) or compiled schema (.fsb).")],
    target: Annotated[Target, typer.Option("--target", "-t", help="What to generate.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="The file to write (default: stdout).")] = None,
    root: RootOpt = None,
) -> None:
    """Generate typed Python classes, a JSON Schema or TypeScript declarations for every type of a schema."""
    from fsf.api import codegen as generate
    from fsf.load import write_atomic

    with user_errors():
        text = generate(load_schema(file, root=root), target.value)
        if output is None:
            typer.echo(text, nl=False)
        else:
            write_atomic(output, text.encode("utf-8"))


app.add_typer(store_app, name="store")
app.command("breaking")(breaking)


def main() -> None:
    """Entry point of the `fsf` console script."""
    app()


if __name__ == "__main__":
    main()
