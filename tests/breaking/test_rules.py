"""The rules table (fsf/evolve/rules.py) -> each rule's own example run through `fsf breaking`, and the table of
``docs/breaking.md`` generated from it (``FSF_UPDATE_GOLDEN=1`` rewrites the page's table).

Parametrized over the whole table: a rule added without an example (or without its expected path here) fails.
Each example's new schema must trigger its rule and no other rule of the rule's category, at the expected type
path, with the table's hint; its safe neighbour must not trigger it at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fsf
from fsf.breaking import Finding, compare
from fsf.cli.fsf_tool import app
from fsf.evolve.rules import ALL, BY_ID, CATEGORIES, READ_NEW_OF, RULES, Rule, markdown_table
from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "breaking.md"
START, END = "<!-- rules: generated from fsf/evolve/rules.py -->\n", "<!-- end rules -->"

STORE_ONLY = {"SCHEMA_MISSING"}
"""Rules no pair of schemas triggers (their example texts are empty); test_cli.py shows each with a store."""

PATH = {
    "ROOT_TYPE_MISSING": "Job",
    "TYPE_CHANGED": "Task.size",
    "FIELD_ADDED_REQUIRED": "Task.owner",
    "FIELD_OPTIONAL_TO_REQUIRED": "Task.note",
    "ENUM_MEMBER_REMOVED_NO_FALLBACK": "Status.doing",
    "VARIANT_REMOVED_NO_FALLBACK": "Outcome.Failed",
    "MAP_KEYS_MERGE": "Task.counts",
    "RANGE_NARROWED": "Task.retries",
    "LENGTH_NARROWED": "Task.title",
    "COUNT_NARROWED": "Task.tags",
    "PRECISION_LOST": "Sample.count",
    "TYPE_CHANGED_FOR_OLD_READERS": "Sample.count",
    "FIELD_REMOVED_REQUIRED": "Task.owner",
    "FIELD_MADE_OPTIONAL": "Task.owner",
    "ENUM_MEMBER_ADDED_NO_FALLBACK": "Status.doing",
    "VARIANT_ADDED_NO_FALLBACK": "Outcome.Skipped",
    "MAP_KEYS_MERGE_FOR_OLD_READERS": "Task.counts",
    "RANGE_WIDENED": "Task.retries",
    "LENGTH_WIDENED": "Task.title",
    "COUNT_WIDENED": "Task.tags",
    "PRECISION_WIDENED": "Sample.ratio",
    "FIELD_RENAMED_WITHOUT_WAS": "Task.comment",
    "JSON_FIELD_RENAMED": "Task.comment",
    "JSON_FIELD_REMOVED": "Task.note",
    "JSON_FIELD_ADDED_REQUIRED": "Task.owner",
    "JSON_MEMBER_RENAMED": "Status.finished",
    "JSON_MEMBER_REMOVED": "Status.doing",
    "JSON_VARIANT_RENAMED": "Outcome.Error",
    "JSON_VARIANT_REMOVED": "Outcome.Failed",
    "SOURCE_TYPE_REMOVED": "Note",
    "SOURCE_TYPE_RENAMED": "Task",
    "SOURCE_FIELD_REMOVED": "Task.note",
    "SOURCE_FIELD_RENAMED": "Task.comment",
    "SOURCE_MEMBER_REMOVED": "Status.doing",
    "SOURCE_MEMBER_RENAMED": "Status.finished",
    "SOURCE_VARIANT_REMOVED": "Outcome.Failed",
    "SOURCE_VARIANT_RENAMED": "Outcome.Error",
}
"""The type path each rule's example finding is at: the new schema's names, the old one's for what is gone."""

runner = CliRunner()


def _ids(rules: tuple[Rule, ...]) -> list[str]:
    return [r.id for r in rules]


def _load(folder: Path, name: str, text: str) -> fsf.Schema:
    path = folder / name
    path.write_text(text + "\n", encoding="utf-8")
    return fsf.load_schema(path)


def _findings(tmp_path: Path, rule: Rule, new: str) -> list[Finding]:
    return compare(_load(tmp_path, "old.fsf", rule.old)._side(), _load(tmp_path, "new.fsf", new)._side())


