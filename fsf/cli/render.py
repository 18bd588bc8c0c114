"""CLI `fsv render`: FSV value files + schema + templates -> Markdown views, and the drift check over committed views.

Thin: arguments in, :mod:`fsf.render` renders and :mod:`fsf.views.drift` finds stale views; this module prints
what they found (as text, or one JSON document with ``--format json``), (atomically) writes views and rewrites
stale ones with ``--fix``. A drift check that finds no view to check fails.
Exit 0 ok, 1 for a bad input, a stale view or nothing checked, 2 for a wrong command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import attrs

from fsf.cli.common import (
    Exit,
    Format,
    Lazy,
    Report,
    echo,
    is_stdio,
    load_schema_arg,
    max_values_of,
    nothing_checked,
    once_stdin,
    read_input,
    reported,
    usage,
    write_atomic,
    write_output,
)
from fsf.limits import CLI_MAX_VALUES

if TYPE_CHECKING:
    import typer

    from fsf.cli import options
    from fsf.schema import Schema
    from fsf.store import Store
    from fsf.views.drift import Finding
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")


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
        from fsf.render import render_markdown

        return render_markdown(self.schema, data, self.template, template_dirs=self.folders, store=self.store,
                               exact=self.exact, max_values=self.max_values)


def render(
    schemas: Annotated[list[Path], typer.Option(
        "--schema", "-s", metavar="SCHEMA", help="The schema (.fsf or .fsb); repeatable with --check-dir (each view "
                                                 "is checked with the schema that has its value's type).",
        show_default=False)],
    source: Annotated[Path | None, typer.Argument(metavar="IN.fsv", help="The FSV value to render; - for standard "
                                                                         "input.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="OUT.md", help="Write the view here (default: stdout; - too).")] = None,
    template: Annotated[Path | None, typer.Option(
        "--template", "-t", metavar="FILE", help="Render with this template instead of the lookup.")] = None,
    templates: Annotated[list[Path] | None, typer.Option(
        "--templates", metavar="DIR", help="A folder of `<TypeName>.md.j2` templates, searched before the schema's "
                                           "folder (repeatable).")] = None,
    check: Annotated[Path | None, typer.Option(
        "--check", metavar="OUT.md",
        help="Compare this committed view with a fresh render: exit 1 with a diff if it differs.")] = None,
    check_dir: Annotated[Path | None, typer.Option(
        "--check-dir", metavar="DIR",
        help="Check every view under this folder whose provenance line names a value found there (no view to "
             "check fails).")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="With --check or --check-dir: rewrite stale views.")] = False,
    root: options.RootOpt = None,
    max_values: options.MaxValuesOpt = CLI_MAX_VALUES,
    store: options.StoreOpt = None,
    exact: options.ExactOpt = False,
    output_format: options.FormatOpt = Format.text,
) -> None:
    """Render an FSV value as a Markdown view, or check committed views against their values (drift check); with
    a store, a value written with another version of its type is read through it (docs/evolution.md).

    \b
    Examples:
      fsv render -s shapes/forge-plan.fsf plan.fsv -o plan.md
      fsv render -s shapes/forge-plan.fsf --check-dir shapes/examples/forge-plan
    """
    if (source is None) == (check_dir is None):
        usage("give one value to render (IN.fsv) or --check-dir DIR, not both")
    if output is not None and (check is not None or check_dir is not None):
        usage("--output cannot be combined with --check or --check-dir")
    if fix and check is None and check_dir is None:
        usage("--fix needs --check OUT.md or --check-dir DIR")
    if len(schemas) > 1 and check_dir is None:
        usage("give one --schema to render a value (several only with --check-dir)")
    if output_format is Format.json and check is None and check_dir is None:
        usage("--format json reports a drift check: give --check OUT.md or --check-dir DIR")
    report = Report("fsv render") if output_format is Format.json else None
    with reported(report, None if len(schemas) != 1 else str(schemas[0])):
        from fsf import artifacts
        from fsf.store import find_store

        once_stdin([source, *schemas])
        if template is not None:
            artifacts.require(template, (), "a template")
        for path in (output, check):
            if path is not None and not is_stdio(path):
                artifacts.require(path, ("markdown_view",), "written as a Markdown view")
        if check is not None and is_stdio(check):
            usage("--check compares a committed view file; `-` is not one")
        found = find_store(store)
        renderers = [_Renderer(load_schema_arg(schema, root), template, (*(templates or ()), schema.parent),
                               max_values_of(max_values), found, exact) for schema in schemas]
    if check_dir is not None:
        _check_tree(renderers, check_dir, fix, report)
        return
    with reported(report, str(source)):
        assert source is not None
        if not is_stdio(source):
            artifacts.require(source, ("fsv_value",), "rendered as a view")
        text = renderers[0](read_input(source))
    if check is not None:
        from fsf.views.drift import compare_view

        if not _report(compare_view(check, text), fix, report):
            raise Exit(1)
        if report is not None:
            report.emit()
    elif output is None or is_stdio(output):
        write_output(None, text.encode("utf-8"), binary=False)
    else:
        write_atomic(output, text.encode("utf-8"))


_STATUS_CODE = {"stale": "stale", "missing": "missing", "failed": "failed"}


def _report(finding: Finding, fix: bool, report: Report | None) -> bool:
    """Print (or add to ``report``) what the drift check found about one view, rewriting a stale view with
    ``fix``. True if fine."""
    view = finding.view
    fixed = fix and finding.rendered is not None and finding.kind in ("stale", "missing")
    if fixed:
        assert finding.rendered is not None
        write_atomic(view, finding.rendered.encode("utf-8"))
    if report is not None:
        status = "fixed" if fixed else finding.kind
        fine = status in ("ok", "skipped", "fixed")
        entry = {"status": status, **({"message": finding.message} if finding.kind == "skipped" else {})}
        report.files.append({"file": str(view), "ok": fine, **entry})
        if not fine:
            found = {"code": finding.kind, "message": _problem(finding), "file": str(view)}
            if finding.kind == "stale":
                found["diff"] = finding.diff
            report.findings.append(found)
        return fine
    if finding.kind == "ok":
        echo(f"ok  {view}")
        return True
    if finding.kind == "skipped":
        echo(f"skipped  {finding.message}", err=True)
        return True
    if fixed:
        echo(f"fixed  {view}")
        return True
    if finding.kind == "stale":
        echo(finding.diff, nl=False)
    echo(f"error: {_problem(finding)}", err=True)
    return False


def _problem(finding: Finding) -> str:
    view = finding.view
    if finding.kind == "missing":
        return f"view `{view}` does not exist; run with --fix to write it"
    if finding.kind == "stale":
        return (f"view `{view}` is stale: it differs from a fresh render (diff above); run with --fix to "
                "rewrite it")
    return finding.message


def _check_tree(renderers: list[_Renderer], root: Path, fix: bool, report: Report | None) -> None:
    """Report the drift check of every view under ``root`` (see ``docs/views.md``); exit 1 if any is stale or
    failed, or if there was no view to check."""
    from fsf.fsv.header import read_header
    from fsf.views.drift import check_tree

    def render_any(data: bytes) -> str | None:
        root_id = read_header(data).root_id
        renderer = next((r for r in renderers if r.schema.name_of(root_id) is not None), None)
        return None if renderer is None else renderer(data)

    checked = stale = failed = 0
    with reported(report, str(root)):
        for finding in check_tree(root, render_any):
            fine = _report(finding, fix, report)
            checked += finding.checked
            stale += finding.checked and not fine
            failed += finding.kind == "failed"
    if report is None:
        echo(f"{checked} view(s) checked under `{root}`: {stale} stale, {failed} failed", err=True)
    if checked == 0 and not failed:
        nothing_checked(report, f"no view under `{root}` was checked (none has a provenance line naming a value "
                                "of the given schema(s)): nothing was checked", str(root))
    if report is not None:
        report.emit()
    elif stale or failed:
        raise Exit(1)
