"""CLI `fsv show`: FSV value files -> their stable text form (:mod:`fsf.views.show`), also git's textconv.

Thin: arguments in, the writer schema from ``-s`` or the store, :func:`fsf.views.show.show` out. A value whose
schema is nowhere to be found is shown by its header (exit 0). With ``--textconv`` (what ``fsv git install``
writes) every problem is a ``#`` line and the exit code is 0, so ``git diff`` never breaks on a file; without
it, a file that cannot be shown is an error (exit 1; 2 for a wrong command line). ``docs/git.md``.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import attrs

from fsf.cli.common import (
    Exit,
    Lazy,
    echo,
    is_stdio,
    load_schema_arg,
    max_values_of,
    once_stdin,
    read_input,
    shown,
    user_errors,
)
from fsf.errors import DecodeError, FsfError, UsageError
from fsf.limits import CLI_MAX_VALUES

if TYPE_CHECKING:
    import typer

    from fsf.cli import options
    from fsf.schema import Schema
    from fsf.store import Store
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")


class _NotAValue(Exception):
    """The file's first bytes are not an FSV header; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _comment(text: str) -> str:
    """``text`` as ``#`` lines, controls shown (a message may quote a file name or a value)."""
    from fsf.views.escape import show_invisible

    return "".join(f"# {line}\n" for line in show_invisible(text).splitlines())


@attrs.frozen
class _Show:
    """How to show a file: the reader schema (or None: the writer's from the store), the store, the budget."""

    schema: Schema | None
    store: Store | None
    max_values: int | None
    textconv: bool

    def __call__(self, path: Path) -> str:
        """The text form of the file at ``path``; raises for what cannot be shown (with ``textconv``, only when
        the file cannot be read or is not FSV at all)."""
        from fsf.fsv.header import content_id, read_header
        from fsf.ir.ids import format_id

        if not self.textconv and not is_stdio(path):
            from fsf import artifacts

            artifacts.require(path, ("fsv_value",), "shown as an FSV value")
        data = read_input(path)
        try:
            header = read_header(data)
        except DecodeError as err:
            raise _NotAValue(str(err).removeprefix("not an FSV value: ")) from None
        type_id, cid = format_id(header.root_id), content_id(data)
        try:
            return self._shown(data, header.root_id, type_id, cid, header.payload_size)
        except FsfError as err:
            if not self.textconv:
                raise
            return f"# ? {type_id}\n# {cid}\n" + _comment(f"cannot show: {err}")

    def _shown(self, data: bytes, root_id: bytes, type_id: str, cid: str, payload_size: int) -> str:
        from fsf.views.show import show as show_text
        from fsf.views.show import show_unknown

        store, given = self.store, self.schema
        known = store is not None and store.has_schema(type_id)
        if given is not None and (known or given.name_of(root_id) is not None):
            reader = given
            got = given.read(data, max_values=self.max_values, store=store)
        elif given is None and known:
            assert store is not None
            reader = store.schema(type_id)
            got = reader.read(data, max_values=self.max_values)
        else:
            return show_unknown(type_id=type_id, content_id=cid, payload_size=payload_size)
        return show_text(reader.ir, got.name, got.value, type_id=reader.id(got.name), content_id=cid,
                         written_as=got.writer_id if got.resolved else None)


def show(
    files: Annotated[list[Path], typer.Argument(metavar="IN.fsv", help="FSV value files; - for standard input.",
                                                show_default=False)],
    schema: Annotated[Path | None, typer.Option(
        "--schema", "-s", metavar="SCHEMA", help="The reader schema (.fsf or .fsb); default: the value's writer schema from the "
                               "store.", show_default=False)] = None,
    root: options.RootOpt = None,
    store: options.StoreOpt = None,
    max_values: options.MaxValuesOpt = CLI_MAX_VALUES,
    textconv: Annotated[bool, typer.Option(
        "--textconv", help="Never fail: show every problem as a `#` line and exit 0 (git's textconv; "
                           "`fsv git install` writes it).")] = False,
) -> None:
    """Print FSV values as stable text made for diffs: a `#` header (type, type id, content id), then one field per
    line in schema order (docs/git.md); a value whose schema is missing is shown by its header.

    \b
    Example:
      fsv show plan.fsv
    """
    from fsf.store import find_store
    from fsf.views.escape import show_invisible

    problem = None
    try:
        with nullcontext() if textconv else user_errors():
            once_stdin([*files, schema])
            given = None if schema is None else load_schema_arg(schema, root)
            shower = _Show(given, find_store(store), max_values_of(max_values), textconv)
    except (FsfError, OSError) as err:  # only with --textconv: user_errors exits otherwise
        problem = _comment(f"cannot show: {err}")
    failed = False
    for index, path in enumerate(files):
        if len(files) > 1:
            _out(("\n" if index else "") + f"==> {show_invisible(shown(path))} <==\n")
        if problem is not None:
            _out(problem)
            continue
        try:
            _out(shower(path))
        except UsageError as err:
            echo(f"error: {err}", err=True)
            raise Exit(2) from None
        except (_NotAValue, FsfError, OSError) as err:
            message = _message(err)
            if textconv:
                _out(_comment(message))
            else:
                echo(f"error: {shown(path)}: {message}", err=True)
                failed = True
    if failed:
        raise Exit(1)


def _message(err: Exception) -> str:
    if isinstance(err, _NotAValue):
        return f"not an FSV value: {err.reason}"
    if isinstance(err, OSError):
        return f"cannot read: {(err.strerror or str(err)).lower()}"
    return str(err)


def _out(text: str) -> None:
    """Write UTF-8 whatever the locale (git reads bytes; a value's text must never fail to print)."""
    echo(text.encode("utf-8", "backslashreplace"), nl=False)
