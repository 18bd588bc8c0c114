"""CLI `fsv render`: FSV value files + schema + templates -> Markdown views, and the drift check over committed views.

Thin: arguments in, :mod:`fsf.views` does the rendering; this module only reads and (atomically) writes files.
Exit 0 ok, 1 for a bad input or a stale view, 2 for a wrong command line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import attrs
import typer

from fsf import artifacts
from fsf.api import load_schema
from fsf.cli.common import RootOpt, user_errors
from fsf.errors import FsfError
from fsf.fsv.header import content_id, read_header
from fsf.limits import CLI_MAX_VALUES
from fsf.load import write_atomic
from fsf.schema import Schema
from fsf.views import diff_views, read_provenance, render_markdown

VIEW_SUFFIX = ".md"
VALUE_SUFFIX = ".fsv"

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

    def __call__(self, data: bytes) -> str:
        if self.max_values is not None:  # the budget first, counted as decode counts it, before anything is built
            self.schema.verify(data, max_values=self.max_values)
        return render_markdown(self.schema, data, self.template, template_dirs=self.folders)


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
) -> None:
    """Render an FSV value as a Markdown view, or check committed views against their values (drift check)."""
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
        renderers = [_Renderer(load_schema(schema, root=root), template, (*(templates or ()), schema.parent),
                               max_values_of(max_values)) for schema in schemas]
        if check_dir is not None:
            _check_tree(renderers, check_dir, fix)
            return
        renderer = renderers[0]
        assert source is not None
        artifacts.require(source, ("fsv_value",), "rendered as a view")
        text = renderer(source.read_bytes())
        if check is not None:
            if not _check_one(check, text, fix):
                raise typer.Exit(1)
        elif output is not None:
            write_atomic(output, text.encode("utf-8"))
        else:
            typer.echo(text, nl=False)


def _check_one(view: Path, rendered: str, fix: bool) -> bool:
    """Compare one committed view with its fresh render; print the diff; rewrite it with ``fix``. True if fine."""
    try:
        committed = view.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        committed = None
    if committed == rendered:
        typer.echo(f"ok  {view}")
        return True
    if fix:
        write_atomic(view, rendered.encode("utf-8"))
        typer.echo(f"fixed  {view}")
        return True
    if committed is None:
        typer.echo(f"error: view `{view}` does not exist; run with --fix to write it", err=True)
        return False
    typer.echo(diff_views(committed, rendered, str(view)), nl=False)
    typer.echo(f"error: view `{view}` is stale: it differs from a fresh render (diff above); "
               "run with --fix to rewrite it", err=True)
    return False


def _check_tree(renderers: list[_Renderer], root: Path, fix: bool) -> None:
    """Check every view under ``root`` whose first line is a provenance comment (see ``docs/views.md``)."""
    if not root.is_dir():
        raise FsfError(f"`{root}` is not a folder")
    values: dict[str, Path] = {}
    views: list[Path] = []
    for path in _walk(root):
        if path.suffix == VALUE_SUFFIX:
            values.setdefault(content_id(path.read_bytes()), path)
        elif path.suffix == VIEW_SUFFIX:
            views.append(path)
    checked = stale = failed = 0
    for view in views:
        try:
            with open(view, "rb") as fh:
                first = fh.readline().decode("utf-8", errors="replace")
        except OSError as err:
            typer.echo(f"error: cannot read `{view}`: {(err.strerror or str(err)).lower()}", err=True)
            failed += 1
            continue
        origin = read_provenance(first)
        if origin is None:
            continue  # not a generated view
        value = values.get(origin.value) or _sibling_value(view)
        if value is None:
            typer.echo(f"error: view `{view}` names value {origin.value}, which no `.fsv` under `{root}` has "
                       f"(and there is no `{view.with_suffix(VALUE_SUFFIX).name}` next to it)", err=True)
            failed += 1
            continue
        data = value.read_bytes()
        try:
            root_id = read_header(data).root_id
            renderer = next((r for r in renderers if r.schema.name_of(root_id) is not None), None)
            if renderer is None:
                typer.echo(f"skipped  {view}: its value `{value}` is not of a type of the given schema(s)",
                           err=True)
                continue
            rendered = renderer(data)
        except FsfError as err:
            typer.echo(f"error: view `{view}` (value `{value}`): {err}", err=True)
            failed += 1
            continue
        checked += 1
        if not _check_one(view, rendered, fix):
            stale += 1
    typer.echo(f"{checked} view(s) checked under `{root}`: {stale} stale, {failed} failed", err=True)
    if stale or failed:
        raise typer.Exit(1)


def _sibling_value(view: Path) -> Path | None:
    """The value with the view's stem next to it (``plan.md`` -> ``plan.fsv``): a value edited since rendering."""
    candidate = view.with_suffix(VALUE_SUFFIX)
    return candidate if candidate.is_file() else None


def _walk(root: Path) -> Iterator[Path]:
    """Every file under ``root`` in sorted order (hidden folders skipped), so reports are deterministic."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            yield Path(folder) / name
