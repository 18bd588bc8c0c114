"""CLI `fsv upgrade`: values written with older (or newer) types -> re-encoded values of the schema's type, in a
new folder (new bytes, new content ids; the old files are never touched). Thin: the library reads and encodes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from fsf import artifacts
from fsf.api import load_schema
from fsf.cli.common import RootOpt, StoreOpt, user_errors
from fsf.cli.render import MaxValuesOpt, max_values_of
from fsf.errors import UsageError
from fsf.fsv.header import content_id
from fsf.limits import CLI_MAX_VALUES
from fsf.load import write_atomic
from fsf.store import find_store

_HEX = 64


def upgrade(
    files: Annotated[list[Path], typer.Argument(metavar="IN.fsv", help="FSV value files.", show_default=False)],
    schema: Annotated[Path, typer.Option("--schema", "-s", help="The schema to upgrade to (.fsf or .fsb).",
                                         show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR",
                                         help="The folder for the new values (made if missing).",
                                         show_default=False)],
    shape: Annotated[str | None, typer.Option("--shape", help="Read every value as this type.")] = None,
    root: RootOpt = None,
    store: StoreOpt = None,
    max_values: MaxValuesOpt = CLI_MAX_VALUES,
) -> None:
    """Re-encode values as the schema's type (read through the store by docs/evolution.md) into DIR, each under
    its own name (one named by its old content id gets its new one); print `OLD -> NEW  PATH` per file."""
    with user_errors():
        found = find_store(store)
        artifacts.require(schema, ("fsf_schema", "compiled_schema"), "a schema")
        reader = load_schema(schema, root=root)
        if shape is not None:
            reader.id_bytes(shape)
        inputs = {os.path.realpath(p) for p in files}
        for path in files:
            artifacts.require(path, ("fsv_value",), "read as an FSV value")
        if output.exists() and not output.is_dir():
            raise UsageError(f"`{output}` is not a folder")
    failed = False
    for path in files:
        try:
            with user_errors():
                data = path.read_bytes()
                got = reader.read(data, shape, store=found, max_values=max_values_of(max_values))
                new = reader.encode(got.name, got.value)
                old_id, new_id = content_id(data), content_id(new)
                named = path.stem == old_id.removeprefix("blake3:") and len(path.stem) == _HEX
                target = output / (f"{new_id.removeprefix('blake3:')}.fsv" if named else path.name)
                if os.path.realpath(target) in inputs:
                    raise UsageError(f"`{target}` is one of the inputs; old values are never rewritten: give "
                                     "another --output folder")
                output.mkdir(parents=True, exist_ok=True)
                if found is not None:
                    found.add_schema(reader, [got.name])
                write_atomic(target, new)
                typer.echo(f"{old_id} -> {new_id}  {target}")
        except typer.Exit as done:
            if done.exit_code == 2:
                raise
            failed = True
    if failed:
        raise typer.Exit(1)
