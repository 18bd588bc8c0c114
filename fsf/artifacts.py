"""Artifacts: a file path -> which artifact format it is and what the tools may do with it (the one table).

The commands consult this table before they read or write a file, so that, for example, a Markdown view is
never taken as the source of a value. ``shapes/artifacts.fsf`` describes the table as a schema, and the example
value ``shapes/examples/artifacts/`` is generated from :data:`ARTIFACTS`.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from fsf.errors import UsageError


class Artifact(NamedTuple):
    """One artifact format: its name (an ``ArtifactFormat`` member), file extensions and properties. (A named
    tuple, not an attrs class: every command consults this table, and making an attrs class costs a good part of
    a millisecond at start-up.)"""

    format: str
    extensions: tuple[str, ...]
    description: str
    canonical: bool
    """One thing has exactly one spelling in this format, so it can be hashed and diffed."""
    binary: bool
    generated: bool
    """Produced by a tool, never edited by hand."""
    requires_schema: bool
    """Reading it as data needs its schema."""

    @property
    def extension(self) -> str:
        """The main file extension, with its dot."""
        return self.extensions[0]


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact("fsf_schema", (".fsf",), "an FSF schema (canonical text, the source of truth for types)",
             canonical=True, binary=False, generated=False, requires_schema=False),
    Artifact("compiled_schema", (".fsb",), "a compiled FSF schema (generated from a `.fsf`, binary)",
             canonical=False, binary=True, generated=True, requires_schema=False),
    Artifact("fsv_value", (".fsv",), "an FSV value (canonical binary, the source of truth for data)",
             canonical=True, binary=True, generated=False, requires_schema=True),
    Artifact("markdown_view", (".md",), "a Markdown view (generated from a value, never canonical)",
             canonical=False, binary=False, generated=True, requires_schema=True),
    Artifact("json_compat", (".json",), "a JSON value (the non-canonical compatibility form)",
             canonical=False, binary=False, generated=False, requires_schema=True),
    Artifact("generated_code", (".py", ".ts"), "generated source code (produced from a schema)",
             canonical=False, binary=False, generated=True, requires_schema=False),
)

_BY_EXTENSION = {ext: a for a in ARTIFACTS for ext in a.extensions}


def artifact_of(path: str | os.PathLike[str]) -> Artifact | None:
    """The artifact format of ``path`` by its extension, or None for an unknown extension (or ``-``)."""
    return _BY_EXTENSION.get(os.path.splitext(os.fspath(path))[1].lower())


def require(path: str | os.PathLike[str], allowed: tuple[str, ...], role: str) -> None:
    """Refuse ``path`` as ``role`` (e.g. "the source of a value") unless its format is one of ``allowed``.

    Unknown extensions pass (the content decides). A Markdown view is refused with the reason: it is a
    generated, non-canonical rendering, never the source of anything.
    """
    artifact = artifact_of(path)
    if artifact is None or artifact.format in allowed:
        return
    name = os.fspath(path)
    if artifact.format == "markdown_view":
        raise UsageError(f"`{name}` is a Markdown view: generated from a value and not canonical, so it cannot be "
                         f"{role}; use the `.fsv` value (or its `.json` form) it was rendered from")
    wanted = " or ".join(f"`{a.extension}`" for a in ARTIFACTS if a.format in allowed)
    raise UsageError(f"`{name}` is {artifact.description}, not {role}; expected {wanted}")
