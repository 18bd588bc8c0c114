"""Corpus: stored values -> how many of them each finding breaks (``fsf breaking --corpus``).

Every distinct writer type among the values is a baseline of its own (a value written three versions ago is
checked against today's schema through its own writer schema from the store), and each value is resolved for
real, walked to the end: a finding's count is the number of values that fail by its rule at its place, each
finding counted on its own (a value that breaks two findings counts for both).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from fsf.breaking import Finding, findings_of_plan
from fsf.errors import StoreError
from fsf.evolve.plan import build, match_root
from fsf.evolve.run import compile_failures
from fsf.fsv.header import content_id, read_header
from fsf.ir.ids import format_id
from fsf.schema import Schema
from fsf.store import Store

EXAMPLES = 3
"""How many content ids a finding names."""


@attrs.frozen
class Counted:
    """A finding with the values it breaks: ``broken`` of ``total`` values of the writer types it applies to,
    and the first few of their content ids."""

    finding: Finding
    broken: int
    total: int
    examples: tuple[str, ...]


@attrs.frozen
class Corpus:
    """What the corpus check found: counted findings, and how many values and writer types it read."""

    findings: tuple[Counted, ...]
    values: int
    writers: int


def check_corpus(new: Schema, values: Iterable[bytes], store: Store) -> Corpus:
    """Check every value (FSV bytes) against ``new``: the READ_OLD findings of each writer type, counted on the
    values themselves; a value whose writer schema is not in ``store`` is a SCHEMA_MISSING finding."""
    by_writer: dict[bytes, list[bytes]] = {}
    for data in values:
        by_writer.setdefault(read_header(data).root_id, []).append(data)
    counts: dict[tuple[str, str], _Tally] = {}
    for root_id, group in by_writer.items():
        type_id = format_id(root_id)
        try:
            writer = store.schema(type_id)
        except StoreError as err:
            if err.code != "schema_unknown":
                raise
            _count(counts, Finding("SCHEMA_MISSING", "READ_OLD", type_id, f"the writer schema of {type_id} is "
                                   "not in the store"), group, group)
            continue
        wname = writer.name_of(root_id)
        assert wname is not None
        rname = match_root(writer._side(), wname, new._side())
        if rname is None:
            _count(counts, Finding("ROOT_TYPE_MISSING", "READ_OLD", wname, f"`{wname}` is gone: its values cannot "
                                   "be read", None, (wname, None)), group, group)
            continue
        if writer.id_bytes(wname) == new.id_bytes(rname):
            continue
        plan = build(writer._side(), wname, new._side(), rname)
        found = {f.key: f for f in findings_of_plan(plan, "READ_OLD")}
        failures = compile_failures(plan)
        broken: dict[tuple[str, str], list[bytes]] = {}
        for data in group:
            value = writer.codec.decode(data, wname)  # strictly as the writer's type, as resolution reads it
            for key in {(fail.rule, fail.site.reader) for fail in failures(value)}:
                broken.setdefault(key, []).append(data)
        for key, finding in found.items():
            _count(counts, finding, broken.get(key, []), group)
    out = (Counted(t.finding, t.broken, t.total, tuple(t.examples)) for t in counts.values())
    return Corpus(tuple(sorted(out, key=lambda c: (c.finding.path, c.finding.rule))),
                  sum(len(g) for g in by_writer.values()), len(by_writer))


@attrs.define
class _Tally:
    finding: Finding
    broken: int = 0
    total: int = 0
    examples: list[str] = attrs.Factory(list)


def _count(counts: dict[tuple[str, str], _Tally], finding: Finding, broken: list[bytes], group: list[bytes]) -> None:
    tally = counts.setdefault(finding.key, _Tally(finding))
    tally.broken += len(broken)
    tally.total += len(group)
    tally.examples.extend(content_id(data) for data in broken[: EXAMPLES - len(tally.examples)])
