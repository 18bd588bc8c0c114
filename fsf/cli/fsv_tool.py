"""CLI `fsv`: FSV value files and JSON -> encoded values, JSON, content ids, headers, verdicts (thin: arguments in,
library call, exit code 0 ok, 1 bad input, 2 wrong command line)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import attrs
import typer

from fsf import artifacts
from fsf.api import load_schema
from fsf.cli import store as store_cli
from fsf.cli.common import ExactOpt, RootOpt, StoreOpt, make_app, user_errors
from fsf.cli.evolve import upgrade
from fsf.cli.git import git_app
from fsf.cli.merge import merge, verify_append_only
from fsf.cli.render import MaxValuesOpt, max_values_of, render
from fsf.cli.show import show
from fsf.errors import FsfError, StoreError, UsageError
from fsf.fsv.header import HEADER_SIZE, content_id, read_header
from fsf.fsv.jsonform import dumps, from_json, loads, to_json
from fsf.ir.ids import format_id
from fsf.limits import CLI_MAX_VALUES
from fsf.load import write_atomic
from fsf.schema import Schema
from fsf.store import Store

app = make_app("FSV values: encode JSON to canonical .fsv bytes, decode, hash, inspect and verify them.")

SchemaOpt = Annotated[Path, typer.Option("--schema", "-s", help="The schema (.fsf or .fsb).", show_default=False)]
ReaderOpt = Annotated[Path | None, typer.Option(
    "--schema", "-s", help="The schema (.fsf or .fsb); default: the value's writer schema from the store.",
    show_default=False)]
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


def _reader(schema: Schema | None, store: Store | None, data: bytes) -> Schema:
    """The schema to read ``data`` with: the one given, else its writer schema from the store."""
    if schema is not None:
        return schema
    if store is None:
        raise UsageError("give --schema/-s SCHEMA, or keep the value's schema in a store (`fsf store init`, "
                         "then `fsf store add SCHEMA`)")
    return store.schema(format_id(read_header(data).root_id))


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
    store: StoreOpt = None,
) -> None:
    """Validate a JSON value, write its canonical FSV bytes atomically and print its content id; with a store,
    record the closure of its type there first."""
    recorder = store_cli.optional_store(store)
    with user_errors():
        artifacts.require(output, ("fsv_value",), "written as an FSV value")
        if source != "-":
            artifacts.require(source, ("json_compat",), "the source of a value")
        loaded = _schema(schema, root)
        loaded.id_bytes(shape)
        text = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        data = loaded.encode(shape, from_json(loaded, shape, loads(text)))
        if recorder is not None:
            recorder.add_schema(loaded, [shape])
        write_atomic(output, data)
        typer.echo(content_id(data))


@app.command()
def decode(
    source: Annotated[Path, typer.Argument(metavar="IN.fsv", help="The FSV value.", show_default=False)],
    schema: ReaderOpt = None,
    shape: MaybeShapeOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON here (default: stdout).")]
    = None,
    root: RootOpt = None,
    max_values: MaxValuesOpt = CLI_MAX_VALUES,
    store: StoreOpt = None,
    exact: ExactOpt = False,
) -> None:
    """Print (or write) the JSON form of an FSV value, after checking it is canonical and valid; a value written
    with another version of the type is read as the schema's type through the store (a note on stderr)."""
    found = store_cli.optional_store(store)
    with user_errors():
        if output is not None:
            artifacts.require(output, ("json_compat",), "written as JSON")
        given = None if schema is None else _schema(schema, root)
        data = _read_value_file(source)
        loaded = _reader(given, found, data)
        got = loaded.read(data, shape, max_values=max_values_of(max_values), store=found, exact=exact)
        if got.resolved:
            typer.echo(f"note: {source}: written as {got.writer_id}, read as `{got.name}` {loaded.id(got.name)}",
                       err=True)
        text = dumps(to_json(loaded, got.name, got.value))
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
    store: StoreOpt = None,
) -> None:
    """Print the header of an FSV value (format version, root type id, sizes) without reading the payload; the
    root type's name too when the schema is given or in the store."""
    found = store_cli.optional_store(store) if schema is None else None
    with user_errors():
        data = _read_value_file(source)
        header = read_header(data)
        lines = [
            ("format version", str(header.version)),
            ("root type id", format_id(header.root_id)),
        ]
        if schema is not None:
            lines.append(("root type", _schema(schema, root).name_of(header.root_id) or "(not a type of this schema)"))
        elif found is not None:
            type_id = format_id(header.root_id)
            lines.append(("root type", found.type_name(type_id) if found.has_schema(type_id)
                          else f"(not in the store {found.where})"))
        lines += [
            ("header size", f"{HEADER_SIZE} bytes"),
            ("payload size", f"{header.payload_size} bytes"),
            ("total size", f"{len(data)} bytes"),
            ("content id", content_id(data)),
        ]
        for key, text in lines:
            typer.echo(f"{key + ':':<16}{text}")


