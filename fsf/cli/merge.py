"""CLI `fsv merge` and `fsv verify --append-only-since`: three FSV value files -> the merged value (git's merge
driver), and committed values -> whether any changed since a revision.

Thin: arguments in, the values read through the schema (``-s``) or the store, :func:`fsf.merge.merge` decides,
the canonical bytes written atomically or the conflict report on stderr; :mod:`fsf.gitrev` lists and reads the
files at a revision. Exit 0 ok, 1 for a conflict, a changed value or a bad input, 2 for a wrong command line.
``docs/git.md``, "Merging".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fsf.cli.common import (
    Exit,
    Lazy,
    Report,
    echo,
    is_stdio,
    load_schema_arg,
    nothing_checked,
    reported,
    user_errors,
    write_output,
)
from fsf.errors import UsageError

if TYPE_CHECKING:
    import typer

    from fsf import gitrev
    from fsf.cli import options
    from fsf.schema import Schema
    from fsf.store import Store
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")


def _err(text: str) -> None:
    """Write UTF-8 to stderr whatever the locale (a report quotes values)."""
    echo(text.encode("utf-8", "backslashreplace"), err=True, nl=False)


def _read(path: Path) -> bytes:
    from fsf import artifacts

    artifacts.require(path, ("fsv_value",), "merged as an FSV value")
    return path.read_bytes()


def _reader(given: Schema | None, store: Store | None, ours: bytes) -> tuple[Schema, str]:
    """The schema and root type every side is read as: the type OURS reads as in the schema given, else OURS's
    writer type from the store."""
    if given is not None:
        return given, given.read(ours, store=store).name
    if store is None:
        raise UsageError("give --schema/-s SCHEMA, or keep the values' schemas in a store (`fsf store init`, "
                         "then `fsf store add SCHEMA`)")
    from fsf.fsv.header import read_header
    from fsf.ir.ids import format_id

    root_id = read_header(ours).root_id
    writer = store.schema(format_id(root_id))
    name = writer.name_of(root_id)
    assert name is not None  # a stored closure holds its root type
    return writer, name


def _value(schema: Schema, name: str, store: Store | None, path: Path, data: bytes) -> Any:
    got = schema.read(data, name, store=store)
    if got.resolved:
        _err(f"note: {path}: written as {got.writer_id}, read as `{name}` {schema.id(name)}\n")
    return got.value


def merge(
    base: Annotated[Path, typer.Argument(
        metavar="BASE", help="The common ancestor (git's %O); an empty file: none (both sides added the value).",
        show_default=False)],
    ours: Annotated[Path, typer.Argument(
        metavar="OURS", help="Our version (git's %A): replaced by the merged value unless -o is given.",
        show_default=False)],
    theirs: Annotated[Path, typer.Argument(metavar="THEIRS", help="Their version (git's %B).", show_default=False)],
    schema: Annotated[Path | None, typer.Option(
        "--schema", "-s", metavar="SCHEMA",
        help="The schema (.fsf or .fsb); default: OURS's writer schema from the store.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="OUT.fsv", help="Write the merged value here (default: replace OURS; - for "
                                                  "standard output).", show_default=False)] = None,
    append_only: Annotated[bool, typer.Option(
        "--append-only", help="Only additions merge: any change or removal of an existing value is a conflict.")]
    = False,
    root: options.RootOpt = None,
    store: options.StoreOpt = None,
) -> None:
    """Three-way merge of FSV values field by field (git's merge driver: `fsv merge %O %A %B`): items with an `id`
    matched by id, maps by key; write the canonical merged value (atomically) and exit 0, or report every
    conflicting path with the three versions on stderr, leave OURS untouched and exit 1.

    \b
    Example:
      fsv merge base.fsv ours.fsv theirs.fsv -o merged.fsv
    """
    from fsf import artifacts
    from fsf.cli.store import optional_store
    from fsf.fsv.header import content_id
    from fsf.merge import Conflicts, report
    from fsf.merge import merge as merge_values

    found = optional_store(store)
    with user_errors():
        if output is not None and not is_stdio(output):
            artifacts.require(output, ("fsv_value",), "written as an FSV value")
        given = None if schema is None else load_schema_arg(schema, root)
        sides = [_read(path) for path in (base, ours, theirs)]
        reader, name = _reader(given, found, sides[1])
        values = [None if i == 0 and not data else _value(reader, name, found, path, data)
                  for i, (path, data) in enumerate(zip((base, ours, theirs), sides, strict=True))]
        got = merge_values(reader.ir, name, *values, append_only=append_only, program=reader.program)
        if isinstance(got, Conflicts):
            lines = report(reader.ir, got)
            _err("".join(f"{line}\n" for line in lines))
            _err(f"error: {ours}: {len(got)} conflict(s) merging `{name}`; it is left as it was\n")
            raise Exit(1)
        data = reader.encode(name, got.value)
        target = output if output is not None else ours
        write_output(target, data, binary=True)
    echo(f"{content_id(data)}  {target}", err=is_stdio(target))


def verify_append_only(rev: str, paths: list[Path], json_report: Report | None = None) -> None:
    """`fsv verify --append-only-since REV PATH...`: exit 1 if any `.fsv` file under a PATH (a folder or a file)
    at commit REV is not in the working tree byte for byte as it was then (changed or removed); new files are
    fine (a PATH with no value committed at REV passes: everything there is new), and no PATH at all fails.
    Each problem on stderr, then a summary (or one JSON document, ``json_report``)."""
    from fsf import gitrev

    problems: list[str] = []
    checked = 0
    if not paths:
        nothing_checked(json_report, "--append-only-since needs the folders or files to compare: nothing was "
                                     "checked")
    with reported(json_report):
        for path in paths:
            files = gitrev.files_at(path, rev, suffix=".fsv")
            since = f"since {rev} ({files.sha[:gitrev.SHORT]})"
            for rel in files.paths:
                checked += 1
                problem = _changed(files, rel)
                if json_report is not None:
                    json_report.files.append({"file": rel, "ok": problem is None, "status": problem or "unchanged"})
                    if problem is not None:
                        json_report.findings.append({"code": problem, "file": rel, "message": f"{problem} {since}: "
                                                     "committed values are append-only"})
                elif problem is not None:
                    problems.append(f"error: {rel}: {problem} {since}: committed values are append-only")
    if json_report is not None:
        json_report.emit()
        return
    for line in problems:
        _err(line + "\n")
    if problems:
        _err(f"{len(problems)} of {checked} committed value(s) changed or removed\n")
        raise Exit(1)
    echo(f"ok  {checked} committed value(s) unchanged since {rev}")


def _changed(files: gitrev.Files, rel: str) -> str | None:
    """How the working tree's file differs from the commit's (None: the same bytes)."""
    from fsf import gitrev

    here = files.top / rel
    if not here.is_file():
        return "removed"
    now = here.read_bytes()
    try:  # a commit's blob larger than the file cannot be equal to it: do not read more than that
        then = gitrev.read_at(files.top, files.sha, rel, limit=len(now))
    except gitrev.GitError as err:
        if err.code == "too_large":
            return "changed"
        raise
    return None if then == now else "changed"
