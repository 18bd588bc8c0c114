"""CLI `fsf breaking`: a new and an old schema (a file, a folder, a .fsb or a git revision) and, optionally, stored
values -> the findings of docs/breaking.md as text, JSON or GitHub annotations. Exit 0 when nothing in the
selected categories breaks, 1 when something does, 2 for a wrong command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import attrs

from fsf import artifacts, ir
from fsf.api import load_schema
from fsf.breaking import Finding, compare
from fsf.breaking.accept import Accepted, find_accept_file, load_accepted, split
from fsf.breaking.corpus import Corpus, check_corpus
from fsf.cli.common import (
    BadParameter,
    Exit,
    Lazy,
    echo,
    use_color,
    user_errors,
)
from fsf.errors import Span, UsageError, excerpt
from fsf.evolve.rules import CATEGORIES
from fsf.schema import Schema
from fsf.store import Store, find_store, open_store
from fsf.store.backend import MARKER

if TYPE_CHECKING:
    import typer

    from fsf.cli import options
else:  # names for typer to read in the signatures: neither is imported unless typer runs (fsf.cli.common.Lazy)
    typer, options = Lazy("typer"), Lazy("fsf.cli.options")

_GIT = "git:"


def breaking(
    new: Annotated[list[Path], typer.Argument(metavar="NEW...", help="The new schema files or folders (.fsf, .fsb).",
                                              show_default=False)],
    against: Annotated[str | None, typer.Option(
        "--against", metavar="OLD", help="The old schema: a file, a folder, a .fsb, or git:REV (the same paths at "
                                         "that revision).")] = None,
    corpus: Annotated[list[Path] | None, typer.Option(
        "--corpus", metavar="PATH", help="Stored values to check (.fsv files, folders, or a store); repeatable.")]
    = None,
    category: Annotated[list[str] | None, typer.Option(
        "--category", metavar="CATEGORY", help="Categories that fail the run (repeatable or comma-separated; "
                                               "default READ_OLD): READ_OLD, READ_NEW, JSON, SOURCE.")] = None,
    accept: Annotated[Path | None, typer.Option(
        "--accept", metavar="FILE", help="The accept list (default: the nearest fsf-breaking.toml).")] = None,
    output_format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="text, json or github.")]
    = "text",
    root: options.RootOpt = None,
    store: options.StoreOpt = None,
) -> None:
    """Say which changes from OLD to NEW break which readers, and, with --corpus, which stored values.

    \b
    Examples:
      fsf breaking shapes/ --against git:main
      fsf breaking shapes/task.fsf --against released/task.fsb --corpus .fsf
    """
    failing = _categories(category)
    if output_format not in ("text", "json", "github"):
        raise BadParameter(f"`{output_format}`: use text, json or github", "'--format'")
    if against is None and not corpus:
        raise BadParameter("give --against OLD, --corpus PATH, or both", "'--against'")
    with user_errors():
        new_schema = _load_set(new, root)
        old_schema = None if against is None else _load_old(against, new, root)
        accepted = _accepted(accept)
        findings = [] if old_schema is None else compare(old_schema._side(), new_schema._side())
        counted: Corpus | None = None
        if corpus:
            found = find_store(store)
            values, corpus_store = _values(corpus, found)
            if corpus_store is None:
                raise UsageError("--corpus needs a store for the values' writer schemas (--store, $FSF_STORE or a "
                                 "`.fsf` folder)")
            counted = check_corpus(new_schema, values, corpus_store)
    report = _Report.make(findings, counted, accepted, failing, new_schema, old_schema)
    {"text": _text, "json": _json, "github": _github}[output_format](report)
    if report.failed:
        raise Exit(1)


def _categories(given: list[str] | None) -> frozenset[str]:
    if not given:
        return frozenset({"READ_OLD"})
    out = {c.strip().upper() for g in given for c in g.split(",") if c.strip()}
    if not out:
        raise BadParameter("name at least one category", "'--category'")
    bad = sorted(out - set(CATEGORIES))
    if bad:
        raise BadParameter(f"`{bad[0]}`: the categories are {', '.join(CATEGORIES)}", "'--category'")
    return frozenset(out)


# -- loading --------------------------------------------------------------------------------------------------


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*.fsf") if p.is_file()))
        else:
            artifacts.require(path, ("fsf_schema", "compiled_schema"), "a schema")
            out.append(path)
    if not out:
        raise UsageError(f"no schema files in {', '.join(f'`{p}`' for p in paths)}")
    return out


def _load_set(paths: list[Path], root: Path | None) -> Schema:
    return _merged([load_schema(p, root=root) for p in _expand(paths)])


def _load_old(against: str, new: list[Path], root: Path | None) -> Schema:
    if not against.startswith(_GIT):
        return _load_set([Path(against)], root)
    from fsf import gitrev

    rev = against[len(_GIT):]
    loaded = []
    for path in _expand(new):
        try:
            loaded.append(gitrev.load_schema_at(path, rev, root=root))
        except gitrev.GitError as err:
            if err.code != "no_such_path":
                raise
    if not loaded:
        raise UsageError(f"none of the schema files existed at `{rev}`")
    return _merged(loaded)


def _merged(schemas: list[Schema]) -> Schema:
    """One schema of every declaration of ``schemas`` (a type in several files, through imports, must be the same
    everywhere)."""
    if len(schemas) == 1:
        return schemas[0]
    decls: dict[str, tuple[ir.Decl, Schema]] = {}
    for schema in schemas:
        for d in schema.ir.decls:
            seen = decls.get(d.name)
            if seen is not None and seen[1].id(d.name) != schema.id(d.name):
                raise UsageError(f"`{d.name}` differs between `{seen[1].origin}` and `{schema.origin}`")
            decls.setdefault(d.name, (d, schema))
    return Schema(ir.Schema(tuple(decls[n][0] for n in sorted(decls))))  # the declarations keep their spans


def _accepted(given: Path | None) -> tuple[Accepted, ...]:
    path = given if given is not None else find_accept_file()
    return () if path is None else load_accepted(path)


def _values(paths: list[Path], found: Store | None) -> tuple[list[bytes], Store | None]:
    """The FSV bytes under ``paths`` (files, folders, stores) and the store for their writer schemas."""
    values: list[bytes] = []
    store = found
    for path in paths:
        if path.is_dir() and (path / MARKER).is_file():
            named = open_store(path)
            store = store or named
            values.extend(named.get(i) for i in named)
        elif path.is_dir():
            values.extend(p.read_bytes() for p in sorted(path.rglob("*.fsv")) if p.is_file())
        else:
            artifacts.require(path, ("fsv_value",), "read as an FSV value")
            values.append(path.read_bytes())
    return values, store


# -- the report -----------------------------------------------------------------------------------------------


@attrs.frozen
class _Line:
    """One finding as reported: its status (`error`, `info`, `accepted`, `ok`), where, and its counts."""

    finding: Finding
    status: str
    location: str | None
    old_location: str | None
    span: Span | None = attrs.field(default=None, eq=False)
    broken: int | None = None
    total: int | None = None
    examples: tuple[str, ...] = ()
    reason: str | None = None


@attrs.frozen
class _Report:
    lines: tuple[_Line, ...]
    stale: tuple[Accepted, ...]
    values: int | None
    writers: int | None

    @property
    def failed(self) -> bool:
        return any(line.status == "error" for line in self.lines)

    @staticmethod
    def make(findings: list[Finding], corpus: Corpus | None, accepted: tuple[Accepted, ...],
             failing: frozenset[str], new: Schema, old: Schema | None) -> _Report:
        counted = {c.finding.key: c for c in corpus.findings} if corpus is not None else {}
        every = [*findings, *(c.finding for k, c in counted.items() if k not in {f.key for f in findings})]
        matched, stale = split(every, accepted)
        lines = []
        for f in every:
            c = counted.get(f.key)
            status = "error" if f.category in failing else "info"
            if c is not None and c.broken == 0 and f.per_value:
                status = "ok"
            entry = matched.get(f.key)
            if entry is not None and status == "error":
                status = "accepted"
            lines.append(_Line(f, status, _where(new, f.new_at), _where(old, f.old_at),
                               _span(new, f.new_at), None if c is None else c.broken, None if c is None else c.total,
                               () if c is None else c.examples, None if entry is None else entry.reason))
        return _Report(tuple(lines), stale, None if corpus is None else corpus.values,
                       None if corpus is None else corpus.writers)


def _where(schema: Schema | None, at: tuple[str, str | None] | None) -> str | None:
    span = _span(schema, at)
    return None if span is None else str(span)


def _span(schema: Schema | None, at: tuple[str, str | None] | None) -> Span | None:
    """Where ``at`` (declaration, item) was written in ``schema``: the item, else its declaration."""
    if schema is None or at is None:
        return None
    return ir.span_of(schema.ir, at[0], at[1]) or ir.span_of(schema.ir, at[0])


def _text(report: _Report) -> None:
    color = use_color(sys.stdout)
    for line in report.lines:
        echo(_block(line, color))
    for entry in report.stale:
        echo(f"warning: stale accept entry: {entry.rule} at {entry.path} matches no finding any more "
                   f"(reason was: {entry.reason})")
    counts = {s: sum(1 for line in report.lines if line.status == s) for s in ("error", "info", "accepted", "ok")}
    tail = "" if report.values is None else f"; {report.values} stored value(s) of {report.writers} writer type(s)"
    echo(f"{counts['error']} breaking, {counts['info']} information, {counts['accepted']} accepted, "
               f"{counts['ok']} ok{tail}")


def _block(line: _Line, color: bool) -> str:
    f = line.finding
    head = f"{line.status}[{f.rule}] {f.category}: {f.path}: {f.message}"
    if color and line.status == "error":
        head = f"\x1b[1;31m{line.status}\x1b[0m{head[len(line.status):]}"
    out = [head]
    if line.location:
        out.append(f"  --> {line.location}")
    if line.span is not None:
        out.extend(excerpt(line.span, "", color))
    if line.old_location:
        out.append(f"   = note: in the old schema: {line.old_location}")
    out.append(f"   = hint: {f.hint}")
    if line.total is not None:
        ids = f": {', '.join(line.examples)}" if line.examples else ""
        out.append(f"   = values: {'ok (' if line.broken == 0 else ''}{line.broken} of {line.total} value(s)"
                   f"{')' if line.broken == 0 else ' break'}{ids}")
    if line.reason:
        out.append(f"   = accepted: {line.reason}")
    return "\n".join(out)


def _json(report: _Report) -> None:
    doc: dict[str, Any] = {
        "findings": [_json_line(line) for line in report.lines],
        "stale": [attrs.asdict(e) for e in report.stale],
        "failed": report.failed,
    }
    if report.values is not None:
        doc["corpus"] = {"values": report.values, "writer_types": report.writers}
    echo(json.dumps(doc, indent=2, sort_keys=True))


def _json_line(line: _Line) -> dict[str, Any]:
    f = line.finding
    out: dict[str, Any] = {"rule": f.rule, "category": f.category, "status": line.status, "path": f.path,
                           "message": f.message, "hint": f.hint, "location": line.location,
                           "old_location": line.old_location}
    if line.total is not None:
        out["values"] = {"broken": line.broken, "total": line.total, "examples": list(line.examples)}
    if line.reason is not None:
        out["accepted"] = line.reason
    return out


def _github(report: _Report) -> None:
    kinds = {"error": "error", "info": "notice", "accepted": "notice", "ok": "notice"}
    for line in report.lines:
        f = line.finding
        params = []
        if line.location:
            name, _, col = line.location.rpartition(":")
            name, _, number = name.rpartition(":")
            params += [f"file={_property(name)}", f"line={number}", f"col={col}"]
        params.append(f"title={_property(f.rule)}")
        text = f"{f.category}: {f.path}: {f.message}. Hint: {f.hint}"
        if line.total is not None:
            text += (f". Values: {line.broken} of {line.total} break" if line.broken
                     else f". Values: ok (0 of {line.total})")
        if line.reason is not None:
            text += f". Accepted: {line.reason}"
        echo(f"::{kinds[line.status]} {','.join(params)}::{_data(text)}")
    for entry in report.stale:
        echo(f"::warning title=stale accept entry::{_data(f'{entry.rule} at {entry.path} matches no finding')}")


def _data(text: str) -> str:
    """A workflow command's message, escaped as GitHub reads it back (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A workflow command's property value, escaped (``:`` and ``,`` too: they separate properties)."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")
