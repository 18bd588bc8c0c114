"""Benchmark, the floor: raw ``msgpack.packb``/``unpackb`` of the positional lists -> pytest-benchmark timings.

No validation and no canonical check: this is the byte work FSV cannot avoid, so every FSV figure is also quoted
as a multiple of it. ``verify`` here is the naive canonical check (re-pack and compare) and ``content id`` is
BLAKE3 over the bytes alone.
"""

from __future__ import annotations

from typing import Any

import blake3
import msgpack
import pytest

import fsf
from benchmarks.harness import label
from benchmarks.workload import SIZES, positional

CONTENDER = "msgpack"


def _unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, strict_map_key=False)


def _repack_equal(data: bytes) -> bool:
    return bool(msgpack.packb(msgpack.unpackb(data, strict_map_key=False)) == data)


def _hash(data: bytes) -> str:
    return "blake3:" + blake3.blake3(data).hexdigest()


@pytest.mark.parametrize("size", SIZES)
def test_msgpack_encode(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    value = positional(forge_schema.ir, "ForgePlan", plans[size])
    label(benchmark, "encode", size, CONTENDER)
    data = benchmark(msgpack.packb, value)
    assert _unpack(data) == value


@pytest.mark.parametrize("size", SIZES)
def test_msgpack_decode(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    value = positional(forge_schema.ir, "ForgePlan", plans[size])
    label(benchmark, "decode", size, CONTENDER)
    assert benchmark(_unpack, msgpack.packb(value)) == value


@pytest.mark.parametrize("size", SIZES)
def test_msgpack_verify(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    data = msgpack.packb(positional(forge_schema.ir, "ForgePlan", plans[size]))
    label(benchmark, "verify", size, CONTENDER)
    assert benchmark(_repack_equal, data)


@pytest.mark.parametrize("size", SIZES)
def test_msgpack_content_id(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    data = msgpack.packb(positional(forge_schema.ir, "ForgePlan", plans[size]))
    label(benchmark, "content id", size, CONTENDER)
    assert benchmark(_hash, data).startswith("blake3:")


def test_msgpack_encode_every(benchmark: Any, every_schema: fsf.Schema, every: dict[str, Any]) -> None:
    value = positional(every_schema.ir, "Every", every)
    label(benchmark, "encode", "every", CONTENDER)
    data = benchmark(msgpack.packb, value)
    assert _unpack(data) == value


def test_msgpack_decode_every(benchmark: Any, every_schema: fsf.Schema, every: dict[str, Any]) -> None:
    value = positional(every_schema.ir, "Every", every)
    label(benchmark, "decode", "every", CONTENDER)
    assert benchmark(_unpack, msgpack.packb(value)) == value
