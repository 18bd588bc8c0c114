"""Build: `fsf/fsv/_native.c` -> the optional extension module `fsf.fsv._native`, compiled by a hatchling build hook.

A regular wheel carries the module and becomes platform-specific. An editable install imports the package from the
source tree, so there the module is placed next to its C source (git-ignored). If compiling fails (no compiler, no
Python headers) or `FSF_NO_NATIVE_BUILD=1`, the build warns on one line and yields the pure-Python package, unless
`FSF_REQUIRE_NATIVE=1`, which turns that into a build failure carrying the compiler's output. The module is built
with `FSF_NATIVE_SOURCE_DIGEST` = SHA-256 of its sources (the C file, then the header it includes, generated from
`fsf/fsv/format.py`), so a stale build can be told apart from a fresh one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODULE = "fsf.fsv._native"
SOURCE = Path("fsf") / "fsv" / "_native.c"
HEADERS = (Path("fsf") / "fsv" / "_format.h",)
"""What SOURCE includes from its own folder: part of the digest, and a dependency of the build."""


def source_digest(root: Path) -> str:
    """SHA-256 over the bytes of SOURCE followed by those of each of HEADERS (the module's SOURCE_DIGEST)."""
    digest = hashlib.sha256()
    for path in (SOURCE, *HEADERS):
        digest.update((root / path).read_bytes())
    return digest.hexdigest()


class NativeBuildFailed(RuntimeError):
    """The extension could not be compiled: why, in one line, then the compiler's output when there is one."""

    def __init__(self, summary: str, output: str = "") -> None:
        super().__init__(summary + (f"\n{output}" if output else ""))
        errors = [line.strip() for line in output.splitlines() if "error" in line.lower()]
        self.reason = errors[0] if errors else summary


def env_flag(name: str) -> bool:
    return os.environ.get(name) == "1"


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    # The compiler is a child process writing to file descriptors 1 and 2; redirecting the descriptors (not
    # sys.stdout) is what captures it, with any compiler the build machinery picks.
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    try:
        with log.open("wb") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


def compile_native(root: Path, work: Path) -> tuple[Path, str]:
    """Compile SOURCE of the tree at `root` into `work`; return the module file and the compiler's output (warnings, usually empty).

    setuptools' build_ext does the compiling: it knows each platform's compiler and flags (gcc/clang with the
    interpreter's release CFLAGS, macOS bundles, MSVC on Windows) and honours CC/CFLAGS/LDSHARED overrides.
    """
    log = work / "compiler.log"
    try:
        # Imported here: setuptools is a build requirement, but a missing one is one more reason to fall back.
        from setuptools import Distribution, Extension  # type: ignore[import-untyped]
        from setuptools.command.build_ext import build_ext  # type: ignore[import-untyped]

        digest = source_digest(root)
        extension = Extension(
            MODULE, sources=[str(root / SOURCE)], depends=[str(root / h) for h in HEADERS],
            define_macros=[("FSF_NATIVE_SOURCE_DIGEST", f'"{digest}"')],
        )
        command = build_ext(Distribution({"name": "fsf", "ext_modules": [extension]}))
        command.build_temp = str(work / "temp")
        command.build_lib = str(work / "lib")
        command.force = True
        command.ensure_finalized()
        with _output_to(log):
            command.run()
        built = Path(command.get_ext_fullpath(MODULE))
    except Exception as error:  # setuptools raises several unrelated types (CompileError, LinkError, OSError, …)
        output = log.read_text(errors="replace").strip() if log.exists() else ""
        raise NativeBuildFailed(f"{type(error).__name__}: {error}", output) from error
    return built, log.read_text(errors="replace").strip()


def replace_file(built: Path, destination: Path) -> None:
    # A running process may have the old module mapped: swap in a new file, never overwrite the old one in place.
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        shutil.copyfile(built, partial)
        shutil.copymode(built, partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)


class NativeBuildHook(BuildHookInterface[BuilderConfig]):
    PLUGIN_NAME = "custom"
    _work: Path | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        # The editable install imports from the source tree; this interpreter's module lives (or lingers) there.
        in_tree = root / "fsf" / "fsv" / f"_native{sysconfig.get_config_var('EXT_SUFFIX')}"
        work = Path(tempfile.mkdtemp(prefix="fsf-native-"))
        self._work = work
        try:
            if env_flag("FSF_NO_NATIVE_BUILD"):
                raise NativeBuildFailed("FSF_NO_NATIVE_BUILD=1 is set")
            built, warnings = compile_native(root, work)
        except NativeBuildFailed as failure:
            self._cleanup()
            if env_flag("FSF_REQUIRE_NATIVE"):
                raise NativeBuildFailed(
                    f"{MODULE} could not be built and FSF_REQUIRE_NATIVE=1 is set: {failure}"
                ) from None
            stale = version == "editable" and in_tree.exists()
            if stale:
                in_tree.unlink()
            self.app.display_warning(
                f"warning: {MODULE} not built ({failure.reason}); fsf will run without it"
                + (f" (removed the stale {in_tree.name})" if stale else "")
            )
            return
        if warnings:
            self.app.display_warning(warnings)
        if version == "editable":
            replace_file(built, in_tree)
            self._cleanup()
        else:
            build_data["force_include"][str(built)] = f"fsf/fsv/{built.name}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None
