"""CLI `fsf check|compile|disasm|fmt|codegen`: schema files (or `-`, standard input) -> verdicts, compiled
containers, listings, the canonical layout, generated code (thin: arguments in, library call, exit 0/1/2).

The library is imported inside each command: `fsf check` of a `.fsb` never loads the parser.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fsf.cli.common import (
    BadParameter,
    Exit,
    Format,
    Lazy,
    Report,
    each,
    echo,
    error_text,
    is_stdio,
    load_schema_arg,
    once_stdin,
    read_source_arg,
    shown,
    use_color,
    user_errors,
    write_output,
)
from fsf.errors import FsfError, SchemaError, UsageError

if TYPE_CHECKING:
    import typer

    from fsf.cli import options
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")


def check(files: options.Files, root: options.RootOpt = None, output_format: options.FormatOpt = Format.text) -> None:
    """Check schema files and report every error at once (exit 1 if any); an error in a file that several of
    them import is reported once.

    \b
    Examples:
      fsf check shapes/*.fsf
      fsf check --format json shapes/*.fsf
    """
    with user_errors():
        once_stdin(files)
        _require_inside(files, root)
    report = Report("fsf check")
    seen: set[str] = set()
    failed = False
    for path in files:
        try:
            load_schema_arg(path, root)
        except UsageError as err:
            echo(f"error: {err}", err=True)
            raise Exit(2) from None
        except (FsfError, OSError) as err:
            failed = True
            problems = _new(err, seen)
            report.add(shown(path), *problems, ok=False)
            if output_format is Format.text and problems:
                echo(_text(err, problems), err=True)
        else:
            report.add(shown(path))
    if output_format is Format.json:
        report.emit()
    elif failed:
        raise Exit(1)


def _new(err: Exception, seen: set[str]) -> list[BaseException]:
    """The diagnostics of ``err`` not reported yet in this run (a file named on the command line and imported
    by another gives the same diagnostics twice); other errors are always new."""
    if not isinstance(err, SchemaError):
        return [err]
    fresh = []
    for d in err.diagnostics:
        key = d.render()
        if key not in seen:
            seen.add(key)
            fresh.append(d)
    return [SchemaError(fresh)] if fresh else []


def _text(err: Exception, problems: list[BaseException]) -> str:
    return "\n\n".join(d.render(use_color()) for p in problems if isinstance(p, SchemaError)
                       for d in p.diagnostics) or error_text(err)


def compile_(
    files: options.Files,
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="OUT.fsb", help="The .fsb to write (one input only); - for standard output.")]
    = None,
    root: options.RootOpt = None,
    store: options.StoreOpt = None,
) -> None:
    """Compile schema files to .fsb containers (default: next to each input) and print each type's id (on
    stderr when the container goes to stdout); with a store, record every type's closure in it.

    \b
    Example:
      fsf compile shapes/forge-plan.fsf
    """
    from fsf.cli.store import optional_store

    if output is not None and len(files) > 1:
        raise BadParameter("-o/--output takes one input file", "'-o'")
    with user_errors():
        once_stdin(files)
        if any(is_stdio(p) for p in files) and output is None:
            raise UsageError("a schema read from `-` has no file to compile next to; give -o OUT.fsb (or -o -)")
        _require_inside(files, root)
    recorder = optional_store(store)

    def one(path: Path) -> None:
        from fsf.bytecode.container import dump_container

        if path.suffix == ".fsb":  # a bad input among others (exit 1), as write_compiled says
            raise FsfError(f"`{path}` is already compiled; give the .fsf source")
        schema = load_schema_arg(path, root)
        write_output(path.with_suffix(".fsb") if output is None else output,
                     dump_container(schema.ir, schema.program), binary=True)
        if recorder is not None:
            recorder.add_schema(schema)
        for name in schema.shapes:
            echo(f"{name} {schema.id(name)}", err=is_stdio(output))

    if not each(files, one):
        raise Exit(1)


def _require_inside(files: list[Path], root: Path | None) -> None:
    """With --root, a schema source whose folder is outside it is a wrong command line: exit 2, nothing read."""
    if root is not None:
        from fsf.load import schema_root

        for path in files:
            if not str(path).endswith(".fsb") and not is_stdio(path):
                schema_root(str(path), root)


def disasm(file: options.SchemaArg, root: options.RootOpt = None) -> None:
    """Print the bytecode listing of a schema, with symbolic jump labels.

    \b
    Example:
      fsf disasm shapes/forge-plan.fsb
    """
    from fsf.bytecode.dis import disassemble

    with user_errors():
        echo(disassemble(load_schema_arg(file, root).program), nl=False)


def fmt_(
    files: options.Files,
    check_only: Annotated[bool, typer.Option("--check", help="Change nothing; list the files that would change.")]
    = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Change nothing; print a unified diff of every change (exit 1 if any).")] = False,
) -> None:
    """Rewrite schema files in the one canonical layout (comments kept, ids unchanged); `-` formats standard
    input to standard output.

    \b
    Examples:
      fsf fmt --diff shapes/*.fsf
      fsf fmt - < draft.fsf
    """
    with user_errors():
        once_stdin(files)
    changed = False

    def one(path: Path) -> None:
        nonlocal changed
        from fsf.front.fmt import format_source

        name, text = read_source_arg(path)
        formatted = format_source(text, name)
        if formatted == text:
            if is_stdio(path) and not (check_only or diff):
                echo(formatted, nl=False)
            return
        if diff:
            echo(_diff(text, formatted, name), nl=False)
        elif check_only:
            echo(name)
        elif is_stdio(path):
            echo(formatted, nl=False)
            return
        else:
            write_output(path, formatted.encode("utf-8"), binary=False)
            echo(f"reformatted {path}", err=True)
            return
        changed = True

    if not each(files, one) or changed:
        raise Exit(1)


def _diff(text: str, formatted: str, name: str) -> str:
    import difflib

    lines = difflib.unified_diff(text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                                 fromfile=f"{name} (current)", tofile=f"{name} (formatted)")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


class Target(str, Enum):
    python = "python"
    jsonschema = "jsonschema"
    typescript = "typescript"


def codegen(
    file: options.SchemaArg,
    target: Annotated[Target, typer.Option("--target", "-t", help="What to generate.")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE", help="The file to write (default: stdout; - too).")] = None,
    root: options.RootOpt = None,
) -> None:
    """Generate typed Python classes, a JSON Schema or TypeScript declarations for every type of a schema.

    \b
    Example:
      fsf codegen --target python shapes/forge-plan.fsf -o forge_plan.py
    """
    from fsf.api import codegen as generate

    with user_errors():
        text = generate(load_schema_arg(file, root), target.value)
        write_output(output, text.encode("utf-8"), binary=False)


