"""Store location: a path given, the environment and the working folder -> where the store is, or None (``docs/store.md``).

Only :mod:`os`: a command line that may use a store (`fsv verify`, `fsv decode`) asks here first and imports
:mod:`fsf.store` only when one is named or found, so that no store costs nothing at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

DEFAULT_FOLDER = ".fsf"
"""The folder name a store is found by (in the working folder or its nearest parent), as git finds ``.git``."""
ENV = "FSF_STORE"
"""The environment variable that names a store."""


def locate_store(path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None,
                 cwd: str | os.PathLike[str] | None = None) -> str | None:
    """Where the store is: ``path``, else ``$FSF_STORE``, else the nearest ``.fsf`` folder from ``cwd`` (resolved)
    up; None if there is none."""
    if path is not None:
        return os.fspath(path)
    env = os.environ if env is None else env
    if env.get(ENV):
        return env[ENV]
    here = os.path.realpath(os.fspath(cwd) if cwd is not None else os.getcwd())
    while True:
        candidate = os.path.join(here, DEFAULT_FOLDER)
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
