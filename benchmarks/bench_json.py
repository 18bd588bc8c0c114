"""Benchmark, stdlib json: ``json.dumps``/``json.loads`` of the dict form, no validation -> pytest-benchmark timings.

The codec everybody has. It checks nothing, so it is a reference point, not a peer for the targets.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.harness import label
from benchmarks.workload import SIZES

CONTENDER = "json"


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("size", SIZES)
def test_json_encode(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    label(benchmark, "encode", size, CONTENDER)
    assert json.loads(benchmark(_encode, plans[size])) == plans[size]


@pytest.mark.parametrize("size", SIZES)
def test_json_decode(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    data = _encode(plans[size])
    label(benchmark, "decode", size, CONTENDER)
    assert benchmark(json.loads, data) == plans[size]
