"""The built wheel: install it into a fresh virtual environment, import fsf.fsv._native and run `fsf compile` and
`python -m fsf --version` there; the wheel carries the LICENSE (skip: -m "not slow")."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import fsf

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow
def test_the_wheel_installs_and_compiles_forge_plan(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # With the build backend (and the native build hook's setuptools) already installed, build offline; otherwise
    # `build` fetches them into an isolated env.
    offline = ["--no-isolation"] if all(importlib.util.find_spec(n) for n in ("hatchling", "setuptools")) else []
    run([sys.executable, "-m", "build", "--wheel", *offline, "--outdir", str(dist), str(ROOT)], tmp_path)
    (wheel,) = dist.glob("fsf-*.whl")
    # The native module, when built (it must be under FSF_REQUIRE_NATIVE=1), makes the wheel platform-specific.
    with zipfile.ZipFile(wheel) as archive:
        native = [n for n in archive.namelist() if n.startswith("fsf/fsv/_native") and n.endswith((".so", ".pyd"))]
        c_source = archive.read("fsf/fsv/_native.c") + archive.read("fsf/fsv/_format.h")  # hatch_build.source_digest
        # The MIT license text, in the wheel's metadata folder (hatchling finds LICENSE by its name).
        licenses = [n for n in archive.namelist() if ".dist-info/" in n and n.endswith("/LICENSE")]
        assert licenses and archive.read(licenses[0]) == (ROOT / "LICENSE").read_bytes(), archive.namelist()
    built = bool(native) or os.environ.get("FSF_REQUIRE_NATIVE") == "1"
    assert native == ([f"fsf/fsv/_native{sysconfig.get_config_var('EXT_SUFFIX')}"] if built else []), native
    assert wheel.name.endswith("-py3-none-any.whl") != built, wheel.name
    env = tmp_path / "venv"
    # An isolated environment: one made with system_site_packages from inside a virtual environment would see the
    # base interpreter's packages, not this one's. Its pip installs the wheel and resolves the dependencies from
    # the index this environment was installed from (pip's configuration and PIP_* variables are inherited), so
    # the wheel's metadata is tested too, and the wheel, not this checkout, provides fsf.
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    source = work / "forge-plan.fsf"
    source.write_text((ROOT / "shapes" / "forge-plan.fsf").read_text())
    where = run([str(python), "-c", "import blake3, fsf, fsf._resources as r; print(fsf.__file__); "
                 "print(r.resource_dir('grammar')); print(blake3.__file__)"], work).stdout.splitlines()
    assert all(line.startswith(str(env)) for line in where), where
    if built:
        file, digest = run([str(python), "-c", "import fsf.fsv._native as n; print(n.__file__); print(n.SOURCE_DIGEST)"],
                           work).stdout.split()
        assert file.startswith(str(env)), file
        assert digest == hashlib.sha256(c_source).hexdigest()
    version = run([str(python), "-m", "fsf", "--version"], work).stdout
    assert version == f"fsf {importlib.metadata.version('fsf')}\n"
    done = run([str(env / "bin" / "fsf"), "compile", "forge-plan.fsf"], work)
    expected = fsf.load_schema(ROOT / "shapes" / "forge-plan.fsf")
    assert done.stdout == "".join(f"{n} {expected.id(n)}\n" for n in expected.shapes)
    compiled = fsf.load_schema(work / "forge-plan.fsb")
    assert compiled.ir == expected.ir and compiled.program == expected.program
