"""Resources: where the data folders shipped with fsf live (in a wheel, or in a source checkout)."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder ``name`` (``grammar``, ``codegen``, ``shapes``): inside the installed package, else the checkout."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"fsf resource folder `{name}` is missing from this installation")
