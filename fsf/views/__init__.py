"""Views: IR + a canonical value + a template -> Markdown text through a sandboxed Jinja template (the package).

A view is generated and never canonical: its first line names the value's content id, the root type and its id,
and the template's hash (:mod:`fsf.views.render`), so ``fsv render --check`` can tell where it came from and
whether it drifted (:mod:`fsf.views.drift`). The stages, one module each: :mod:`~fsf.views.escape` (untrusted
text -> Markdown, controls shown), :mod:`~fsf.views.model` (values -> what templates read, compiled per type),
:mod:`~fsf.views.outline` (the generic layout), :mod:`~fsf.views.sandbox` (the confined Jinja environment and
its budget), :mod:`~fsf.views.lookup` (which template), :mod:`~fsf.views.render` and :mod:`~fsf.views.drift`.
The back end works from the IR and type ids only; decoding and validating through a schema, and
``render_markdown``/``render_value``, live on the façade side (:mod:`fsf.render`). See ``docs/views.md``.
"""

from __future__ import annotations

from fsf.errors import ViewError
from fsf.views.drift import Finding, Provenance, check_tree, compare_view, diff_views, read_provenance
from fsf.views.escape import code_span, escape_inline, escape_paragraphs, show_invisible
from fsf.views.lookup import BUNDLED_DIR, GENERIC_TEMPLATE, TEMPLATE_SUFFIX, TemplateChoice, find_template
from fsf.views.model import Blob, Instant, ModelPlan, Record, Variant, map_order, view_value
from fsf.views.outline import Entry, Section, Table, outline
from fsf.views.render import PROVENANCE_PREFIX, _compiled, provenance, render_with
from fsf.views.sandbox import Limits

__all__ = [
    "BUNDLED_DIR",
    "GENERIC_TEMPLATE",
    "PROVENANCE_PREFIX",
    "TEMPLATE_SUFFIX",
    "Blob",
    "Entry",
    "Finding",
    "Instant",
    "Limits",
    "ModelPlan",
    "Provenance",
    "Record",
    "Section",
    "Table",
    "TemplateChoice",
    "Variant",
    "ViewError",
    "_compiled",  # the template code cache, whose hits the sandbox tests count
    "check_tree",
    "code_span",
    "compare_view",
    "diff_views",
    "escape_inline",
    "escape_paragraphs",
    "find_template",
    "map_order",
    "outline",
    "provenance",
    "read_provenance",
    "render_with",
    "show_invisible",
    "view_value",
]
