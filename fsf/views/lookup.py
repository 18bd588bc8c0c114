"""Views, template lookup: a root type name and id (+ an explicit template, template folders, the bundled views
by type id) -> the template to use.

The convention: an explicit template, else ``<TypeName>.md.j2`` in the first template folder that has one, else
the shape library's template for a type of the same id (``shapes/ForgePlan.md.j2`` for every ``ForgePlan`` whose
id is the library's, wherever its schema file lives), else the bundled generic template. The only file this
module reads is the chosen template itself; the table of bundled views by id is the caller's
(:func:`fsf.render.bundled_views`: it needs the shape library's schemas compiled).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs
import blake3

from fsf.errors import ViewError
from fsf.ir.ids import format_id

TEMPLATE_SUFFIX = ".md.j2"
"""A per-type template is ``<TypeName>.md.j2`` in a template folder."""
GENERIC_TEMPLATE = "generic.md.j2"
"""The bundled template that renders any value of any schema (in ``fsf/views/templates``)."""
BUNDLED_DIR = Path(__file__).resolve().parent / "templates"


@attrs.frozen
class TemplateChoice:
    """Which template renders a value: its file, the folders its includes come from, and its source hash."""

    path: Path
    folders: tuple[Path, ...]
    source: str = attrs.field(repr=False)

    @property
    def hash(self) -> str:
        """``blake3:`` + hex of BLAKE3 over the template file's UTF-8 source."""
        return format_id(blake3.blake3(self.source.encode("utf-8")).digest())


BundledViews = Callable[[], Mapping[str, Path]]
"""The bundled per-type templates by type id (``blake3:…`` -> the template file), asked for only when no
template was given or found by name, so that the ids are computed only when they are needed."""


def find_template(type_name: str, template: str | os.PathLike[str] | None = None,
                  template_dirs: Sequence[str | os.PathLike[str]] = (), *, type_id: str | None = None,
                  bundled: BundledViews | None = None) -> TemplateChoice:
    """The template for a value of ``type_name``: ``template`` if given, else the first ``<type_name>.md.j2``
    in ``template_dirs``, else ``bundled()[type_id]`` (a bundled view of a type with that id), else the bundled
    generic template. Includes resolve in the chosen template's folder, then ``template_dirs``, then the bundled
    folder."""
    dirs = tuple(Path(d) for d in template_dirs)
    if template is not None:
        path = Path(template)
    else:
        file_name = f"{type_name}{TEMPLATE_SUFFIX}"
        found = next((candidate for d in dirs if (candidate := d / file_name).is_file()), None)
        if found is None and type_id is not None and bundled is not None:
            found = bundled().get(type_id)
        path = found if found is not None else BUNDLED_DIR / GENERIC_TEMPLATE
    try:
        with open(path, "rb") as fh:
            source = fh.read().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ViewError(f"cannot read template: not UTF-8 (byte {err.start})", str(path)) from None
    except OSError as err:
        raise ViewError(f"cannot read template: {(err.strerror or str(err)).lower()}", str(path)) from None
    folders = tuple(dict.fromkeys((path.parent, *dirs, BUNDLED_DIR)))
    return TemplateChoice(path, folders, source)

