"""Benchmark, FSV: every operation of the embedded API on the seeded workloads -> pytest-benchmark timings.

Operations: ``encode`` (validating dicts), ``decode`` (bytes -> validated dicts), ``validate`` (dicts only),
``verify`` (the strict canonical check), ``content id``, ``render`` (Markdown), ``compile`` of
``shapes/forge-plan.fsf`` in a warm process, and ``import+load`` (a fresh interpreter importing ``fsf`` and
loading a ``.fsb``). Encode and decode run on the default path (``fsv``: the native codec when it is built)
and on the pure-Python path (``fsv-py``). A part of FSF that has not landed yet makes its
benchmarks skip with the reason.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import fsf
from benchmarks.harness import label, need_attr, probe
from benchmarks.workload import FORGE_PLAN_FSF, SIZES, positional

CONTENDER = "fsv"
_IMPORT_LOAD = (
    "import sys, time\n"
    "t, c = time.perf_counter(), time.process_time()\n"
    "import fsf\n"
    "fsf.load_schema(sys.argv[1])\n"
    "print(time.perf_counter() - t, time.process_time() - c, time.process_time(), 'lark' in sys.modules)\n"
)
_STARTUP = "import time; print(time.process_time())"


def _codec(schema: fsf.Schema) -> None:
    need_attr(schema, "encode", "The FSV codec (`Schema.encode`)")
    need_attr(schema, "decode", "The FSV codec (`Schema.decode`)")


PATHS = ("default", "pure")
"""``default``: what ``Schema.encode``/``decode`` run (the native codec when it is built); ``pure``: the
pure-Python path (``fsv-py``), asked for through ``fsf.fsv.codec``'s ``path`` argument."""
_CONTENDERS = {"default": CONTENDER, "pure": "fsv-py"}


def _contender(path: str) -> str:
    return _CONTENDERS[path]


def _codec_kwargs(path: str, fn: str) -> dict[str, Any]:
    """Keyword arguments for ``fsf.fsv.codec.<fn>`` that select ``path``, or skip if the codec cannot select it."""
    if path == "default":
        return {}
    import fsf.fsv.codec

    if "path" not in inspect.signature(getattr(fsf.fsv.codec, fn)).parameters:
        pytest.skip(f"`fsf.fsv.codec.{fn}` cannot select an execution path yet (no `path` argument)")
    return {"path": path}


def _encoder(schema: fsf.Schema, path: str) -> Callable[[str, Any], bytes]:
    _codec(schema)
    if path == "default":
        return schema.encode
    import fsf.fsv.codec

    kwargs = _codec_kwargs(path, "encode")
    return lambda name, value: fsf.fsv.codec.encode(schema, name, value, **kwargs)


def _decoder(schema: fsf.Schema, path: str, canonical: bool = True) -> Callable[[bytes, str], Any]:
    """Decode by ``path``, with or without the canonical (byte-for-byte) check."""
    _codec(schema)
    import fsf.fsv.codec

    kwargs = _codec_kwargs(path, "decode")
    if not canonical:
        params = inspect.signature(fsf.fsv.codec.decode).parameters
        if "canonical" in params:
            kwargs["canonical"] = False
        elif "strict" in params:
            kwargs["strict"] = False
        else:
            pytest.skip("the codec cannot skip its canonical check yet (no `canonical` argument)")
    if not kwargs:
        return schema.decode
    return lambda data, name: fsf.fsv.codec.decode(schema, data, name, **kwargs)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", SIZES)
def test_fsv_encode(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int, path: str) -> None:
    encode = _encoder(forge_schema, path)
    probe("FSV encode", encode, "ForgePlan", plans[size])
    label(benchmark, "encode", size, _contender(path))
    data = benchmark(encode, "ForgePlan", plans[size])
    assert forge_schema.decode(data, "ForgePlan") == plans[size]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", SIZES)
def test_fsv_decode(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int, path: str) -> None:
    decode = _decoder(forge_schema, path)
    data = probe("FSV encode", forge_schema.encode, "ForgePlan", plans[size])
    probe("FSV decode", decode, data, "ForgePlan")
    label(benchmark, "decode", size, _contender(path))
    assert benchmark(decode, data, "ForgePlan") == plans[size]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("size", SIZES)