@app.command()
def verify(files: Values, schema: ReaderOpt = None, shape: MaybeShapeOpt = None, root: RootOpt = None,
           max_values: MaxValuesOpt = CLI_MAX_VALUES,
           expect: Annotated[str | None, typer.Option(
               "--expect", metavar="ID", help="The content id the (one) file must have.")] = None,
           store: StoreOpt = None, exact: ExactOpt = False,
           append_only_since: Annotated[str | None, typer.Option(
               "--append-only-since", metavar="REV",
               help="Instead: fail if any .fsv file under the PATHs (folders or files) at git revision REV was "
                    "changed or removed since (docs/git.md).")] = None) -> None:
    """Exit 0 only if every file is a canonical, valid FSV value (of the schema, else of its writer schema from
    the store), a file named `<64 hex>.fsv` hashes to its name, and, with a store, every reference in it names
    a stored value of its type, through the whole graph (a progress bar on a terminal). With
    `--append-only-since REV PATH...`, only that every committed value under the PATHs is unchanged."""
    if append_only_since is not None:
        verify_append_only(append_only_since, files)
        return
    found = store_cli.optional_store(store)
    with user_errors():
        if expect is not None:
            if len(files) != 1:
                raise UsageError("--expect checks one file; give exactly one")
            expect = store_cli.value_id(expect)
        for path in files:
            artifacts.require(path, ("fsv_value",), "read as an FSV value")
        loaded = None if schema is None else _schema(schema, root)
        if loaded is not None and shape is not None:
            loaded.id_bytes(shape)
        if loaded is None and found is None:
            _reader(None, None, b"")
    bar = _is_terminal(sys.stderr) and len(files) >= _PROGRESS_AT
    failures = []
    check = _Check(loaded, found, shape, max_values_of(max_values), expect, exact)
    for path, problem, cid in _verify_all(check, files, bar):
        if problem:
            failures.append(f"error: {path}: {problem}")
        elif not bar:
            typer.echo(f"ok  {cid}  {path}")
    for line in failures:  # after the progress bar is gone
        typer.echo(line, err=True)
    if failures:
        typer.echo(f"{len(failures)} of {len(files)} file(s) failed verification", err=True)
        raise typer.Exit(1)


@attrs.frozen
class _Check:
    """What verify checks each file against."""

    schema: Schema | None
    store: Store | None
    shape: str | None
    max_values: int | None
    expect: str | None
    exact: bool

    def __call__(self, path: Path) -> str:
        """The content id of the file at ``path``, or raise the first problem found."""
        data = _read_value_file(path)
        cid = content_id(data)
        named = path.stem if _HEX_NAME.fullmatch(path.stem) else None
        if named is not None and cid != f"blake3:{named}":
            raise StoreError("integrity", f"the file is named by content id blake3:{named} but hashes to {cid}")
        if self.expect is not None and cid != self.expect:
            raise StoreError("integrity", f"hashes to {cid}, expected {self.expect}")
        reader = _reader(self.schema, self.store, data)
        reader.verify(data, self.shape, max_values=self.max_values, store=self.store, exact=self.exact)
        return cid


_HEX_NAME = re.compile(r"[0-9a-f]{64}")


def _verify_all(check: _Check, files: list[Path], bar: bool) -> Iterator[tuple[Path, str, str]]:
    """Each file with its problem ('' when it verifies) and its content id."""

    def run(paths: Iterable[Path]) -> Iterator[tuple[Path, str, str]]:
        for path in paths:
            try:
                cid = check(path)
            except OSError as err:
                yield path, f"cannot read: {(err.strerror or str(err)).lower()}", ""
            except FsfError as err:
                yield path, str(err), ""
            else:
                yield path, "", cid

    if not bar:
        yield from run(files)
        return
    progress: Any = typer.progressbar(files, label="verifying", file=sys.stderr)
    with progress as paths:
        yield from run(paths)


app.command()(render)
app.command()(show)
app.add_typer(git_app, name="git")
for _command in (store_cli.put, store_cli.get, store_cli.log, store_cli.refs, upgrade, merge):
    app.command()(_command)


def main() -> None:
    """Entry point of the `fsv` console script."""
    app()


if __name__ == "__main__":
    main()
