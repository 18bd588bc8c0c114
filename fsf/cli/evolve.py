"""CLI `fsv upgrade`: values written with older (or newer) types -> re-encoded values of the schema's type, in a
new folder (new bytes, new content ids; the old files are never touched). Thin: the library reads and encodes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fsf.cli.common import (
    Exit,
    Lazy,
    each,
    echo,
    is_stdio,
    load_schema_arg,
    max_values_of,
    user_errors,
)
from fsf.errors import UsageError
from fsf.limits import CLI_MAX_VALUES

if TYPE_CHECKING:
    import typer

    from fsf.cli import options
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")

_HEX = 64


def upgrade(
    files: Annotated[list[Path], typer.Argument(metavar="IN.fsv", help="FSV value files.", show_default=False)],
    schema: Annotated[Path, typer.Option("--schema", "-s", metavar="SCHEMA",
                                         help="The schema to upgrade to (.fsf or .fsb).", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR",
                                         help="The folder for the new values (made if missing).",
                                         show_default=False)],
    shape: Annotated[str | None, typer.Option("--shape", metavar="TYPE", help="Read every value as this type.")]
    = None,
    root: options.RootOpt = None,
    store: options.StoreOpt = None,
    max_values: options.MaxValuesOpt = CLI_MAX_VALUES,
) -> None:
    """Re-encode values as the schema's type (read through the store by docs/evolution.md) into DIR, each under
    its own name (one named by its old content id gets its new one); print `OLD -> NEW  PATH` per file.

    \b
    Example:
      fsv upgrade -s shapes/forge-plan.fsf old/*.fsv -o new/
    """
    from fsf import artifacts
    from fsf.fsv.header import content_id
    from fsf.load import write_atomic
    from fsf.store import find_store

    with user_errors():
        found = find_store(store)
        reader = load_schema_arg(schema, root)
        if shape is not None:
            reader.id_bytes(shape)
        inputs = {os.path.realpath(p) for p in files}
        for path in files:
            artifacts.require(path, ("fsv_value",), "read as an FSV value")
        if is_stdio(output):
            raise UsageError("upgrade writes a folder of values: give -o DIR, not -o -")
        if output.exists() and not output.is_dir():
            raise UsageError(f"`{output}` is not a folder")
        if os.path.realpath(output) in {os.path.dirname(p) for p in inputs}:  # before anything is written
            raise UsageError(f"`{output}` holds inputs; old values are never rewritten beside themselves: give "
                             "another --output folder")

    def one(path: Path) -> None:
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
        echo(f"{old_id} -> {new_id}  {target}")

    if not each(files, one):
        raise Exit(1)