def test_fsv_decode_lenient(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int,
                            path: str) -> None:
    decode = _decoder(forge_schema, path, canonical=False)
    data = probe("FSV encode", forge_schema.encode, "ForgePlan", plans[size])
    probe("FSV decode", decode, data, "ForgePlan")
    label(benchmark, "decode (no canonical check)", size, _contender(path))
    assert benchmark(decode, data, "ForgePlan") == plans[size]


@pytest.mark.parametrize("size", SIZES)
def test_fsv_verify(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    need_attr(forge_schema, "verify", "A verify-only API (`decode` is the strict check: see its row)")
    verify: Any = forge_schema.verify  # type: ignore[attr-defined]
    data = probe("FSV encode", forge_schema.encode, "ForgePlan", plans[size])
    label(benchmark, "verify", size, CONTENDER)
    benchmark(verify, data)


@pytest.mark.parametrize("size", SIZES)
def test_fsv_validate(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    probe("FSV validate", forge_schema.validate, "ForgePlan", plans[size])
    label(benchmark, "validate", size, CONTENDER)
    assert benchmark(forge_schema.validate, "ForgePlan", plans[size]) is None


@pytest.mark.parametrize("size", SIZES)
def test_fsv_content_id(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    _codec(forge_schema)
    need_attr(fsf, "content_id", "`fsf.content_id`")
    data = probe("FSV encode", forge_schema.encode, "ForgePlan", plans[size])
    label(benchmark, "content id", size, CONTENDER)
    assert benchmark(fsf.content_id, data).startswith("blake3:")


@pytest.mark.parametrize("size", SIZES)
def test_fsv_render(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    _codec(forge_schema)
    need_attr(fsf, "render_markdown", "`fsf.render_markdown` (views)")
    data = probe("FSV encode", forge_schema.encode, "ForgePlan", plans[size])
    probe("FSV render", fsf.render_markdown, forge_schema, data)
    label(benchmark, "render", size, CONTENDER)
    text = benchmark(fsf.render_markdown, forge_schema, data)
    assert plans[size]["tasks"][-1]["id"] in text


@pytest.fixture(scope="module")
def generated(forge_schema: fsf.Schema, tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The Python module ``fsf codegen --target python`` writes for ``shapes/forge-plan.fsf``, imported."""
    try:
        from fsf import codegen
    except ImportError as err:
        pytest.skip(f"code generation has not landed yet: {err}")
    path = tmp_path_factory.mktemp("generated") / "forge_plan_generated.py"
    path.write_text(codegen(forge_schema, "python"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # attrs and typing resolve the classes' annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("size", SIZES)
def test_fsv_encode_objects(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], generated: ModuleType,
                            size: int) -> None:
    data = probe("FSV encode", forge_schema.encode, "ForgePlan", plans[size])
    objects = probe("FSV decode into generated classes", lambda: forge_schema.decode(data, "ForgePlan",
                                                                                      into=generated))
    label(benchmark, "encode (generated classes)", size, CONTENDER)
    assert benchmark(forge_schema.encode, "ForgePlan", objects) == data


@pytest.mark.parametrize("size", SIZES)
def test_fsv_decode_objects(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], generated: ModuleType,
                            size: int) -> None:
    data = probe("FSV encode", forge_schema.encode, "ForgePlan", plans[size])
    probe("FSV decode into generated classes", lambda: forge_schema.decode(data, "ForgePlan", into=generated))
    label(benchmark, "decode (generated classes)", size, CONTENDER)
    objects = benchmark(lambda: forge_schema.decode(data, "ForgePlan", into=generated))
    assert isinstance(objects, generated.ForgePlan)


@pytest.mark.parametrize("path", PATHS)
def test_fsv_encode_every(benchmark: Any, every_schema: fsf.Schema, every: dict[str, Any], path: str) -> None:
    encode = _encoder(every_schema, path)
    probe("FSV encode", encode, "Every", every)
    label(benchmark, "encode", "every", _contender(path))
    data = benchmark(encode, "Every", every)
    assert positional(every_schema.ir, "Every", every_schema.decode(data, "Every")) == positional(
        every_schema.ir, "Every", every)


@pytest.mark.parametrize("path", PATHS)
def test_fsv_decode_every(benchmark: Any, every_schema: fsf.Schema, every: dict[str, Any], path: str) -> None:
    decode = _decoder(every_schema, path)
    data = probe("FSV encode", every_schema.encode, "Every", every)
    probe("FSV decode", decode, data, "Every")
    label(benchmark, "decode", "every", _contender(path))
    value = benchmark(decode, data, "Every")
    assert positional(every_schema.ir, "Every", value) == positional(every_schema.ir, "Every", every)


def test_fsv_validate_every(benchmark: Any, every_schema: fsf.Schema, every: dict[str, Any]) -> None:
    probe("FSV validate", every_schema.validate, "Every", every)
    label(benchmark, "validate", "every", CONTENDER)
    assert benchmark(every_schema.validate, "Every", every) is None


def test_fsv_parse_check(benchmark: Any) -> None:
    text = FORGE_PLAN_FSF.read_text(encoding="utf-8")
    fsf.compile_source(text, str(FORGE_PLAN_FSF))  # warm: the Lark parser is built once per process
    label(benchmark, "parse+check", "forge-plan.fsf", CONTENDER)
    assert "ForgePlan" in benchmark(fsf.compile_source, text, str(FORGE_PLAN_FSF)).shapes


def test_fsv_compile(benchmark: Any) -> None:
    text = FORGE_PLAN_FSF.read_text(encoding="utf-8")

    def compile_plan() -> Any:
        return fsf.compile_source(text, str(FORGE_PLAN_FSF)).program

    probe("compile", compile_plan)  # warm: the Lark parser is built once per process
    label(benchmark, "compile", "forge-plan.fsf", CONTENDER)
    assert benchmark(compile_plan) is not None


def test_fsv_import_load_fsb(benchmark: Any, tmp_path: Path) -> None:
    """A fresh interpreter imports fsf and loads a .fsb.

    The child measures itself (``extra_info``): the benchmark's own timer may be the parent's CPU time, which
    does not see a child process.
    """
    fsb = tmp_path / "forge-plan.fsb"
    made = subprocess.run([sys.executable, "-c", "from fsf.cli.fsf_tool import main; main()", "compile", str(FORGE_PLAN_FSF),
                           "-o", str(fsb)], capture_output=True, text=True, check=False)
    if made.returncode != 0 or not fsb.exists():
        why = " ".join(re.sub(r"[─│╭╮╰╯]", " ", made.stderr or made.stdout).split())
        pytest.skip(f"`fsf compile` cannot write a .fsb yet: {why[-200:]}")
    runs: list[list[str]] = []

    def import_and_load() -> None:
        runs.append(subprocess.run([sys.executable, "-c", _IMPORT_LOAD, str(fsb)], capture_output=True, text=True,
                                   check=True).stdout.split())

    label(benchmark, "import+load .fsb", "forge-plan.fsb", CONTENDER)
    benchmark.pedantic(import_and_load, rounds=15, warmup_rounds=1)
    benchmark.extra_info.update(
        in_process_wall_s=statistics.median(float(r[0]) for r in runs),
        in_process_cpu_s=statistics.median(float(r[1]) for r in runs),
        process_cpu_s=statistics.median(float(r[2]) for r in runs),
        lark_imported=any(r[3] == "True" for r in runs),
    )


def test_python_startup(benchmark: Any) -> None:
    """The same fresh interpreter doing nothing: the part of ``import+load`` that is not FSF's."""
    runs: list[float] = []

    def start() -> None:
        runs.append(float(subprocess.run([sys.executable, "-c", _STARTUP], capture_output=True, text=True,
                                         check=True).stdout))

    label(benchmark, "import+load .fsb", "forge-plan.fsb", "python -c pass")
    benchmark.pedantic(start, rounds=15, warmup_rounds=1)
    benchmark.extra_info.update(process_cpu_s=statistics.median(runs))
