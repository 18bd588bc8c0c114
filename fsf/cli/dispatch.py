"""CLI, entry: the words after `fsf` or `fsv` -> the command they name, run by the fast path
(:mod:`fsf.cli.argspec`) when it can read them, else by the typer app (:mod:`fsf.cli.app`) with only that command
imported."""

from __future__ import annotations

import os
import sys

from fsf.cli import argspec
from fsf.cli.common import Group


def run(tool: str, group: Group) -> None:
    """The console script of ``tool``: the fast path when it serves this command line, else the typer app (which
    reads ``sys.argv`` itself: the program's name for its messages, wildcards expanded on Windows)."""
    call = argspec.parse(tool, sys.argv[1:], os.environ)
    if call is not None and argspec.serve(call):
        return
    from fsf.cli.app import make_app

    make_app(group, sys.argv[1:], tool=tool)()