def test_the_table_is_consistent() -> None:
    assert len(BY_ID) == len(ALL), "rule ids are unique"
    assert {r.category for r in ALL} == set(CATEGORIES)
    assert set(READ_NEW_OF) == {r.id for r in RULES} - {"ROOT_TYPE_MISSING"}
    assert all(BY_ID[new].category == "READ_NEW" and BY_ID[new].per_value == BY_ID[old].per_value
               for old, new in READ_NEW_OF.items())
    for r in ALL:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", r.id), r.id
        assert r.summary and r.hint and not r.summary.endswith(".") and not r.hint.endswith(".")
    assert set(PATH) == {r.id for r in ALL} - STORE_ONLY


@pytest.mark.parametrize("rule", ALL, ids=_ids(ALL))
def test_the_example_triggers_its_rule(rule: Rule, tmp_path: Path) -> None:
    if rule.id in STORE_ONLY:
        assert (rule.old, rule.new, rule.safe) == ("", "", "")
        return
    findings = _findings(tmp_path, rule, rule.new)
    assert all(BY_ID[f.rule].category == f.category for f in findings)
    mine = [(f.rule, f.category, f.path, f.hint) for f in findings if f.category == rule.category]
    assert mine == [(rule.id, rule.category, PATH[rule.id], rule.hint)], [(f.rule, f.path) for f in findings]


@pytest.mark.parametrize("rule", ALL, ids=_ids(ALL))
def test_the_safe_neighbour_does_not(rule: Rule, tmp_path: Path) -> None:
    if rule.id in STORE_ONLY:
        return
    assert rule.safe not in (rule.old, rule.new)
    assert rule.id not in {f.rule for f in _findings(tmp_path, rule, rule.safe)}


# -- locations ------------------------------------------------------------------------------------------------


_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|@\w+|\w+|[{}(),:<>?\[\]]|\.\.')


def _position(text: str, path: str) -> tuple[int, int]:
    """Line and column (1-based, code points) of the name a type path ends at in ``text``: the declaration's
    name (after `shape`, `enum` or `union`), then the name of each item in it (the first name after its `{` or a
    `,`, annotations and their arguments skipped): ``Outcome.Failed.why`` is the field `why` of `Failed`."""
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    decl, *items = path.split(".")
    i = next((i + 1 for i in range(len(tokens) - 1)
              if tokens[i][0] in ("shape", "enum", "union") and tokens[i + 1][0] == decl), None)
    assert i is not None, (decl, text)
    for item in items:
        i = _item(tokens, text.index("{", tokens[i][1]), item)
        assert i is not None, (item, text)
    at = tokens[i][1]
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def _item(tokens: list[tuple[str, int]], brace: int, name: str) -> int | None:
    """The index of the token that names item ``name`` among the entries of the `{` at text offset ``brace``."""
    start = next(i for i, (_, at) in enumerate(tokens) if at == brace)
    depth, parens, expect = 0, 0, True
    for i in range(start, len(tokens)):
        tok = tokens[i][0]
        if tok == "(":
            parens += 1
        elif tok == ")":
            parens -= 1
        elif parens or tok.startswith("@"):
            continue
        elif tok in "{}":
            depth += 1 if tok == "{" else -1
            expect = depth == 1 and tok == "{"
            if depth == 0:
                return None
        elif depth == 1 and tok == ",":
            expect = True
        elif depth == 1 and expect and re.fullmatch(r"\w+", tok):
            if tok == name:
                return i
            expect = False
    return None


def test_the_position_helper() -> None:
    text = 'union Outcome { Done, @deprecated("Failed why") Failed { why: str }, Error { why: str } }'
    assert _position(text, "Outcome") == (1, 7)
    assert _position(text, "Outcome.Failed") == (1, text.index("Failed {") + 1)
    assert _position(text, "Outcome.Error.why") == (1, text.rindex("why") + 1)
    assert _position("shape A {\n  @was(\"b\")\n  c: str,\n}", "A.c") == (3, 3)
    assert _position("shape T { size: str, @default(size) str: u8 }", "T.str") == (1, 37)


@pytest.mark.parametrize("rule", [r for r in ALL if r.id not in STORE_ONLY],
                         ids=_ids(tuple(r for r in ALL if r.id not in STORE_ONLY)))
