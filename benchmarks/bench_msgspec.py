"""Benchmark, msgspec: ``array_like`` Structs with the ForgePlan bounds (``Meta``) -> pytest-benchmark timings.

The fastest schema-checked peer. Its wire form is the same positional msgpack as FSV's payload. ``decode`` is
``Decoder(ForgePlan).decode`` of those bytes (-> validated Structs). ``convert`` cannot build ``array_like``
Structs from dicts, so ``encode`` is ``convert`` into the same Structs keyed by field name (same bounds) +
``Encoder.encode`` (field names on the wire), and ``validate`` is that ``convert`` alone.
"""

# No `from __future__ import annotations`: msgspec resolves the annotations of the Structs built in a function.
from typing import Annotated, Any

import msgpack
import pytest

try:
    import msgspec
except ImportError:
    pytest.skip("msgspec is not installed (pip install -e '.[bench]')", allow_module_level=True)

import fsf
from benchmarks.harness import label
from benchmarks.workload import SIZES, positional

CONTENDER = "msgspec"


def _plan_type(array_like: bool) -> Any:
    """The ForgePlan Struct family, positional (``array_like``) or keyed by field name."""

    class ForgeTask(msgspec.Struct, array_like=array_like, forbid_unknown_fields=True):
        id: str
        title: str
        status: str
        category: str
        dependsOn: Annotated[list[str], msgspec.Meta(max_length=128)]
        files: Annotated[list[str], msgspec.Meta(max_length=256)]
        description: str

    class ForgeBatch(msgspec.Struct, array_like=array_like, forbid_unknown_fields=True):
        id: str
        taskIds: Annotated[list[str], msgspec.Meta(max_length=128)]
        strategy: str
        worktreeRef: str

    class ForgePlan(msgspec.Struct, array_like=array_like, forbid_unknown_fields=True):
        sessionId: str
        title: str
        tasks: Annotated[list[ForgeTask], msgspec.Meta(max_length=512)]
        batches: Annotated[list[ForgeBatch], msgspec.Meta(max_length=256)]

    return ForgePlan


POSITIONAL = _plan_type(array_like=True)
KEYED = _plan_type(array_like=False)
_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(POSITIONAL)


def _convert(value: dict[str, Any]) -> Any:
    return msgspec.convert(value, KEYED)


def _encode(value: dict[str, Any]) -> bytes:
    return _ENCODER.encode(msgspec.convert(value, KEYED))


@pytest.mark.parametrize("size", SIZES)
def test_msgspec_encode(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    label(benchmark, "encode", size, CONTENDER)
    assert msgpack.unpackb(benchmark(_encode, plans[size])) == plans[size]


@pytest.mark.parametrize("size", SIZES)
def test_msgspec_decode(benchmark: Any, forge_schema: fsf.Schema, plans: dict[int, Any], size: int) -> None:
    data = _ENCODER.encode(msgspec.convert(positional(forge_schema.ir, "ForgePlan", plans[size]), POSITIONAL))
    label(benchmark, "decode", size, CONTENDER)
    assert msgspec.to_builtins(benchmark(_DECODER.decode, data)) == msgpack.unpackb(data)


@pytest.mark.parametrize("size", SIZES)
def test_msgspec_validate(benchmark: Any, plans: dict[int, Any], size: int) -> None:
    label(benchmark, "validate", size, CONTENDER)
    assert benchmark(_convert, plans[size]).sessionId == plans[size]["sessionId"]
