"""CLI `fsf`: the command line -> the one command it names (a thin dispatcher: each command's module is imported
only when that command runs; `python -m fsf` runs this too).

The commands: :mod:`fsf.cli.schemas` (check, compile, disasm, fmt, codegen), :mod:`fsf.cli.breaking`,
:mod:`fsf.cli.store` and :mod:`fsf.cli.history` (the store group). ``app`` is the whole app, for tests.
"""

from __future__ import annotations

from typing import Any

from fsf.cli.common import Group
from fsf.cli.dispatch import run

FSF = Group("FSF schemas: check, compile, disassemble and format .fsf files.", {
    "check": "fsf.cli.schemas:check",
    "compile": "fsf.cli.schemas:compile_",
    "disasm": "fsf.cli.schemas:disasm",
    "fmt": "fsf.cli.schemas:fmt_",
    "codegen": "fsf.cli.schemas:codegen",
    "breaking": "fsf.cli.breaking:breaking",
    "store": Group("The store: values by content id and the schemas they were written with (docs/store.md).", {
        "init": "fsf.cli.store:init",
        "add": "fsf.cli.store:add",
        "ls": "fsf.cli.store:ls",
        "show": "fsf.cli.store:show",
        "verify": "fsf.cli.store:verify_store",
        "import-history": "fsf.cli.history:import_history",
    }),
})


def main() -> None:
    """Entry point of the `fsf` console script."""
    run("fsf", FSF)


def __getattr__(name: str) -> Any:
    if name == "app":  # every command, imported now
        from fsf.cli.app import make_app

        return make_app(FSF, tool="fsf")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    main()
