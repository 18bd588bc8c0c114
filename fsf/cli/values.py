"""CLI `fsv encode|decode|hash|inspect|verify`: FSV value files and JSON (or `-`, standard input and output) ->
encoded values, JSON, content ids, headers, verdicts (thin: arguments in, library call, exit code 0 ok, 1 bad
input, 2 wrong command line).

The library is imported inside each command, and the store only where one can be found: `fsv verify -s X.fsb`
loads neither the parser nor the views.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

from fsf.cli.common import (
    Exit,
    Format,
    Lazy,
    Report,
    each,
    echo,
    is_stdio,
    load_schema_arg,
    max_values_of,
    nothing_checked,
    once_stdin,
    read_input,
    reported,
    shown,
    user_errors,
    write_output,
)
from fsf.errors import FsfError, StoreError, UsageError
from fsf.limits import CLI_MAX_VALUES

if TYPE_CHECKING:
    import typer

    from fsf.cli import options
    from fsf.schema import Schema
    from fsf.store import Store
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")


_PROGRESS_AT = 8
"""verify shows a progress bar on a terminal from this many files on."""


def _is_terminal(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def optional_store(where: str | None) -> Store | None:
    """:func:`fsf.cli.store.optional_store`, imported only when a store is named or found."""
    from fsf.locate import locate_store

    if locate_store(where) is None:
        return None
    from fsf.cli.store import optional_store as found

    return found(where)


def _reader(schema: Schema | None, store: Store | None, data: bytes) -> Schema:
    """The schema to read ``data`` with: the one given, else its writer schema from the store."""
    if schema is not None:
        return schema
    if store is None:
        raise UsageError("give --schema/-s SCHEMA, or keep the value's schema in a store (`fsf store init`, "
                         "then `fsf store add SCHEMA`)")
    from fsf.fsv.header import read_header
    from fsf.ir.ids import format_id

    return store.schema(format_id(read_header(data).root_id))


def _read_value_file(path: Path) -> bytes:
    from fsf import artifacts

    artifacts.require(path, ("fsv_value",), "read as an FSV value")
    return read_input(path)


def _targets(inputs: list[Path], output: Path, suffix: str) -> tuple[list[tuple[Path, Path]], bool]:
    """Where each input is written (and whether into a folder): ``-o FILE`` or ``-o -`` for one input, ``-o DIR``
    (made if missing) for any number, each as its name with ``suffix``."""
    if is_stdio(output) or (len(inputs) == 1 and not output.is_dir()):
        if len(inputs) > 1:
            raise UsageError(f"{len(inputs)} inputs need -o DIR (a folder: one file each)")
        return [(inputs[0], output)], False
    if output.exists() and not output.is_dir():
        raise UsageError(f"{len(inputs)} inputs need -o DIR (a folder: one file each); `{output}` is a file")
    if any(is_stdio(p) for p in inputs):
        raise UsageError("a value read from `-` has no name to write in a folder; give -o FILE or -o -")
    pairs = [(path, output / (path.stem + suffix)) for path in inputs]
    taken: dict[Path, Path] = {}
    for path, target in pairs:
        if target in taken:
            raise UsageError(f"`{taken[target]}` and `{path}` would both be written to `{target}`")
        taken[target] = path
    return pairs, True


def encode(
    schema: options.SchemaOpt,
    shape: options.ShapeOpt,
    output: Annotated[Path, typer.Option(
        "--output", "-o", metavar="OUT", help="Where to write: a .fsv file, - for standard output, or a folder "
        "(made if missing; for many inputs) with each as NAME.fsv.", show_default=False)],
    sources: Annotated[list[Path] | None, typer.Argument(
        metavar="IN.json", help="Values in JSON form; - (the default) for standard input.", show_default=False)]
    = None,
    all_errors: Annotated[bool, typer.Option(
        "--all-errors", help="Report every error of an invalid value, not only the first.")] = False,
    root: options.RootOpt = None,
    store: options.StoreOpt = None,
) -> None:
    """Validate JSON values, write their canonical FSV bytes atomically and print each content id (with the
    file written, into a folder); with a store, record the closure of the type there first.

    \b
    Examples:
      fsv encode -s shapes/forge-plan.fsf --shape ForgePlan plan.json -o plan.fsv
      fsv encode -s shapes/forge-plan.fsf --shape ForgePlan *.json -o values/
    """
    from fsf import artifacts

    inputs = sources or [Path("-")]
    recorder = optional_store(store)
    with user_errors():
        once_stdin([*inputs, schema])
        pairs, into_folder = _targets(inputs, output, ".fsv")
        for source, target in pairs:
            if not is_stdio(target):
                artifacts.require(target, ("fsv_value",), "written as an FSV value")
            if not is_stdio(source):
                artifacts.require(source, ("json_compat",), "the source of a value")
        loaded = load_schema_arg(schema, root)
        loaded.id_bytes(shape)

    def one(pair: tuple[Path, Path]) -> None:
        from fsf.fsv.header import content_id
        from fsf.fsv.jsonform import from_json, loads

        source, target = pair
        text = loads(read_input(source))
        value = loaded.from_json(shape, text, all_errors=True) if all_errors else from_json(loaded, shape, text)
        data = loaded.encode(shape, value)
        if recorder is not None:
            recorder.add_schema(loaded, [shape])
        if into_folder:
            target.parent.mkdir(parents=True, exist_ok=True)
        write_output(target, data, binary=True)
        echo(f"{content_id(data)}  {target}" if into_folder else content_id(data), err=is_stdio(target))

    if not each(pairs, one):
        raise Exit(1)


def decode(
    sources: options.Values,
    schema: options.ReaderOpt = None,
    shape: options.MaybeShapeOpt = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="OUT", help="Where to write the JSON: a file, - (the default) for standard output, "
        "or a folder (made if missing; for many values) with each as NAME.json.")] = None,
    root: options.RootOpt = None,
    max_values: options.MaxValuesOpt = CLI_MAX_VALUES,
    store: options.StoreOpt = None,
    exact: options.ExactOpt = False,
) -> None:
    """Print (or write) the JSON form of FSV values, after checking each is canonical and valid; a value written
    with another version of the type is read as the schema's type through the store (a note on stderr).

    \b
    Examples:
      fsv decode -s shapes/forge-plan.fsf plan.fsv
      fsv decode -s shapes/forge-plan.fsf values/*.fsv -o json/
    """
    from fsf import artifacts

    found = optional_store(store)
    with user_errors():
        once_stdin([*sources, schema])
        pairs, _ = _targets(sources, Path("-") if output is None else output, ".json")
        for source, target in pairs:
            if not is_stdio(target):
                artifacts.require(target, ("json_compat",), "written as JSON")
            if not is_stdio(source):
                artifacts.require(source, ("fsv_value",), "read as an FSV value")
        given = None if schema is None else load_schema_arg(schema, root)

    def one(pair: tuple[Path, Path]) -> None:
        from fsf.fsv.jsonform import dumps, to_json

        source, target = pair
        data = read_input(source)
        loaded = _reader(given, found, data)
        got = loaded.read(data, shape, max_values=max_values_of(max_values), store=found, exact=exact)
        if got.resolved:
            echo(f"note: {shown(source)}: written as {got.writer_id}, read as `{got.name}` "
                       f"{loaded.id(got.name)}", err=True)
        text = dumps(to_json(loaded, got.name, got.value))
        if is_stdio(target):
            echo(text, nl=False)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_output(target, text.encode("utf-8"), binary=False)

    if not each(pairs, one):
        raise Exit(1)


def hash_(files: options.Values) -> None:
    """Print the content id of each FSV value (`blake3:<hex>  PATH`); no schema needed.

    \b
    Example:
      fsv hash shapes/examples/audit/*.fsv
    """
    from fsf.fsv.header import content_id, read_header

    with user_errors():
        once_stdin(files)

    def one(path: Path) -> None:
        data = _read_value_file(path)
        read_header(data)
        echo(f"{content_id(data)}  {shown(path)}")

    if not each(files, one):
        raise Exit(1)


def inspect(
    source: options.ValueArg,
    schema: Annotated[Path | None, typer.Option(
        "--schema", "-s", metavar="SCHEMA", help="Also name the root type from this schema.")] = None,
    root: options.RootOpt = None,
    store: options.StoreOpt = None,
) -> None:
    """Print the header of an FSV value (format version, root type id, sizes) without reading the payload; the
    root type's name too when the schema is given or in the store.

    \b
    Example:
      fsv inspect plan.fsv
    """
    from fsf.fsv.header import HEADER_SIZE, content_id, read_header
    from fsf.ir.ids import format_id

    found = optional_store(store) if schema is None else None
    with user_errors():
        once_stdin([source, schema])
        data = _read_value_file(source)
        header = read_header(data)
        lines = [
            ("format version", str(header.version)),
            ("root type id", format_id(header.root_id)),
        ]
        if schema is not None:
            lines.append(("root type", load_schema_arg(schema, root).name_of(header.root_id)
                          or "(not a type of this schema)"))
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
            echo(f"{key + ':':<16}{text}")


def verify(files: Annotated[list[Path] | None, typer.Argument(
               metavar="IN.fsv", help="FSV value files (.fsv); - for standard input. With --append-only-since: the "
                                      "folders or files to compare.", show_default=False)] = None,
           schema: options.ReaderOpt = None, shape: options.MaybeShapeOpt = None, root: options.RootOpt = None,
           max_values: options.MaxValuesOpt = CLI_MAX_VALUES,
           expect: Annotated[str | None, typer.Option(
               "--expect", metavar="ID", help="The content id the (one) file must have.")] = None,
           store: options.StoreOpt = None, exact: options.ExactOpt = False,
           append_only_since: Annotated[str | None, typer.Option(
               "--append-only-since", metavar="REV",
               help="Instead: fail if any .fsv file under the PATHs (folders or files) at git revision REV was "
                    "changed or removed since (docs/git.md).")] = None,
           output_format: options.FormatOpt = Format.text) -> None:
    """Exit 0 only if every file is a canonical, valid FSV value (of the schema, else of its writer schema from
    the store), a file named `<64 hex>.fsv` hashes to its name, and, with a store, every reference in it names
    a stored value of its type, through the whole graph (a progress bar on a terminal). With
    `--append-only-since REV PATH...`, only that every committed value under the PATHs is unchanged. No file
    at all fails: a check that checks nothing is not a pass.

    \b
    Examples:
      fsv verify -s shapes/forge-plan.fsf plan.fsv
      fsv verify --format json values/*.fsv
    """
    report = Report("fsv verify") if output_format is Format.json else None
    paths = files or []
    if append_only_since is not None:
        from fsf.cli.merge import verify_append_only

        verify_append_only(append_only_since, paths, report)
        return
    if not paths:
        nothing_checked(report, "no files to verify: nothing was checked")
    found = optional_store(store)
    with reported(report, None if schema is None else shown(schema)):
        if expect is not None:
            if len(paths) != 1:
                raise UsageError("--expect checks one file; give exactly one")
            from fsf.cli.store import value_id

            expect = value_id(expect)
        once_stdin([*paths, schema])
        from fsf import artifacts

        for path in paths:
            artifacts.require(path, ("fsv_value",), "read as an FSV value")
        loaded = None if schema is None else load_schema_arg(schema, root)
        if loaded is not None and shape is not None:
            loaded.id_bytes(shape)
        if loaded is None and found is None:
            _reader(None, None, b"")
    bar = report is None and _is_terminal(sys.stderr) and len(paths) >= _PROGRESS_AT
    failures = []
    check = _Check(loaded, found, shape, max_values_of(max_values), expect, exact)
    for path, problem, cid in _verify_all(check, paths, bar):
        name = shown(path)
        if report is not None:
            if problem is None:
                report.add(name, content_id=cid)
            else:
                report.add(name, problem)
        elif problem:
            failures.append(f"error: {name}: {_message(problem)}")
        elif not bar:
            echo(f"ok  {cid}  {name}")
    if report is not None:
        report.emit()
        return
    for line in failures:  # after the progress bar is gone
        echo(line, err=True)
    if failures:
        echo(f"{len(failures)} of {len(paths)} file(s) failed verification", err=True)
        raise Exit(1)


def _message(err: Exception) -> str:
    if isinstance(err, OSError):
        return f"cannot read: {(err.strerror or str(err)).lower()}"
    return str(err)


class _Check(NamedTuple):
    """What verify checks each file against (a named tuple: see :class:`fsf.cli.common.Report`)."""

    schema: Schema | None
    store: Store | None
    shape: str | None
    max_values: int | None
    expect: str | None
    exact: bool

    def __call__(self, path: Path) -> str:
        """The content id of the file at ``path``, or raise the first problem found."""
        from fsf.fsv.header import content_id

        data = _read_value_file(path)
        cid = content_id(data)
        named = path.stem if _is_hex_name(path.stem) else None
        if named is not None and cid != f"blake3:{named}":
            raise StoreError("integrity", f"the file is named by content id blake3:{named} but hashes to {cid}")
        if self.expect is not None and cid != self.expect:
            raise StoreError("integrity", f"hashes to {cid}, expected {self.expect}")
        reader = _reader(self.schema, self.store, data)
        reader.verify(data, self.shape, max_values=self.max_values, store=self.store, exact=self.exact)
        return cid


def _is_hex_name(stem: str) -> bool:
    """Whether a file is named by a content id (64 lowercase hex digits; no regex to compile at start-up)."""
    return len(stem) == 64 and not stem.strip("0123456789abcdef")


def _verify_all(check: _Check, files: list[Path], bar: bool) -> Iterator[tuple[Path, Exception | None, str]]:
    """Each file with its problem (None when it verifies) and its content id."""

    def run(paths: Iterable[Path]) -> Iterator[tuple[Path, Exception | None, str]]:
        for path in paths:
            try:
                cid = check(path)
            except (OSError, FsfError) as err:
                yield path, err, ""
            else:
                yield path, None, cid

    if not bar:
        yield from run(files)
        return
    progress: Any = typer.progressbar(files, label="verifying", file=sys.stderr)
    with progress as paths:
        yield from run(paths)
