"""CLI: `fsf store import-history SCHEMA... [--rev RANGE]`: the versions of schemas in git history -> their type
closures in the store, one line per commit (thin: :mod:`fsf.gitrev` walks and loads, :mod:`fsf.store` records)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fsf import artifacts, gitrev
from fsf.cli.common import (
    Lazy,
    echo,
    user_errors,
)
from fsf.errors import SchemaError
from fsf.store import open_store

if TYPE_CHECKING:
    import typer

    from fsf.cli import options
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")


def _line(text: str) -> str:
    """Text from the repository (a commit subject) on one printable line."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def import_history(files: Annotated[list[Path], typer.Argument(
                       metavar="SCHEMA", help="Schema files (.fsf) of a git working tree; they need not exist "
                       "there now.", show_default=False)],
                   rev: options.RevOpt = None, store: options.StoreOpt = None, root: options.RootOpt = None) -> None:
    """Record the types of every version of each schema in git history that checks (its imports read at the
    same commit): each commit that changed it or a .fsf file in its root folder, oldest first.

    \b
    Example:
      fsf store import-history shapes/forge-plan.fsf --rev v1..
    """
    with user_errors():
        target = open_store(store)
        for path in files:
            artifacts.require(path, ("fsf_schema",), "a schema source read from git history")
        # Every repository, root and range is checked before anything is recorded.
        walks = [(path, gitrev.versions(path, rev, root=root)) for path in files]
        known = set(target.type_ids())
    revisions = added = failed = 0
    for path, walk in walks:
        if len(walks) > 1:
            echo(f"{path}:")
        with user_errors():
            for version in walk:
                revisions += 1
                short = version.sha[:gitrev.SHORT]
                problem = version.problem
                if version.schema is not None:
                    ids = set(target.add_schema(version.schema))
                    added += len(ids - known)
                    echo(f"added {len(ids - known)} type(s) at {short} {_line(version.subject)}")
                    known |= ids
                elif isinstance(problem, gitrev.GitError) and problem.code == "no_such_path":
                    echo(f"{short}: {path} not present")
                elif isinstance(problem, SchemaError):
                    failed += 1
                    first = problem.diagnostics[0].render().splitlines()[0] if problem.diagnostics else "?"
                    echo(f"{short}: does not check: {first}")
                else:
                    failed += 1
                    echo(f"{short}: does not check: {problem}")
    echo(f"{revisions} revision(s), {added} type(s) added, {failed} did not check")
