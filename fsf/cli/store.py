"""CLI for the store: `fsf store init|add|ls|show|verify` and `fsv put|get|log|refs` (thin: arguments in, a
:mod:`fsf.store` call, lines out; exit 0 ok, 1 bad input or a problem found, 2 wrong command line)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fsf.cli.common import (
    Exit,
    Lazy,
    each,
    echo,
    is_stdio,
    load_schema_arg,
    once_stdin,
    read_input,
    shown,
    user_errors,
    write_output,
)
from fsf.errors import FsfError

if TYPE_CHECKING:
    import typer

    from fsf.cli import options
    from fsf.store import Store
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")


def value_id(text: str) -> str:
    """The content id an ID argument names: an id as written, or the content id of an ``.fsv`` file."""
    from fsf.fsv.header import content_id
    from fsf.store import parse_id

    if text.endswith(".fsv") and Path(text).is_file():
        return content_id(Path(text).read_bytes())
    parse_id(text)
    return text if text.startswith("blake3:") else f"blake3:{text}"


def optional_store(where: str | None) -> Store | None:
    """The store that ``--store`` names or that is found (None when there is none: then :mod:`fsf.store` is not
    even imported, :mod:`fsf.locate` needs only ``os``)."""
    from fsf.locate import locate_store

    location = locate_store(where)
    if location is None:
        return None
    from fsf.store import find_store

    with user_errors():
        return find_store(location)


def _store(where: str | None) -> Store:
    from fsf.store import open_store

    with user_errors():
        return open_store(where)


# -- fsf store ------------------------------------------------------------------------------------------------


def init(folder: Annotated[Path | None, typer.Argument(
        metavar="DIR", help="Where to make it (default: `.fsf`).", show_default=False)] = None) -> None:
    """Make a store (default `./.fsf`, which every command below finds from this folder and its children).

    \b
    Example:
      fsf store init
    """
    from fsf.store import DEFAULT_FOLDER, init_store

    with user_errors():
        store = init_store(DEFAULT_FOLDER if folder is None else folder)
    echo(f"store at {store.where}")


def add(files: Annotated[list[Path], typer.Argument(metavar="SCHEMA", help="Schemas (.fsf or .fsb); - for standard "
                                                    "input.", show_default=False)],
        store: options.StoreOpt = None, root: options.RootOpt = None) -> None:
    """Record the closure of every type of each schema in the store; print each type's name and id.

    \b
    Example:
      fsf store add shapes/*.fsf
    """
    target = _store(store)

    def one(path: Path) -> None:
        schema = load_schema_arg(path, root)
        for name, ident in zip(schema.shapes, target.add_schema(schema), strict=True):
            echo(f"{name} {ident}")

    if not each(files, one):
        raise Exit(1)


def ls(store: options.StoreOpt = None) -> None:
    """List the stored types (`type  ID  Name`) and values (`value  ID  RootType`).

    \b
    Example:
      fsf store ls
    """
    target = _store(store)
    problems = []
    with user_errors():
        types = sorted(target.type_ids())
        values = sorted(target)
    names: dict[str, Callable[[str], str]] = {"type": target.type_name, "value": lambda i: target.root_of(i)[1]}
    for kind, ids in (("type", types), ("value", values)):
        for ident in ids:
            try:
                name = names[kind](ident)
            except FsfError as err:
                name = "?"
                problems.append(f"error: {ident}: {err}")
            echo(f"{kind:<6}{ident}  {name}")
    for line in problems:
        echo(line, err=True)
    if problems:
        raise Exit(1)


def show(type_id: Annotated[str, typer.Argument(metavar="TYPE_ID", help="A stored type's id.")],
         store: options.StoreOpt = None) -> None:
    """Print a stored type's closure as FSF source (`fsf check` accepts it; every id is the same).

    \b
    Example:
      fsf store show blake3:<type id>
    """
    from fsf.ir.source import to_source

    target = _store(store)
    with user_errors():
        schema = target.schema(type_id)
        name = target.type_name(type_id)
        source = to_source(schema.ir)  # first: what it refuses, nothing of it is printed
        echo(f"// {name} {schema.id(name)}, as recorded in the store\n{source}", nl=False)


def verify_store(store: options.StoreOpt = None) -> None:
    """Check every object (hash, writer schema, references); list every problem (exit 1 if any).

    \b
    Example:
      fsf store verify
    """
    target = _store(store)
    with user_errors():
        report = target.verify()
    for problem in report.problems:
        echo(f"error: {problem.key}: {problem.message} [{problem.code}]", err=True)
    for key in report.leftovers:
        echo(f"note: {key}: a temp file a killed writer left (not corruption; the next put removes it)",
                   err=True)
    summary = f"{report.values} value(s), {report.types} type(s) in {target.where}"
    if report.problems:
        echo(f"{summary}: {len(report.problems)} problem(s)", err=True)
        raise Exit(1)
    echo(f"{summary}: ok")


# -- fsv put|get|log|refs -------------------------------------------------------------------------------------


def put(files: Annotated[list[Path], typer.Argument(metavar="IN.fsv", help="FSV value files; - for standard input.",
                                                    show_default=False)],
        schema: Annotated[Path | None, typer.Option(
            "--schema", "-s", metavar="SCHEMA",
            help="The writer schema (.fsf or .fsb), recorded too (default: from the store).")] = None,
        store: options.StoreOpt = None, root: options.RootOpt = None) -> None:
    """Store values (each checked canonical and valid, its references present); print `ID  FILE`.

    \b
    Example:
      fsv put shapes/examples/audit/*.fsv
    """
    from fsf import artifacts

    target = _store(store)
    with user_errors():
        once_stdin([*files, schema])
        loaded = None if schema is None else load_schema_arg(schema, root)

    def one(path: Path) -> None:
        artifacts.require(path, ("fsv_value",), "read as an FSV value")
        echo(f"{target.put(read_input(path), loaded)}  {shown(path)}")

    if not each(files, one):
        raise Exit(1)


def get(ident: options.IdArg,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", metavar="OUT.fsv", help="Write the value here (default: stdout; - too).")] = None,
        store: options.StoreOpt = None) -> None:
    """Write a stored value's bytes (verified) to a file or standard output (never to a terminal).

    \b
    Example:
      fsv get blake3:<id> -o value.fsv
    """
    from fsf import artifacts

    target = _store(store)
    with user_errors():
        if output is not None and not is_stdio(output):
            artifacts.require(output, ("fsv_value",), "written as an FSV value")
        write_output(output, target.get(value_id(ident)), binary=True)


def log(ident: options.IdArg,
        via: Annotated[str, typer.Option("--via", metavar="PATH",
                                         help="The field path of the link to follow (`prev`, `record.prev`).")],
        store: options.StoreOpt = None) -> None:
    """Walk a chain from ID along a reference field, newest first (`ID  Type`), verifying every link.

    \b
    Example:
      fsv log audit/SignedAuditRecord.3.fsv --via record.prev
    """
    target = _store(store)
    count = 0
    with user_errors():
        for link, name in target.log(value_id(ident), via):
            echo(f"{link}  {name}")
            count += 1
    echo(f"{count} value(s) in the chain")


def refs(ident: options.IdArg, store: options.StoreOpt = None) -> None:
    """List every value reachable from ID through references (`ID  Type`), each verified.

    \b
    Example:
      fsv refs audit/SignedAuditRecord.3.fsv
    """
    target = _store(store)
    with user_errors():
        for link in target.refs(value_id(ident)):
            echo(f"{link}  {target.root_of(link)[1]}")
