"""Format: the one table of FSV facts (fsf/fsv/format.py) -> the committed C header and the rules it states.

The C codec includes ``fsf/fsv/_format.h``, generated from the table; this fails when the committed header is
stale (``FSF_UPDATE_GOLDEN=1`` rewrites it), as the opcode table's docs test does for ``docs/bytecode.md``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from fsf.fsv import format as fmt
from fsf.fsv import native
from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "fsf" / "fsv" / "_format.h"


def test_the_committed_c_header_is_generated_from_the_table(golden: Golden) -> None:
    golden.text(HEADER, fmt.c_header())


def test_every_byte_but_c1_has_one_head() -> None:
    covered = [b for h in fmt.HEADS for b in range(h.first, h.last + 1)]
    assert sorted(covered) == [b for b in range(256) if b != fmt.RESERVED]
    assert fmt.HEAD_OF[fmt.RESERVED] is None


@pytest.mark.parametrize(("family", "negative"), [
    (fmt.Family.INT, False), (fmt.Family.INT, True), (fmt.Family.STR, False), (fmt.Family.BIN, False),
    (fmt.Family.ARRAY, False), (fmt.Family.MAP, False),
])
def test_canonical_ranges_follow_each_other(family: fmt.Family, negative: bool) -> None:
    """Each value has exactly one canonical head: the ranges of a family's widths leave no gap and never overlap,
    and each width's range fits its field."""
    heads = fmt.widths(family, negative)
    ranges = sorted((h.lo, h.hi) for h in heads if h.lo is not None and h.hi is not None)
    assert len(ranges) == len(heads) >= 3
    for (_, hi), (lo, _) in itertools.pairwise(ranges):
        assert lo == hi + 1
    for h in heads:
        assert h.lo is not None and h.hi is not None
        if h.size:
            bits = 8 * h.size
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if h.signed else (0, (1 << bits) - 1)
            assert lo <= h.lo <= h.hi <= hi, h
        else:
            assert h.hi - h.lo == h.last - h.first, h


def test_the_table_matches_the_names_it_replaced() -> None:
    assert fmt.HEADER_SIZE == 37 and fmt.MAGIC == b"\x89FSV" and fmt.FORMAT_VERSION == 1
    assert fmt.REF_PREFIX == "blake3:"
    assert (native.BOOL, native.TIME) == (fmt.NodeKind.BOOL, fmt.NodeKind.TIME) == (0, 12)
    assert fmt.BY_NAME["uint16"].lo == 0x100 and fmt.BY_NAME["str8"].lo == 32 and fmt.BY_NAME["array16"].lo == 16
