"""Hostile schema files: clean diagnostics in bounded time and memory, no RecursionError, no traceback.

The exact diagnostics of these inputs are golden-tested in ``test_diagnostics.py`` (the ``hostile_*`` cases);
here they go through the real command line, a tight recursion limit and a memory tracer.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import fsf
from fsf.front.fmt import format_source
from fsf.front.parse import MAX_SOURCE_BYTES, MAX_TYPE_DEPTH


def fsf_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from fsf.cli.fsf_tool import main; main()", *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False)


@contextmanager
def shallow_stack(frames: int = 150) -> Iterator[None]:
    """Allow only ``frames`` more Python frames than the caller has: any recursion over the input fails."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def nested(depth: int, bounds: str = "") -> str:
    return "shape Deep { a: " + f"arr{bounds}<" * depth + "str" + ">" * depth + " }\n"


def chain(n: int) -> str:
    return "".join(f"shape S{i} {{ next: S{i + 1}? }}\n" for i in range(n)) + f"shape S{n} {{ end: u8 }}\n"


def fan_out(n: int) -> str:
    return "".join(f"shape S{i} {{ a: S{i + 1}, b: S{i + 1} }}\n" for i in range(n)) + f"shape S{n} {{ x: u8 }}\n"


def codes(text: str) -> list[str]:
    with pytest.raises(fsf.SchemaError) as info:
        fsf.compile_source(text, "hostile.fsf")
    return [d.code for d in info.value.diagnostics]


def test_cli_reports_hostile_files_without_a_traceback(tmp_path: Path) -> None:
    files = {
        "nested.fsf": nested(10_000),
        "line.fsf": "shape A { a: str } // " + "x" * 10_000_000 + "\n",
        "big.fsf": "shape A { a: str }\n" * 2_700_000,
        "garbage.fsf": "".join(chr(c) for c in range(1, 0x3000) if chr(c).isprintable()) + "\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "binary.fsf").write_bytes(bytes(range(256)) * 64)
    result = fsf_cli("check", *sorted(tmp_path.iterdir()))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stdout == ""
    heads = [line for line in result.stderr.splitlines() if "error[" in line]
    assert heads == [
        f"{tmp_path / 'big.fsf'}:1:1: error[F001]: schema file is 51300000 bytes; the limit is {MAX_SOURCE_BYTES}",
        f"error[F000]: cannot read schema `{tmp_path / 'binary.fsf'}`: not UTF-8 (byte 128)",
        f"{tmp_path / 'garbage.fsf'}:1:2: error[F010]: unexpected character `!`",
        f"{tmp_path / 'line.fsf'}:1:1: error[F001]: schema file is 10000023 bytes; the limit is {MAX_SOURCE_BYTES}",
        f"{tmp_path / 'nested.fsf'}:1:273: error[F016]: type nested more than {MAX_TYPE_DEPTH} levels deep",
    ]


def test_cli_accepts_a_long_chain_and_an_exponential_fan_out(tmp_path: Path) -> None:
    (tmp_path / "chain.fsf").write_text(chain(2_000), encoding="utf-8")
    (tmp_path / "fan.fsf").write_text(fan_out(40), encoding="utf-8")
    result = fsf_cli("check", tmp_path / "chain.fsf", tmp_path / "fan.fsf")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_oversized_files_are_refused_without_being_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.fsf"
    big.write_bytes(b"shape A { a: str }\n" * 2_700_000)
    tracemalloc.start()
    try:
        with pytest.raises(fsf.SchemaError) as info:
            fsf.load_schema(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [d.code for d in info.value.diagnostics] == ["F001"]
    assert peak < 8 * MAX_SOURCE_BYTES


def test_oversized_text_in_memory_is_refused_before_parsing() -> None:
    assert codes("// " + "é" * MAX_SOURCE_BYTES) == ["F001"]
    at_limit = "shape A { a: str }" + " " * (MAX_SOURCE_BYTES - 18)
    assert fsf.compile_source(at_limit).shapes == ("A",)
    assert codes(at_limit + " ") == ["F001"]


def test_deep_nesting_needs_no_recursion() -> None:
    # The 100 000-level cases are golden-tested; a shallow stack proves no pass recurses over the nesting.
    with shallow_stack():
        assert codes(nested(5_000)) == ["F016"]
        assert codes("shape A { a: str" + "?" * 5_000 + " }") == ["F016"]
        assert codes("shape A { a: " + "arr<" * 5_000) == ["F014"]
        assert codes("shape A { a: " + "map[0..1]<str, " * 2_000 + "u8" + ">" * 2_000 + " }") == ["F016"]


def test_the_deepest_allowed_type_compiles_and_formats_under_a_shallow_stack() -> None:
    text = nested(MAX_TYPE_DEPTH - 1, "[0..1]")
    with shallow_stack():
        schema = fsf.compile_source(text)
        assert format_source(format_source(text)) == format_source(text)
    assert schema.shapes == ("Deep",)
    assert codes(nested(MAX_TYPE_DEPTH, "[0..1]")) == ["F016"]


def test_long_chains_and_fan_out_are_linear_and_need_no_recursion() -> None:
    with shallow_stack():
        assert len(fsf.compile_source(chain(2_000)).shapes) == 2_001
        schema = fsf.compile_source(fan_out(40))
        assert codes(fan_out(40).replace("{ x: u8 }", "{ x: S0 }")) == ["F401"] * 41
        assert codes(chain(2_000).replace("next: S", "next: T")) == ["F201"] * 2_000
    assert len(schema.shapes) == 41


def test_formatting_hostile_but_valid_files() -> None:
    text = chain(1_000)
    with shallow_stack():
        once = format_source(text)
    assert format_source(once) == once
    assert once.count("shape ") == 1_001


def test_thousands_of_digits_in_a_bound() -> None:
    with shallow_stack():
        assert codes("shape A { n: u64[0.." + "9" * 100_000 + "] }") == ["F207"]
        assert codes("shape A { n: f64[0.." + "9" * 100_000 + ".5] }") == ["F207"]
        assert codes("shape A { n: f64[0..1e" + "9" * 100_000 + "] }") == ["F207"]


def test_bidi_and_control_characters_anywhere() -> None:
    for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c":
        for text in (f"// {ch}\nshape A {{ a: str }}", f"shape A{ch} {{ a: str }}", f'import "{ch}.fsf"'):
            assert codes(text) == ["F002"], (hex(ord(ch)), text)
    assert codes("shape A { a: str }\x00") == ["F010"]


def test_formatting_thousands_of_comments() -> None:
    header = "".join(f"/// line {i}\n" for i in range(5_000))
    body = "".join(f"  /// doc {i}\n  f{i}: u8, // note {i}\n" for i in range(5_000))
    text = f"{header}shape A {{\n{body}}}\n"
    assert format_source(text) == text
    assert fsf.compile_source(text).ir["A"].doc.count("\n") == 4_999
