"""CLI `fsv git install [--global] [--uninstall]`: .fsv files in git -> a `.gitattributes` line and the git config
of the `fsv` diff driver (textconv: `fsv show --textconv`) and merge drivers (`fsv merge`), or their removal.

Thin: git is run as a subprocess with an argument list (never a shell); the attribute line is added as the
attributes file's first line (so the file's own, later lines override it) or removed, other bytes untouched.
Exit 0 ok, 1 when git fails or is missing, 2 for a wrong command line. ``docs/git.md``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fsf.cli.common import (
    Lazy,
    echo,
    fail,
)

if TYPE_CHECKING:
    import typer
else:  # a name for typer to read in the signatures: not imported unless typer runs (fsf.cli.common.Lazy)
    typer = Lazy("typer")

ATTRIBUTES = "*.fsv diff=fsv merge=fsv -text"
"""The line that gives every .fsv file the `fsv` diff and merge drivers (and no end-of-line conversion)."""

SECTIONS = ("diff.fsv", "merge.fsv", "merge.fsv-append-only")
"""The config sections install writes; uninstall removes each one it leaves empty."""


def fsv_command() -> str:
    """The command that runs this `fsv`, whatever PATH holds when git runs it: this interpreter with ``-m
    fsf.cli.fsv_tool`` (``-P`` from Python 3.11 on, so a folder named ``fsf`` in the repository cannot shadow
    the package), quoted for the shell git runs it with."""
    if not sys.executable:
        return "fsv"
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    return shlex.join([sys.executable, *safe_path, "-m", "fsf.cli.fsv_tool"])


def config_entries(command: str) -> tuple[tuple[str, str], ...]:
    """The git config keys and values install writes, for the `fsv` command ``command``."""
    return (
        ("diff.fsv.textconv", f"{command} show --textconv"),
        ("diff.fsv.cachetextconv", "true"),
        ("merge.fsv.name", "FSV structural merge"),
        ("merge.fsv.driver", f"{command} merge %O %A %B -o %A"),
        ("merge.fsv-append-only.name", "FSV append-only merge"),
        ("merge.fsv-append-only.driver", f"{command} merge --append-only %O %A %B -o %A"),
    )


def _git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        fail("error: git is not installed (no `git` on PATH)")
    if check and done.returncode != 0:
        fail(f"error: `git {shlex.join(args)}` failed: {done.stderr.strip() or f'exit {done.returncode}'}")
    return done


def _attributes_file(scope: str) -> Path:
    """The attributes file of ``scope``: the work tree's top `.gitattributes`, or git's global one
    (``core.attributesFile``, else ``$XDG_CONFIG_HOME/git/attributes``, else ``~/.config/git/attributes``)."""
    if scope == "--local":
        top = _git("rev-parse", "--show-toplevel", check=False)
        if top.returncode != 0:
            fail("error: not inside a git work tree; run this in one, or use --global")
        return Path(top.stdout.rstrip("\n")) / ".gitattributes"
    configured = _git("config", "--path", "--get", "core.attributesFile", check=False).stdout.rstrip("\n")
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "git" / "attributes"


def _lines(path: Path) -> list[str]:
    """The file's lines with their ends, bytes kept as they are (an absent file has none)."""
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape").splitlines(keepends=True)
    except FileNotFoundError:
        return []


def _ours(line: str) -> bool:
    return line.rstrip("\r\n") == ATTRIBUTES


def _add_attributes(path: Path) -> str:
    from fsf.load import write_atomic

    lines = _lines(path)
    if any(_ours(line) for line in lines):
        return f"unchanged  {path}: {ATTRIBUTES}"
    # First: a later line overrides an earlier one, so the file's own lines (`audit/*.fsv merge=…`) still win.
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (ATTRIBUTES + "\n" + "".join(lines)).encode("utf-8", "surrogateescape"))
    return f"added      {path}: {ATTRIBUTES}"


def _remove_attributes(path: Path) -> str:
    from fsf.load import write_atomic

    lines = _lines(path)
    kept = [line for line in lines if not _ours(line)]
    if len(kept) == len(lines):
        return f"unchanged  {path}: no `{ATTRIBUTES}`"
    if kept:
        write_atomic(path, "".join(kept).encode("utf-8", "surrogateescape"))
    else:
        path.unlink()  # it held only our line: install made it
    return f"removed    {path}: {ATTRIBUTES}"


def install(
    global_: Annotated[bool, typer.Option(
        "--global", help="Git's global attributes file and config instead of this repository's.")] = False,
    uninstall: Annotated[bool, typer.Option(
        "--uninstall", help="Remove exactly what install writes (other lines and config untouched).")] = False,
) -> None:
    """Make git diff .fsv files as text (`fsv show --textconv`) and merge them with `fsv merge`: the line
    `*.fsv diff=fsv merge=fsv -text` in .gitattributes, the drivers `fsv` and `fsv-append-only` in the git config
    (idempotent).

    \b
    Example:
      fsv git install
    """
    scope = "--global" if global_ else "--local"
    attributes = _attributes_file(scope)
    if uninstall:
        echo(_remove_attributes(attributes))
        for key, _ in config_entries(fsv_command()):
            if _git("config", scope, "--unset-all", key, check=False).returncode == 0:
                echo(f"unset      {key}")
        for section in SECTIONS:
            left = _git("config", scope, "--get-regexp", "^" + section.replace(".", r"\.") + r"\.", check=False)
            if not left.stdout:
                _git("config", scope, "--remove-section", section, check=False)
        return
    echo(_add_attributes(attributes))
    for key, value in config_entries(fsv_command()):
        current = _git("config", scope, "--get", key, check=False)
        if current.returncode == 0 and current.stdout.rstrip("\n") == value:
            echo(f"unchanged  {key} = {value}")
            continue
        _git("config", scope, key, value)
        echo(f"set        {key} = {value}")
