"""Diagnostics: a table of schemas (valid and invalid) checked against golden renderings.

Each case under ``tests/golden/diagnostics/`` is either ``NAME.fsf`` or a folder ``NAME/`` (files that import
each other; the entry is ``NAME/main.fsf``, or the folder's only ``.fsf`` file). Cases too large or too odd to
commit are generated below (``GENERATED``). The golden ``NAME.out`` holds the exact rendered diagnostics, or
``ok:`` and the declared type names. Regenerate with ``FSF_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import fsf
from fsf.load import read_source, read_text
from tests.support.golden import Golden

GOLDEN = Path(__file__).parents[1] / "golden" / "diagnostics"


def _nested(depth: int) -> str:
    return "shape Deep {\n  a: " + "arr<" * depth + "str" + ">" * depth + ",\n}\n"


def _chain(n: int) -> str:
    return "".join(f"shape S{i} {{ next: S{i + 1}? }}\n" for i in range(n)) + f"shape S{n} {{ end: u8 }}\n"


def _fan_out(n: int) -> str:
    return "".join(f"shape S{i} {{ a: S{i + 1}, b: S{i + 1} }}\n" for i in range(n)) + f"shape S{n} {{ x: u8 }}\n"


# Cases built in memory: hostile sizes that do not belong in the repository, and characters that editors
# and git would mangle. Each still has a committed golden ``.out``.
GENERATED: dict[str, Callable[[], str]] = {
    "hostile_nested_arr_100000.fsf": lambda: _nested(100_000),
    "hostile_unclosed_arr_100000.fsf": lambda: "shape Deep { a: " + "arr<" * 100_000,
    "hostile_optional_100000.fsf": lambda: "shape A { a: str" + "?" * 100_000 + " }\n",
    "hostile_line_10mb.fsf": lambda: "shape A { a: str } // " + "x" * 10_000_000 + "\n",
    "hostile_file_50mb.fsf": lambda: "shape A { a: str }\n" * 2_700_000,
    "hostile_line_near_limit.fsf": lambda: "shape A { a: str, b: Nope } // " + "x" * 1_000_000 + "\n",
    "hostile_chain_10000.fsf": lambda: _chain(10_000),
    "hostile_chain_10000_broken.fsf": lambda: _chain(10_000).replace("shape S10000 { end: u8 }", ""),
    "hostile_fan_out_40.fsf": lambda: _fan_out(40),
    "hostile_fan_out_40_infinite.fsf": lambda: _fan_out(40).replace("{ x: u8 }", "{ x: S0 }"),
    "hostile_bound_5000_digits.fsf": lambda: "shape A {\n  n: u64[0.." + "9" * 5000 + "],\n}\n",
    "hostile_many_errors.fsf": lambda: "".join(f"shape S{i} {{ a: Nope{i}, b: u8[9..1] }}\n" for i in range(2000)),
    "hostile_many_syntax_errors.fsf": lambda: "".join(f"shape S{i} {{ a str }}\n" for i in range(100)),
    "hostile_control_characters.fsf": lambda: "shape A {\n  a: str,\x00\n  b\x1b: u8,\n}\n",
    "hostile_lone_surrogate.fsf": lambda: "shape A { a: str } // \udc80\n",
    "bidi_everywhere.fsf": lambda: (
        "// \u202eevil comment\u202c\nshape A\u2066 {\n  a: str, // \u200f\n}\nimport \"x\u2067.fsf\"\n"),
    "bom_then_schema.fsf": lambda: "\ufeffshape A { a: str }\n",
    "control_characters_in_an_import_path.fsf": lambda: 'import "a\x00\x07.fsf"\nimport "b\x1b[31m.fsf"\n',
    "control_characters_in_a_string.fsf": lambda: 'shape A { a: "x\x1b[2J" }\n',
}


def _cases() -> list[str]:
    committed = sorted(p.name for p in GOLDEN.iterdir() if p.suffix == ".fsf" or p.is_dir())
    return sorted([*committed, *GENERATED])


def _entry(case: str) -> tuple[str, Path]:
    """The entry file of a committed case: its display name (relative to the case) and its path."""
    path = GOLDEN / case
    if path.is_file():
        return case, path
    main = path / "main.fsf"
    found = [main] if main.is_file() else sorted(path.rglob("*.fsf"))
    assert len(found) == 1, f"case {case} needs a main.fsf"
    return found[0].relative_to(path).as_posix(), found[0]


def outcome(case: str) -> str:
    """What ``fsf check`` reports for a case: the rendered diagnostics, or ``ok:`` and the type names."""
    if case in GENERATED:
        name, path, read = case, None, read_text
    else:
        name, path = _entry(case)
        root = GOLDEN / case if (GOLDEN / case).is_dir() else GOLDEN

        def read(rel: str) -> str:
            return read_text(str(root / rel))

    try:
        text = GENERATED[case]() if path is None else read_source(str(path))
        schema = fsf.compile_source(text, name, read=read)
    except fsf.SchemaError as err:
        rendered = err.render() + "\n"
        return rendered if path is None else rendered.replace(str(path), name)
    return " ".join(["ok:", *schema.shapes]) + "\n"


def _golden_path(case: str) -> Path:
    return GOLDEN / (case.removesuffix(".fsf") + ".out")


@pytest.mark.parametrize("case", _cases())
def test_diagnostics_match_the_golden_file(case: str, golden: Golden) -> None:
    golden.text(_golden_path(case), outcome(case), errors="surrogateescape")


def test_the_table_is_large_and_mixed() -> None:
    outcomes = [_golden_path(c).read_text(encoding="utf-8", errors="surrogateescape") for c in _cases()]
    valid = sum(o.startswith("ok:") for o in outcomes)
    assert len(outcomes) >= 60 and valid >= 10 and len(outcomes) - valid >= 50


def test_every_golden_file_belongs_to_a_case() -> None:
    cases = {_golden_path(c).name for c in _cases()}
    assert sorted(p.name for p in GOLDEN.glob("*.out") if p.name not in cases) == []


def test_every_diagnostic_code_in_the_language_reference_has_a_case() -> None:
    # The annotations' cases are golden files of their own (tests/front/test_annotations.py).
    reference = (Path(__file__).parents[2] / "docs" / "language.md").read_text(encoding="utf-8")
    outs = [*(_golden_path(c) for c in _cases()), *sorted((GOLDEN.parent / "annotations").glob("*.out"))]
    seen = "".join(p.read_text(encoding="utf-8", errors="surrogateescape") for p in outs)
    documented = sorted({word[1:5] for word in reference.split() if word.startswith("`F") and word[2:5].isdigit()})
    assert documented, "docs/language.md lists the diagnostic codes as `Fnnn`"
    assert [code for code in documented if f"error[{code}]" not in seen] == []


def test_the_issue_example_renders_exactly() -> None:
    assert outcome("issue_example").splitlines()[:4] == [
        "shapes/plan.fsf:12:22: error[F201]: unknown type `ForgeTsk`",
        "   |",
        "12 |   tasks: arr[0..512]<ForgeTsk>,",
        "   |                      ^^^^^^^^ did you mean `ForgeTask`?",
    ]