def test_the_finding_is_located(rule: Rule, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At the name of the item in the new schema, with the caret snippet (or at its declaration, for a field
    that old readers miss), and at the name in the old schema as a note; only in the old schema for what the new
    one lacks."""
    (tmp_path / "old.fsf").write_text(rule.old + "\n", encoding="utf-8")
    (tmp_path / "new.fsf").write_text(rule.new + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["breaking", "new.fsf", "--against", "old.fsf", "--format", "json"])
    (got,) = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == rule.id]
    (finding,) = [f for f in compare(fsf.load_schema("old.fsf")._side(), fsf.load_schema("new.fsf")._side())
                  if f.rule == rule.id]
    if finding.new_at is None:
        assert got["location"] is None
    else:
        path = _path(rule.new, *finding.new_at)
        row, col = _position(rule.new, path)
        assert got["location"] == f"new.fsf:{row}:{col}"
        text = runner.invoke(app, ["breaking", "new.fsf", "--against", "old.fsf"]).stdout
        caret = "^" * len(path.rsplit(".", 1)[-1])
        assert f"  --> new.fsf:{row}:{col}\n  |\n{row} | {rule.new}\n  | {' ' * (col - 1)}{caret}\n" in text
    assert finding.old_at is not None
    row, col = _position(rule.old, _path(rule.old, *finding.old_at))
    assert got["old_location"] == f"old.fsf:{row}:{col}"


def test_a_field_of_a_variant_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = "union Outcome { Done { why: str }, Failed { why: str[0..10] } }"
    new = "union Outcome { Done { why: str }, @was(\"Failed\") Error { because: str? } }"
    (tmp_path / "old.fsf").write_text(old + "\n", encoding="utf-8")
    (tmp_path / "new.fsf").write_text(new + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["breaking", "new.fsf", "--against", "old.fsf", "--format", "json"])
    got = {(f["rule"], f["path"]): (f["location"], f["old_location"]) for f in json.loads(result.stdout)["findings"]}
    at = {p: "{}:{}:{}".format(name, *_position(text, p)) for name, text, p in (
        ("new.fsf", new, "Outcome"), ("new.fsf", new, "Outcome.Error"), ("old.fsf", old, "Outcome.Failed"),
        ("old.fsf", old, "Outcome.Failed.why"))}
    assert got == {
        ("FIELD_REMOVED_REQUIRED", "Outcome.Failed.why"): (at["Outcome"], at["Outcome.Failed.why"]),
        ("JSON_FIELD_REMOVED", "Outcome.Failed.why"): (at["Outcome.Error"], at["Outcome.Failed.why"]),
        ("SOURCE_FIELD_REMOVED", "Outcome.Failed.why"): (at["Outcome.Error"], at["Outcome.Failed.why"]),
        ("JSON_VARIANT_RENAMED", "Outcome.Error"): (at["Outcome.Error"], at["Outcome.Failed"]),
        ("SOURCE_VARIANT_RENAMED", "Outcome.Error"): (at["Outcome.Error"], at["Outcome.Failed"]),
    }


def _path(text: str, decl: str, item: str | None) -> str:
    """The type path in ``text`` of a finding's (declaration, item): the item is a field, member or variant of
    the declaration, or a field of one of its variants."""
    if item is None:
        return decl
    for path in (f"{decl}.{item}", *(f"{decl}.{v}.{item}" for v in re.findall(r"\b([A-Z]\w*)\s*\{", text))):
        try:
            _position(text, path)
        except AssertionError:
            continue
        return path
    raise AssertionError((decl, item, text))


# -- the documented table -------------------------------------------------------------------------------------


def test_the_documented_rule_table_is_the_rule_table(golden: Golden) -> None:
    text = DOCS.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    # The page is the golden file; only the table between the markers is computed, the prose is kept.
    golden.text(DOCS, f"{head}{START}{markdown_table()}{END}{tail}")


def test_the_table_shows_every_example() -> None:
    table = markdown_table()
    for r in ALL:
        row = next(line for line in table.splitlines() if line.startswith(f"| `{r.id}` |"))
        assert all(f"`{text}`" in row for text in (r.old, r.new, r.safe) if text), r.id
        assert r.summary in row and r.hint in row and f"| {r.category} |" in row
