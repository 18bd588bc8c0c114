"""Benchmark, fastavro: ``schemaless_writer``/``schemaless_reader`` with a parsed schema -> pytest-benchmark timings.

Avro checks types on write and read but has no length bounds, so it does less than FSV. ``decode`` returns
dicts (like FSV), ``encode`` writes from dicts, ``validate`` is ``fastavro.validation.validate``.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

try:
    import fastavro
except ImportError:
    pytest.skip("fastavro is not installed (pip install -e '.[bench]')", allow_module_level=True)

from fastavro.validation import validate

from benchmarks.harness import label
from benchmarks.workload import SIZES

CONTENDER = "fastavro"

_STRINGS = {"type": "array", "items": "string"}
_SCHEMA = fastavro.parse_schema({
    "type": "record",
    "name": "ForgePlan",
    "fields": [
        {"name": "sessionId", "type": "string"},
        {"name": "title", "type": "string"},
        {"name": "tasks", "type": {"type": "array", "items": {
            "type": "record",
            "name": "ForgeTask",
            "fields": [
                {"name": "id", "type": "string"},
                {"name": "title", "type": "string"},
                {"name": "status", "type": "string"},
                {"name": "category", "type": "string"},
                {"name": "dependsOn", "type": _STRINGS},
                {"name": "files", "type": _STRINGS},
                {"name": "description", "type": "string"},
            ],
        }}},
        {"name": "batches", "type": {"type": "array", "items": {
            "type": "record",
            "name": "ForgeBatch",
            "fields": [
                {"name": "id", "type": "string"},
                {"name": "taskIds", "type": _STRINGS},
                {"name": "strategy", "type": "string"},
                {"name": "worktreeRef", "type": "string"},
            ],
        }}},
    ],
})


def _encode(value: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, _SCHEMA, value)
    return out.getvalue()


def _decode(data: bytes) -> Any:
    return fastavro.schemaless_reader(io.BytesIO(data), _SCHEMA, None)


def _validate(value: dict[str, Any]) -> bool:
    return bool(validate(value, _SCHEMA, raise_errors=True))


@pytest.mark.parametrize("size", SIZES)
def test_fastavro_encode(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    label(benchmark, "encode", size, CONTENDER)
    assert _decode(benchmark(_encode, plans[size])) == plans[size]


@pytest.mark.parametrize("size", SIZES)
def test_fastavro_decode(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    data = _encode(plans[size])
    label(benchmark, "decode", size, CONTENDER)
    assert benchmark(_decode, data) == plans[size]


@pytest.mark.parametrize("size", SIZES)
def test_fastavro_validate(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    label(benchmark, "validate", size, CONTENDER)
    assert benchmark(_validate, plans[size])
