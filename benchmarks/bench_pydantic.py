"""Benchmark, pydantic v2 (+ msgpack): strict models with the ForgePlan bounds -> pytest-benchmark timings.

pydantic has no positional form, so its bytes are msgpack of the dict form (field names on the wire).
``decode`` is ``unpackb`` + ``model_validate``, ``encode`` is ``model_validate`` + ``model_dump`` + ``packb``,
``validate`` is ``model_validate`` alone.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgpack
import pytest

try:
    import pydantic
except ImportError:
    pytest.skip("pydantic is not installed (pip install -e '.[bench]')", allow_module_level=True)

from benchmarks.harness import label
from benchmarks.workload import SIZES

if not pydantic.VERSION.startswith("2"):
    pytest.skip(f"pydantic v2 is needed, found {pydantic.VERSION}", allow_module_level=True)

from pydantic import BaseModel, ConfigDict, Field

CONTENDER = "pydantic"
_CONFIG = ConfigDict(extra="forbid", strict=True)


class ForgeTask(BaseModel):
    model_config = _CONFIG
    id: str
    title: str
    status: str
    category: str
    dependsOn: Annotated[list[str], Field(max_length=128)]
    files: Annotated[list[str], Field(max_length=256)]
    description: str


class ForgeBatch(BaseModel):
    model_config = _CONFIG
    id: str
    taskIds: Annotated[list[str], Field(max_length=128)]
    strategy: str
    worktreeRef: str


class ForgePlan(BaseModel):
    model_config = _CONFIG
    sessionId: str
    title: str
    tasks: Annotated[list[ForgeTask], Field(max_length=512)]
    batches: Annotated[list[ForgeBatch], Field(max_length=256)]


def _encode(value: dict[str, Any]) -> bytes:
    return bytes(msgpack.packb(ForgePlan.model_validate(value).model_dump()))


def _decode(data: bytes) -> ForgePlan:
    return ForgePlan.model_validate(msgpack.unpackb(data))


@pytest.mark.parametrize("size", SIZES)
def test_pydantic_encode(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    label(benchmark, "encode", size, CONTENDER)
    assert msgpack.unpackb(benchmark(_encode, plans[size])) == plans[size]


@pytest.mark.parametrize("size", SIZES)
def test_pydantic_decode(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    data = _encode(plans[size])
    label(benchmark, "decode", size, CONTENDER)
    assert benchmark(_decode, data).model_dump() == plans[size]


@pytest.mark.parametrize("size", SIZES)
def test_pydantic_validate(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    label(benchmark, "validate", size, CONTENDER)
    assert benchmark(ForgePlan.model_validate, plans[size]).sessionId == plans[size]["sessionId"]
