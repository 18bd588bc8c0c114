"""CLI `fsf check` and `fsf fmt`: exit codes (0 clean, 1 errors, 2 usage), whole messages, no traceback."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fsf.cli.fsf_tool import app

runner = CliRunner()

GOOD = "shape Task {\n  id: str,\n}\n"
UGLY = "shape Task{id:str}"
BAD = "shape Task {\n  id: arr[0..3]<str,\n}\n"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made = {}
    for name, text in {"good.fsf": GOOD, "ugly.fsf": UGLY, "bad.fsf": BAD}.items():
        made[name] = tmp_path / name
        made[name].write_text(text, encoding="utf-8")
    return made


def test_check_clean_files_exit_0_silently(files: dict[str, Path]) -> None:
    assert run("check", files["good.fsf"], files["ugly.fsf"]) == (0, "", "")


def test_check_reports_every_error_and_exits_1(files: dict[str, Path], tmp_path: Path) -> None:
    two = tmp_path / "two.fsf"
    two.write_text("shape a { x: Nope, y: u8[3..1] }\n", encoding="utf-8")
    code, out, err = run("check", files["bad.fsf"], files["good.fsf"], two)
    assert (code, out) == (1, "")
    assert err == (
        f"{files['bad.fsf']}:2:20: error[F011]: missing `>` after the element type\n"
        "  |\n"
        "2 |   id: arr[0..3]<str,\n"
        "  |                    ^ expected `>` before `,`\n"
        f"{two}:1:7: error[F101]: type name `a` is not PascalCase\n"
        "  |\n"
        "1 | shape a { x: Nope, y: u8[3..1] }\n"
        "  |       ^ not PascalCase\n"
        "   = help: shape, enum, union and variant names are PascalCase: `A`\n"
        "\n"
        f"{two}:1:14: error[F201]: unknown type `Nope`\n"
        "  |\n"
        "1 | shape a { x: Nope, y: u8[3..1] }\n"
        "  |              ^^^^ unknown type\n"
        "\n"
        f"{two}:1:25: error[F205]: lower bound 3 is greater than upper bound 1\n"
        "  |\n"
        "1 | shape a { x: Nope, y: u8[3..1] }\n"
        "  |                         ^^^^^^ inverted bounds\n"
        "   = help: write `[1..3]`\n"
    )


def test_check_missing_and_unreadable_files_exit_1(tmp_path: Path) -> None:
    code, out, err = run("check", tmp_path / "none.fsf")
    assert (code, out) == (1, "")
    assert err == f"error[F000]: cannot read schema `{tmp_path / 'none.fsf'}`: no such file or directory\n"
    code, _, err = run("check", tmp_path)
    assert code == 1 and err.startswith("error[F000]: cannot read schema")


@pytest.mark.parametrize("args", [["check"], ["fmt"], ["fmt", "--bogus", "x.fsf"], ["check", "--nope"], ["nope"]])
def test_wrong_command_lines_exit_2(args: list[str]) -> None:
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert "Usage:" in err


def test_fmt_check_lists_files_that_would_change_and_changes_nothing(files: dict[str, Path]) -> None:
    before = {p: p.read_bytes() for p in files.values()}
    assert run("fmt", "--check", files["good.fsf"]) == (0, "", "")
    code, out, err = run("fmt", "--check", files["good.fsf"], files["ugly.fsf"], files["bad.fsf"])
    assert (code, out) == (1, f"{files['ugly.fsf']}\n")
    assert err.startswith(f"{files['bad.fsf']}:2:20: error[F011]: missing `>` after the element type\n")
    assert {p: p.read_bytes() for p in files.values()} == before


def test_fmt_rewrites_in_place_keeping_the_file_mode(files: dict[str, Path]) -> None:
    ugly = files["ugly.fsf"]
    os.chmod(ugly, 0o640)
    assert run("fmt", ugly, files["good.fsf"]) == (0, "", f"reformatted {ugly}\n")
    assert ugly.read_text(encoding="utf-8") == GOOD
    assert stat.S_IMODE(ugly.stat().st_mode) == 0o640
    assert run("fmt", "--check", ugly) == (0, "", "")
    assert [p.name for p in ugly.parent.iterdir() if p.name.startswith(".")] == []


def test_fmt_leaves_a_file_with_errors_untouched(files: dict[str, Path]) -> None:
    code, out, _ = run("fmt", files["bad.fsf"])
    assert (code, out) == (1, "")
    assert files["bad.fsf"].read_text(encoding="utf-8") == BAD


def test_fmt_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    latin = tmp_path / "latin.fsf"
    latin.write_bytes("shape Caf\u00e9 {}".encode("latin-1"))
    assert run("fmt", latin) == (1, "", f"error[F000]: cannot read schema `{latin}`: not UTF-8 (byte 9)\n")


def test_the_console_script_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.fsf"
    bad.write_text(BAD, encoding="utf-8")
    for args in (["check", str(bad)], ["fmt", "--check", str(bad)], ["fmt"]):
        result = subprocess.run([sys.executable, "-c", "from fsf.cli.fsf_tool import main; main()", *args],
                                capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == (2 if args == ["fmt"] else 1)
        assert "Traceback" not in result.stderr
