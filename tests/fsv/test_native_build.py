"""The native build (hatch_build.py): fsf/fsv/_native.c -> a fresh fsf.fsv._native, and wheels without it (skip: -m "not slow")."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WARNING_END = "); fsf will run without it"


def test_the_native_module_is_built_from_the_current_source() -> None:
    try:
        native = importlib.import_module("fsf.fsv._native")
    except ImportError as error:
        if os.environ.get("FSF_REQUIRE_NATIVE") == "1":
            pytest.fail(f"FSF_REQUIRE_NATIVE=1 but fsf.fsv._native does not import ({error}): run `pip install -e .`")
        pytest.skip(f"fsf.fsv._native is not built ({error}): the pure-Python install")
    # hatch_build.source_digest: the C source, then the header it includes (generated from fsf/fsv/format.py).
    source = hashlib.sha256(b"".join((ROOT / "fsf" / "fsv" / name).read_bytes()
                                     for name in ("_native.c", "_format.h"))).hexdigest()
    assert native.SOURCE_DIGEST == source, (
        f"fsf.fsv._native ({native.__file__}) was built from another fsf/fsv/_native.c or _format.h "
        f"(digest {native.SOURCE_DIGEST!r}, the source is {source!r}): a stale build, re-run `pip install -e .`"
    )


def build_wheel(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[Path]]:
    """Build a wheel of this checkout with `env` added to a copy of the environment without the FSF_* build flags."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    dist = tmp_path / "dist"
    # With the build backend and the hook's setuptools already installed, build offline; otherwise `build` fetches
    # them into an isolated environment.
    have_backend = all(importlib.util.find_spec(name) for name in ("hatchling", "setuptools"))
    offline = ["--no-isolation"] if have_backend else []
    environ = {k: v for k, v in os.environ.items() if k not in ("FSF_REQUIRE_NATIVE", "FSF_NO_NATIVE_BUILD")}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", *offline, "--outdir", str(dist), str(ROOT)],
        cwd=tmp_path, env={**environ, **env}, capture_output=True, text=True, check=False, timeout=600,
    )
    return done, sorted(dist.glob("*.whl"))


def assert_pure(wheel: Path) -> None:
    assert wheel.name == "fsf-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "Root-Is-Purelib: true" in archive.read("fsf-0.1.0.dist-info/WHEEL").decode().splitlines()
    assert "fsf/fsv/_native.c" in names and "fsf/fsv/_format.h" in names
    assert [n for n in names if n.startswith("fsf/fsv/_native") and n.endswith((".so", ".pyd"))] == []


def warnings_of(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.strip() for line in (done.stdout + done.stderr).splitlines() if "fsf.fsv._native not built" in line]


@pytest.mark.slow
def test_fsf_no_native_build_gives_a_pure_wheel(tmp_path: Path) -> None:
    done, wheels = build_wheel(tmp_path, FSF_NO_NATIVE_BUILD="1")
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = wheels
    assert_pure(wheel)
    assert warnings_of(done) == [f"warning: fsf.fsv._native not built (FSF_NO_NATIVE_BUILD=1 is set{WARNING_END}"]


@pytest.mark.skipif(os.name != "posix", reason="setuptools reads CC only for the Unix compiler")
@pytest.mark.slow
def test_a_missing_compiler_gives_a_pure_wheel_unless_native_is_required(tmp_path: Path) -> None:
    compiler = str(tmp_path / "no-such-cc")
    done, wheels = build_wheel(tmp_path / "fallback", CC=compiler)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = wheels
    assert_pure(wheel)
    # The reason is setuptools' words for the failed spawn; they name the compiler it tried.
    (warning,) = warnings_of(done)
    assert warning.startswith("warning: fsf.fsv._native not built (") and warning.endswith(WARNING_END), warning
    assert compiler in warning

    done, wheels = build_wheel(tmp_path / "required", CC=compiler, FSF_REQUIRE_NATIVE="1")
    assert done.returncode != 0 and wheels == [], done.stdout + done.stderr
    # The exception's line; its prefix (the hook's module as hatchling loads it) is hatchling's business.
    message = "NativeBuildFailed: fsf.fsv._native could not be built and FSF_REQUIRE_NATIVE=1 is set: "
    (failure,) = [line for line in done.stderr.splitlines() if message in line]
    assert compiler in failure.partition(message)[2], failure
