"""CLI `fsv render`: FSV value files + schema + templates -> Markdown views, and the drift check over committed views.

Thin: arguments in, :mod:`fsf.render` renders and :mod:`fsf.views.drift` finds stale views; this module prints
what they found, (atomically) writes views and rewrites stale ones with ``--fix``.
Exit 0 ok, 1 for a bad input or a stale view, 2 for a wrong command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import attrs
import typer

from fsf import artifacts
from fsf.api import load_schema
from fsf.cli.common import ExactOpt, RootOpt, StoreOpt, user_errors
from fsf.fsv.header import read_header
from fsf.limits import CLI_MAX_VALUES
from fsf.load import write_atomic
from fsf.render import render_markdown
from fsf.schema import Schema
from fsf.store import Store, find_store
from fsf.views.drift import Finding, check_tree, compare_view

MaxValuesOpt = Annotated[int, typer.Option(
    "--max-values", min=0, metavar="N",
    help="The decode budget: refuse a value of more than N msgpack values (code `budget`; 0: no limit).")]


def max_values_of(option: int) -> int | None:
    """The library's ``max_values`` for the ``--max-values`` option (0: no limit)."""
    return option or None



def _usage(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@attrs.frozen
class _Renderer:
    """How to render: the schema, an explicit template (or None) and the folders the lookup searches."""

    schema: Schema
    template: Path | None
    folders: tuple[Path, ...]
    max_values: int | None = None
    store: Store | None = None
    exact: bool = False

    def __call__(self, data: bytes) -> str:
        return render_markdown(self.schema, data, self.template, template_dirs=self.folders, store=self.store,
                               exact=self.exact, max_values=self.max_values)


def render(
    schemas: Annotated[list[Path], typer.Option(
        "--schema", "-s", help="The schema (.fsf or .fsb); repeatable with --check-dir (each view is checked with "
                               "the schema that has its value's type).", show_default=False)],
    source: Annotated[Path | None, typer.Argument(metavar="[IN.fsv]", help="The FSV value to render.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the view here (default: stdout).")]
    = None,
    template: Annotated[Path | None, typer.Option("--template", "-t",
                                                  help="Render with this template instead of the lookup.")] = None,
    templates: Annotated[list[Path] | None, typer.Option(
        "--templates", help="A folder of `<TypeName>.md.j2` templates, searched before the schema's folder "
                            "(repeatable).")] = None,
    check: Annotated[Path | None, typer.Option(
        "--check", help="Compare this committed view with a fresh render: exit 1 with a diff if it differs.")]
    = None,
    check_dir: Annotated[Path | None, typer.Option(
        "--check-dir", help="Check every view under this folder whose provenance line names a value found there.")]
    = None,
    fix: Annotated[bool, typer.Option("--fix", help="With --check or --check-dir: rewrite stale views.")] = False,
    root: RootOpt = None,
    max_values: MaxValuesOpt = CLI_MAX_VALUES,
    store: StoreOpt = None,
    exact: ExactOpt = False,
) -> None:
    """Render an FSV value as a Markdown view, or check committed views against their values (drift check); with
    a store, a value written with another version of its type is read through it (docs/evolution.md)."""
    if (source is None) == (check_dir is None):
        raise _usage("give one value to render (IN.fsv) or --check-dir DIR, not both")
    if output is not None and (check is not None or check_dir is not None):
        raise _usage("--output cannot be combined with --check or --check-dir")
    if fix and check is None and check_dir is None:
        raise _usage("--fix needs --check OUT.md or --check-dir DIR")
    if len(schemas) > 1 and check_dir is None:
        raise _usage("give one --schema to render a value (several only with --check-dir)")
    with user_errors():
        for schema in schemas:
            artifacts.require(schema, ("fsf_schema", "compiled_schema"), "a schema")
        if template is not None:
            artifacts.require(template, (), "a template")
        for path in (output, check):
            if path is not None:
                artifacts.require(path, ("markdown_view",), "written as a Markdown view")
        found = find_store(store)
        renderers = [_Renderer(load_schema(schema, root=root), template, (*(templates or ()), schema.parent),
                               max_values_of(max_values), found, exact) for schema in schemas]
        if check_dir is not None:
            _check_tree(renderers, check_dir, fix)
            return
        renderer = renderers[0]
        assert source is not None
        artifacts.require(source, ("fsv_value",), "rendered as a view")
        text = renderer(source.read_bytes())
        if check is not None:
            if not _report(compare_view(check, text), fix):
                raise typer.Exit(1)
        elif output is not None:
            write_atomic(output, text.encode("utf-8"))
        else:
            typer.echo(text, nl=False)


def _report(finding: Finding, fix: bool) -> bool:
    """Print what the drift check found about one view, rewriting a stale view with ``fix``. True if fine."""
    view = finding.view
    if finding.kind == "ok":
        typer.echo(f"ok  {view}")
        return True
    if finding.kind == "skipped":
        typer.echo(f"skipped  {finding.message}", err=True)
        return True
    if finding.kind == "failed":
        typer.echo(f"error: {finding.message}", err=True)
        return False
    if fix and finding.rendered is not None:
        write_atomic(view, finding.rendered.encode("utf-8"))
        typer.echo(f"fixed  {view}")
        return True
    if finding.kind == "missing":
        typer.echo(f"error: view `{view}` does not exist; run with --fix to write it", err=True)
        return False
    typer.echo(finding.diff, nl=False)
    typer.echo(f"error: view `{view}` is stale: it differs from a fresh render (diff above); "
               "run with --fix to rewrite it", err=True)
    return False


def _check_tree(renderers: list[_Renderer], root: Path, fix: bool) -> None:
    """Report the drift check of every view under ``root`` (see ``docs/views.md``); exit 1 if any is stale or
    failed."""

    def render_any(data: bytes) -> str | None:
        root_id = read_header(data).root_id
        renderer = next((r for r in renderers if r.schema.name_of(root_id) is not None), None)
        return None if renderer is None else renderer(data)

    checked = stale = failed = 0
    for finding in check_tree(root, render_any):
        fine = _report(finding, fix)
        checked += finding.checked
        stale += finding.checked and not fine
        failed += finding.kind == "failed"
    typer.echo(f"{checked} view(s) checked under `{root}`: {stale} stale, {failed} failed", err=True)
    if stale or failed:
        raise typer.Exit(1)
