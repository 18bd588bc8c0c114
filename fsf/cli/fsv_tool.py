"""CLI `fsv`: the command line -> the one command it names (a thin dispatcher: each command's module is imported
only when that command runs).

The commands: :mod:`fsf.cli.values` (encode, decode, hash, inspect, verify), :mod:`fsf.cli.render`,
:mod:`fsf.cli.show`, :mod:`fsf.cli.store` (put, get, log, refs), :mod:`fsf.cli.evolve` (upgrade),
:mod:`fsf.cli.merge` and :mod:`fsf.cli.git` (the git group). ``app`` is the whole app, for tests.
"""

from __future__ import annotations

from typing import Any

from fsf.cli.common import Group
from fsf.cli.dispatch import run

FSV = Group("FSV values: encode JSON to canonical .fsv bytes, decode, hash, inspect and verify them.", {
    "encode": "fsf.cli.values:encode",
    "decode": "fsf.cli.values:decode",
    "hash": "fsf.cli.values:hash_",
    "inspect": "fsf.cli.values:inspect",
    "verify": "fsf.cli.values:verify",
    "render": "fsf.cli.render:render",
    "show": "fsf.cli.show:show",
    "put": "fsf.cli.store:put",
    "get": "fsf.cli.store:get",
    "log": "fsf.cli.store:log",
    "refs": "fsf.cli.store:refs",
    "upgrade": "fsf.cli.evolve:upgrade",
    "merge": "fsf.cli.merge:merge",
    "git": Group("Git integration: readable diffs of .fsv files and their structural merge (docs/git.md).", {
        "install": "fsf.cli.git:install",
    }),
})


def main() -> None:
    """Entry point of the `fsv` console script."""
    run("fsv", FSV)


def __getattr__(name: str) -> Any:
    if name == "app":  # every command, imported now
        from fsf.cli.app import make_app

        return make_app(FSV, tool="fsv")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
