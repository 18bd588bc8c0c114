"""CLI `fsv`: FSV value files and JSON -> encoded values, JSON, content ids, headers, verdicts (thin: arguments in,
library call, exit code 0 ok, 1 bad input, 2 wrong command line)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from fsf import artifacts
from fsf.api import load_schema
from fsf.cli.common import RootOpt, make_app, user_errors
from fsf.cli.render import MaxValuesOpt, max_values_of, render
from fsf.errors import FsfError
from fsf.fsv.header import HEADER_SIZE, content_id, read_header
from fsf.fsv.jsonform import dumps, from_json, loads, to_json
from fsf.ir.ids import format_id
from fsf.limits import CLI_MAX_VALUES
from fsf.load import write_atomic
from fsf.schema import Schema

app = make_app("FSV values: encode JSON to canonical .fsv bytes, decode, hash, inspect and verify them.")

SchemaOpt = Annotated[Path, typer.Option("--schema", "-s", help="The schema (.fsf or .fsb).", show_default=False)]
ShapeOpt = Annotated[str, typer.Option("--shape", help="The root type of the value.", show_default=False)]
MaybeShapeOpt = Annotated[
    str | None, typer.Option("--shape", help="Insist on this root type (default: the one in the header).")]
Values = Annotated[list[Path], typer.Argument(metavar="IN.fsv", help="FSV value files (.fsv).",
                                               show_default=False)]

_PROGRESS_AT = 8
"""verify shows a progress bar on a terminal from this many files on."""



def _is_terminal(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def _schema(path: Path, root: Path | None) -> Schema:
    artifacts.require(path, ("fsf_schema", "compiled_schema"), "a schema")
    return load_schema(path, root=root)


def _read_value_file(path: Path) -> bytes:
    artifacts.require(path, ("fsv_value",), "read as an FSV value")
    return path.read_bytes()


@app.command()
def encode(
    schema: SchemaOpt,
    shape: ShapeOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the .fsv value.",
                                         show_default=False)],
    source: Annotated[str, typer.Argument(metavar="IN.json|-", help="The value in JSON form; - for stdin.")]
    = "-",
    root: RootOpt = None,
) -> None:
    """Validate a JSON value, write its canonical FSV bytes atomically and print its content id."""
    with user_errors():
        artifacts.require(output, ("fsv_value",), "written as an FSV value")
        if source != "-":
            artifacts.require(source, ("json_compat",), "the source of a value")
        loaded = _schema(schema, root)
        loaded.id_bytes(shape)
        text = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        data = loaded.encode(shape, from_json(loaded, shape, loads(text)))
        write_atomic(output, data)
        typer.echo(content_id(data))


@app.command()
def decode(
    schema: SchemaOpt,
    source: Annotated[Path, typer.Argument(metavar="IN.fsv", help="The FSV value.", show_default=False)],
    shape: MaybeShapeOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON here (default: stdout).")]
    = None,
    root: RootOpt = None,
    max_values: MaxValuesOpt = CLI_MAX_VALUES,
) -> None:
    """Print (or write) the JSON form of an FSV value, after checking it is canonical and valid."""
    with user_errors():
        if output is not None:
            artifacts.require(output, ("json_compat",), "written as JSON")
        loaded = _schema(schema, root)
        data = _read_value_file(source)
        header = read_header(data)
        value = loaded.decode(data, shape, max_values=max_values_of(max_values))
        name = shape or loaded.name_of(header.root_id)
        assert name is not None
        text = dumps(to_json(loaded, name, value))
        if output is None:
            typer.echo(text, nl=False)
        else:
            write_atomic(output, text.encode("utf-8"))


@app.command("hash")
def hash_(files: Values) -> None:
    """Print the content id of each FSV value (`blake3:<hex>  PATH`); no schema needed."""
    failed = False
    for path in files:
        try:
            with user_errors():
                data = _read_value_file(path)
                read_header(data)
                typer.echo(f"{content_id(data)}  {path}")
        except typer.Exit as done:
            if done.exit_code == 2:
                raise
            failed = True
    if failed:
        raise typer.Exit(1)


@app.command()
def inspect(
    source: Annotated[Path, typer.Argument(metavar="IN.fsv", help="The FSV value.", show_default=False)],
    schema: Annotated[Path | None, typer.Option("--schema", "-s", help="Also name the root type from this schema.")]
    = None,
    root: RootOpt = None,
) -> None:
    """Print the header of an FSV value (format version, root type id, sizes) without reading the payload."""
    with user_errors():
        data = _read_value_file(source)
        header = read_header(data)
        lines = [
            ("format version", str(header.version)),
            ("root type id", format_id(header.root_id)),
        ]
        if schema is not None:
            lines.append(("root type", _schema(schema, root).name_of(header.root_id) or "(not a type of this schema)"))
        lines += [
            ("header size", f"{HEADER_SIZE} bytes"),
            ("payload size", f"{header.payload_size} bytes"),
            ("total size", f"{len(data)} bytes"),
            ("content id", content_id(data)),
        ]
        for key, text in lines:
            typer.echo(f"{key + ':':<16}{text}")


@app.command()
def verify(schema: SchemaOpt, files: Values, shape: MaybeShapeOpt = None, root: RootOpt = None,
           max_values: MaxValuesOpt = CLI_MAX_VALUES) -> None:
    """Exit 0 only if every file is a canonical, valid FSV value of the schema (a progress bar on a terminal)."""
    with user_errors():
        for path in files:
            artifacts.require(path, ("fsv_value",), "read as an FSV value")
        loaded = _schema(schema, root)
        if shape is not None:
            loaded.id_bytes(shape)
    bar = _is_terminal(sys.stderr) and len(files) >= _PROGRESS_AT
    failures = []
    for path, problem, cid in _verify_all(loaded, files, shape, bar, max_values_of(max_values)):
        if problem:
            failures.append(f"error: {path}: {problem}")
        elif not bar:
            typer.echo(f"ok  {cid}  {path}")
    for line in failures:  # after the progress bar is gone
        typer.echo(line, err=True)
    if failures:
        typer.echo(f"{len(failures)} of {len(files)} file(s) failed verification", err=True)
        raise typer.Exit(1)


def _verify_all(schema: Schema, files: list[Path], shape: str | None, bar: bool,
                max_values: int | None) -> Iterator[tuple[Path, str, str]]:
    """Each file with its problem ('' when it verifies) and its content id."""

    def run(paths: Iterable[Path]) -> Iterator[tuple[Path, str, str]]:
        for path in paths:
            try:
                data = _read_value_file(path)
                schema.verify(data, shape, max_values=max_values)
            except OSError as err:
                yield path, f"cannot read: {(err.strerror or str(err)).lower()}", ""
            except FsfError as err:
                yield path, str(err), ""
            else:
                yield path, "", content_id(data)

    if not bar:
        yield from run(files)
        return
    progress: Any = typer.progressbar(files, label="verifying", file=sys.stderr)
    with progress as paths:
        yield from run(paths)


app.command()(render)


def main() -> None:
    """Entry point of the `fsv` console script."""
    app()
