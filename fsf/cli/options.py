"""CLI, typer time: the option and argument declarations that several commands share -> ``Annotated`` aliases.

Only typer reads these: the command modules name them in signatures that stay strings until typer evaluates them
(``from __future__ import annotations``), through a lazy handle (:class:`fsf.cli.common.Lazy`), so a command
served by the fast path (:mod:`fsf.cli.argspec`) never imports this module, or typer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsf.cli.common import Format

# -- shared by many commands -----------------------------------------------------------------------------------

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
FormatOpt = Annotated[Format, typer.Option(
    "--format", help="`json`: one JSON document on stdout with every finding (docs/cli.md).")]

# -- values (fsf.cli.values) -----------------------------------------------------------------------------------

SchemaOpt = Annotated[Path, typer.Option(
    "--schema", "-s", metavar="SCHEMA", help="The schema (.fsf or .fsb; - for standard input).", show_default=False)]
ReaderOpt = Annotated[Path | None, typer.Option(
    "--schema", "-s", metavar="SCHEMA",
    help="The schema (.fsf or .fsb); default: the value's writer schema from the store.", show_default=False)]
ShapeOpt = Annotated[str, typer.Option("--shape", metavar="TYPE", help="The root type of the value.",
                                       show_default=False)]
MaybeShapeOpt = Annotated[str | None, typer.Option(
    "--shape", metavar="TYPE", help="Insist on this root type (default: the one in the header).")]
Values = Annotated[list[Path], typer.Argument(metavar="IN.fsv", help="FSV value files (.fsv); - for standard input.",
                                              show_default=False)]
ValueArg = Annotated[Path, typer.Argument(metavar="IN.fsv", help="The FSV value; - for standard input.",
                                          show_default=False)]

# -- schemas (fsf.cli.schemas) ---------------------------------------------------------------------------------

Files = Annotated[list[Path], typer.Argument(metavar="SCHEMA", help="Schema files (.fsf); - for standard input.",
                                             show_default=False)]
SchemaArg = Annotated[Path, typer.Argument(metavar="SCHEMA", help="A schema (.fsf) or compiled schema (.fsb); - for "
                                           "standard input.", show_default=False)]

# -- the store (fsf.cli.store, fsf.cli.history) ----------------------------------------------------------------

IdArg = Annotated[str, typer.Argument(metavar="ID", help="A content id (`blake3:<hex>`) or a stored .fsv file.",
                                      show_default=False)]
RevOpt = Annotated[str | None, typer.Option(
    "--rev", metavar="RANGE",
    help="Only these commits: `A..B`, `A..` (to HEAD) or `B` (everything up to B; default: HEAD).",
    show_default=False)]
