"""Benchmark, code generation: a seeded schema of 1 000 shapes (plus enums and unions) -> each target's source text.

The goal (issue 6) is "well under a second" for 1 000 shapes per target. Run with
``python -m pytest benchmarks/bench_codegen.py --benchmark-enable``.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

import fsf
from benchmarks.harness import label
from fsf.codegen import TARGETS

SHAPES = 1000
_SEED = 6
_FIELD_TYPES = ("bool", "u8", "i32[-5..5]", "u64", "f32", "f64[0..1]", "str", "str[1..64]", "bytes[0..16]", "hash",
                "time", "arr[0..8]<str>", "map[0..4]<str, u32>", "map[0..4]<i16[-3..200], bool>")


def thousand_shapes(n: int = SHAPES, seed: int = _SEED) -> str:
    """FSF text: ``n`` documented shapes of six fields each, using earlier shapes, an enum, a union and refs."""
    rng = random.Random(seed)
    out = ["/// A colour.\nenum Color { red, green, blue }",
           "/// A choice.\nunion Choice { None, Some { value: u32, note: str? } }"]
    for i in range(n):
        fields = []
        for j in range(6):
            kind = rng.random()
            if kind < 0.15 and i:
                t = f"S{rng.randrange(i)}"
            elif kind < 0.2 and i:
                t = f"ref<S{rng.randrange(i)}>"
            elif kind < 0.25:
                t = rng.choice(("Color", "Choice", "arr[0..4]<Choice>", "map[0..3]<Color, str>"))
            else:
                t = rng.choice(_FIELD_TYPES)
            optional = "?" if rng.random() < 0.2 else ""
            fields.append(f'  /// Field {j} of shape {i}, with "quotes" and */ in it.\n  field{j}: {t}{optional},')
        out.append(f"/// Shape number {i}.\nshape S{i} {{\n" + "\n".join(fields) + "\n}")
    return "\n\n".join(out) + "\n"


@pytest.fixture(scope="module")
def big_schema() -> fsf.Schema:
    return fsf.compile_source(thousand_shapes())


@pytest.mark.parametrize("target", TARGETS)
def test_codegen_1000_shapes(benchmark: Any, big_schema: fsf.Schema, target: str) -> None:
    label(benchmark, f"codegen {target}", SHAPES, "fsf")
    fsf.codegen(big_schema, target)  # the Jinja environment and templates are built once, outside the timing
    text = benchmark(fsf.codegen, big_schema, target)
    assert text.count("S999") >= 1
