"""Bundled views by type id: the shape library's per-type templates (``shapes/ForgePlan.md.j2``,
``shapes/DispatchTranscript.md.j2``) render every value whose root type has the library type's id, wherever the
user's schema file lives, unless a template found by name (``--templates``, next to the schema) overrides them; a
type of the same name but another id gets the generic view.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fsf
from fsf import views
from fsf.cli.fsv_tool import app
from fsf.render import bundled_views, render_markdown

SHAPES = Path(__file__).resolve().parents[2] / "shapes"
EXAMPLES = SHAPES / "examples"
runner = CliRunner()


def _copy(tmp_path: Path, *names: str) -> Path:
    """The shape library's schema files ``names`` copied into ``tmp_path`` (the first one returned): schemas that
    live elsewhere, with no template next to them."""
    for name in names:
        shutil.copyfile(SHAPES / name, tmp_path / name)
    return tmp_path / names[0]


def _template_of(view: str) -> str:
    provenance = views.read_provenance(view)
    assert provenance is not None
    return provenance.template


def _template_hash(path: Path) -> str:
    return views.TemplateChoice(path, (), path.read_text(encoding="utf-8")).hash


def test_the_table_holds_the_library_ids() -> None:
    plan = fsf.load_schema(SHAPES / "forge-plan.fsf")
    dispatch = fsf.load_schema(SHAPES / "dispatch.fsf")
    table = bundled_views()
    assert table == {plan.id("ForgePlan"): SHAPES / "ForgePlan.md.j2",
                     dispatch.id("DispatchTranscript"): SHAPES / "DispatchTranscript.md.j2"}
    assert bundled_views() is table  # computed once


@pytest.mark.parametrize("example", sorted(p.name for p in (EXAMPLES / "forge-plan").glob("*.fsv")))
def test_a_copy_of_the_plan_schema_renders_the_plan_layout(tmp_path: Path, example: str) -> None:
    schema = fsf.load_schema(_copy(tmp_path, "forge-plan.fsf"))
    value = EXAMPLES / "forge-plan" / example
    text = render_markdown(schema, value.read_bytes())
    # The same type id and the same template: the committed view, byte for byte.
    assert text == value.with_suffix(".md").read_text(encoding="utf-8")
    assert _template_of(text) == _template_hash(SHAPES / "ForgePlan.md.j2")


def test_a_copy_of_the_dispatch_schema_renders_the_transcript_layout(tmp_path: Path) -> None:
    schema = fsf.load_schema(_copy(tmp_path, "dispatch.fsf", "common.fsf"))
    for value in sorted((EXAMPLES / "dispatch").glob("*.fsv")):
        assert render_markdown(schema, value.read_bytes()) == value.with_suffix(".md").read_text(encoding="utf-8")


def test_a_schema_that_imports_the_type_renders_it_with_its_view(tmp_path: Path) -> None:
    _copy(tmp_path, "forge-plan.fsf")
    (tmp_path / "mine.fsf").write_text('import "forge-plan.fsf"\n\nshape Other { n: u8 }\n', encoding="utf-8")
    schema = fsf.load_schema(tmp_path / "mine.fsf")
    data = (EXAMPLES / "forge-plan" / "ForgePlan.small.fsv").read_bytes()
    assert render_markdown(schema, data) == (EXAMPLES / "forge-plan" / "ForgePlan.small.md").read_text("utf-8")


def test_a_type_of_the_same_name_with_another_id_gets_the_generic_view(tmp_path: Path) -> None:
    text = (SHAPES / "forge-plan.fsf").read_text(encoding="utf-8")
    changed = text.replace("  sessionId: str,\n", "  sessionId: str,\n  owner: str?,\n")
    assert changed != text
    (tmp_path / "forge-plan.fsf").write_text(changed, encoding="utf-8")
    schema = fsf.load_schema(tmp_path / "forge-plan.fsf")
    assert schema.id("ForgePlan") not in bundled_views()
    plan = {"sessionId": "s-1", "owner": None, "title": "A plan", "tasks": [], "batches": []}
    shown = render_markdown(schema, schema.encode("ForgePlan", plan))
    assert shown.splitlines()[1] == "# ForgePlan"
    generic = views.BUNDLED_DIR / views.GENERIC_TEMPLATE
    assert _template_of(shown) == _template_hash(generic)


def test_a_template_found_by_name_overrides_the_bundled_view(tmp_path: Path) -> None:
    schema = fsf.load_schema(_copy(tmp_path, "forge-plan.fsf"))
    data = (EXAMPLES / "forge-plan" / "ForgePlan.small.fsv").read_bytes()
    (tmp_path / "ForgePlan.md.j2").write_text("next to the schema: {{ value.title }}\n", encoding="utf-8")
    assert render_markdown(schema, data).splitlines()[1] == "next to the schema: README quickstart"
    given = tmp_path / "given"
    given.mkdir()
    (given / "ForgePlan.md.j2").write_text("from --templates: {{ value.title }}\n", encoding="utf-8")
    shown = render_markdown(schema, data, template_dirs=[given, tmp_path])
    assert shown.splitlines()[1] == "from --templates: README quickstart"


def test_the_bundled_table_is_asked_only_when_no_template_is_found_by_name(tmp_path: Path) -> None:
    (tmp_path / "T.md.j2").write_text("by name\n", encoding="utf-8")

    def never() -> dict[str, Path]:
        raise AssertionError("the bundled table was computed although a template was found by name")

    assert views.find_template("T", None, [tmp_path], type_id="blake3:00", bundled=never).path == tmp_path / "T.md.j2"
    assert views.find_template("T", tmp_path / "T.md.j2", (), type_id="blake3:00", bundled=never).path.name == "T.md.j2"
    table = {"blake3:00": SHAPES / "ForgePlan.md.j2"}
    assert views.find_template("U", None, [tmp_path], type_id="blake3:00", bundled=lambda: table).path == table[
        "blake3:00"]
    generic = views.find_template("U", None, [tmp_path], type_id="blake3:11", bundled=lambda: table).path
    assert generic == views.BUNDLED_DIR / views.GENERIC_TEMPLATE


def test_fsv_render_uses_the_bundled_view_for_a_schema_elsewhere(tmp_path: Path) -> None:
    schema = _copy(tmp_path, "forge-plan.fsf")
    value = EXAMPLES / "forge-plan" / "ForgePlan.vortex.fsv"
    result = runner.invoke(app, ["render", "-s", str(schema), str(value)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == value.with_suffix(".md").read_text(encoding="utf-8")
    view = tmp_path / "plan.md"
    view.write_text(result.stdout, encoding="utf-8")
    checked = runner.invoke(app, ["render", "-s", str(schema), str(value), "--check", str(view)])
    assert checked.exit_code == 0, checked.stdout + checked.stderr
