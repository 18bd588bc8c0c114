"""Views, drift: committed views (+ their values and a render function) -> findings on which views are stale.

A committed view is stale when it differs from a fresh render of the value its provenance line names. This
module reads the committed views and values and compares; it never writes (the CLI rewrites stale views with
``--fix``) and never renders itself: the caller passes a render function, so the check works with any schema
loading and any template lookup. Used by ``fsv render --check``/``--check-dir`` and ``shapes/examples/build.py``.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import attrs

from fsf.errors import FsfError
from fsf.fsv.header import content_id
from fsf.views.render import PROVENANCE_PREFIX

VIEW_SUFFIX = ".md"
VALUE_SUFFIX = ".fsv"

# Built from the prefix the renderer writes, so the reader cannot drift from the writer.
_PROVENANCE = re.compile(
    rf"^{re.escape(PROVENANCE_PREFIX)} "
    r"value=(?P<value>blake3:[0-9a-f]{64}) type=(?P<type>\w+) schema=(?P<schema>blake3:[0-9a-f]{64}) "
    r"template=(?P<template>blake3:[0-9a-f]{64}) -->$"
)


@attrs.frozen
class Provenance:
    """What a view's first line says about its origin."""

    value: str
    type: str
    schema: str
    template: str


def read_provenance(text: str) -> Provenance | None:
    """The provenance of a view, or None if its first line is not a provenance comment."""
    first = text.split("\n", 1)[0].rstrip("\r")
    m = _PROVENANCE.match(first)
    if m is None:
        return None
    return Provenance(m["value"], m["type"], m["schema"], m["template"])


def diff_views(committed: str, rendered: str, path: str) -> str:
    """A unified diff from the committed view to what rendering gives now ('' when they are identical)."""
    if committed == rendered:
        return ""
    lines = difflib.unified_diff(committed.splitlines(keepends=True), rendered.splitlines(keepends=True),
                                 fromfile=f"{path} (committed)", tofile=f"{path} (rendered)")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


FindingKind = Literal["ok", "stale", "missing", "skipped", "failed"]


@attrs.frozen
class Finding:
    """What the drift check found about one view.

    ``ok``: the view equals a fresh render. ``stale``: it differs (``committed`` and ``rendered`` hold both
    texts, :attr:`diff` the difference). ``missing``: the view file does not exist (``rendered`` holds what it
    should say). ``skipped``: its value is of no type the render function renders. ``failed``: the view or its
    value could not be read or rendered. ``message`` says why for ``skipped`` and ``failed``.
    """

    kind: FindingKind
    view: Path
    message: str = ""
    committed: str | None = attrs.field(default=None, repr=False)
    rendered: str | None = attrs.field(default=None, repr=False)

    @property
    def checked(self) -> bool:
        """Whether the view was compared with a fresh render."""
        return self.kind in ("ok", "stale", "missing")

    @property
    def diff(self) -> str:
        """The unified diff from the committed view to the fresh render ('' unless stale)."""
        if self.committed is None or self.rendered is None:
            return ""
        return diff_views(self.committed, self.rendered, str(self.view))


def compare_view(view: Path, rendered: str) -> Finding:
    """Compare one committed view with its fresh render (the file is read as UTF-8, bad bytes replaced)."""
    try:
        committed = view.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return Finding("missing", view, rendered=rendered)
    if committed == rendered:
        return Finding("ok", view)
    return Finding("stale", view, committed=committed, rendered=rendered)


Render = Callable[[bytes], str | None]
"""Renders FSV bytes as a view; None when the value's root type is not one it renders (the view is skipped).
A bad value raises :class:`~fsf.errors.FsfError`."""


def check_tree(root: Path, render: Render) -> Iterator[Finding]:
    """One finding per view under ``root`` (a ``.md`` file whose first line is a provenance comment), in sorted
    path order, as each is checked.

    The value of a view is the ``.fsv`` under ``root`` with the content id its provenance names, else the
    ``.fsv`` with the view's stem next to it (a value edited since rendering). Hidden folders are skipped.
    Raises :class:`~fsf.errors.FsfError` (on the first step) if ``root`` is not a folder.
    """
    if not root.is_dir():
        raise FsfError(f"`{root}` is not a folder")
    values: dict[str, Path] = {}
    views: list[Path] = []
    for path in _walk(root):
        if path.suffix == VALUE_SUFFIX:
            values.setdefault(content_id(path.read_bytes()), path)
        elif path.suffix == VIEW_SUFFIX:
            views.append(path)
    for view in views:
        try:
            with open(view, "rb") as fh:
                first = fh.readline().decode("utf-8", errors="replace")
        except OSError as err:
            yield Finding("failed", view, f"cannot read `{view}`: {(err.strerror or str(err)).lower()}")
            continue
        origin = read_provenance(first)
        if origin is None:
            continue  # not a generated view
        value = values.get(origin.value) or _sibling_value(view)
        if value is None:
            yield Finding("failed", view, f"view `{view}` names value {origin.value}, which no `.fsv` under "
                                          f"`{root}` has (and there is no `{view.with_suffix(VALUE_SUFFIX).name}` "
                                          "next to it)")
            continue
        data = value.read_bytes()
        try:
            rendered = render(data)
        except FsfError as err:
            yield Finding("failed", view, f"view `{view}` (value `{value}`): {err}")
            continue
        if rendered is None:
            yield Finding("skipped", view, f"{view}: its value `{value}` is not of a type of the given schema(s)")
            continue
        yield compare_view(view, rendered)


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
