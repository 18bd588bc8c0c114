"""Views, template lookup: a root type name (+ an explicit template, template folders) -> the template to use.

The convention: an explicit template, else ``<TypeName>.md.j2`` in the first template folder that has one, else
the bundled generic template. The only file this module reads is the chosen template itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
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


def find_template(type_name: str, template: str | os.PathLike[str] | None = None,
                  template_dirs: Sequence[str | os.PathLike[str]] = ()) -> TemplateChoice:
    """The template for a value of ``type_name``: ``template`` if given, else the first ``<type_name>.md.j2``
    in ``template_dirs``, else the bundled generic template. Includes resolve in the chosen template's folder,
    then ``template_dirs``, then the bundled folder."""
    dirs = tuple(Path(d) for d in template_dirs)
    if template is not None:
        path = Path(template)
    else:
        path = next((d / f"{type_name}{TEMPLATE_SUFFIX}" for d in dirs
                     if (d / f"{type_name}{TEMPLATE_SUFFIX}").is_file()), BUNDLED_DIR / GENERIC_TEMPLATE)
    try:
        with open(path, "rb") as fh:
            source = fh.read().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ViewError(f"cannot read template: not UTF-8 (byte {err.start})", str(path)) from None
    except OSError as err:
        raise ViewError(f"cannot read template: {(err.strerror or str(err)).lower()}", str(path)) from None
    folders = tuple(dict.fromkeys((path.parent, *dirs, BUNDLED_DIR)))
    return TemplateChoice(path, folders, source)

