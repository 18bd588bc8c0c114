"""Imports confined to a schema root: every escape form is refused at the import (F303, F304, F305) and the
file it names is never opened, so no diagnostic can quote it (docs/language.md, section 6)."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import fsf
from fsf.api import write_compiled
from fsf.cli.fsf_tool import app as fsf_app
from fsf.cli.fsv_tool import app as fsv_app
from fsf.load import read_text

SECRET = "TOP-SECRET-LINE"
HINT = "   = help: a schema imports only files inside its root; widen it with `--root DIR` (`root=` in Python)"

runner = CliRunner()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``tmp/proj`` is the schema folder; everything else in ``tmp`` is outside it and holds the secret."""
    (tmp_path / "secret.txt").write_text(f"{SECRET} shape Leak {{ a: str }}\n", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "other.fsf").write_text(f"// {SECRET}\nshape Other {{ a: str }}\n", encoding="utf-8")
    (tmp_path / "outside" / "big.fsf").write_text(f"// {SECRET}\n" + "x" * 1_100_000, encoding="utf-8")
    proj = tmp_path / "proj"
    (proj / "sub").mkdir(parents=True)
    (proj / "sub" / "x.fsf").write_text("shape X { a: str }\n", encoding="utf-8")
    (proj / "link_file.fsf").symlink_to(tmp_path / "secret.txt")
    (proj / "link_dir").symlink_to(tmp_path / "outside", target_is_directory=True)
    (proj / "sub" / "up").symlink_to("../..", target_is_directory=True)
    (proj / "inner.fsf").symlink_to("sub/x.fsf")
    return tmp_path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every file opened through ``open``, resolved: proof that a refused import is never read."""
    seen: list[str] = []
    real_open = builtins.open

    def spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, os.PathLike)):
            seen.append(os.path.realpath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    yield seen


def _main(tree: Path, line: str) -> Path:
    main = tree / "proj" / "main.fsf"
    main.write_bytes(f"{line}\n\nshape A {{ a: str }}\n".encode())
    return main


def _refusal(main: Path, line: str, code: str, message: str, label: str, hint: str = "") -> str:
    token = line[len("import "):]
    return "\n".join([
        f"{main}:1:8: error[{code}]: {message}",
        "  |",
        f"1 | {line}",
        f"  |        {'^' * len(token)} {label}",
        *([hint] if hint else []),
    ])


def _outside(tree: Path) -> list[str]:
    return [str(tree / "secret.txt"), *(str(p) for p in (tree / "outside").iterdir())]


ESCAPES = [
    # (import line, the path as the message shows it)
    ('import "../secret.txt"', "../secret.txt"),
    ('import "../../../../../../../../../../etc/passwd"', "../../../../../../../../../../etc/passwd"),
    ('import "sub/../../secret.txt"', "sub/../../secret.txt"),
    ('import "./../outside/other.fsf"', "./../outside/other.fsf"),
    ('import "../outside/big.fsf"', "../outside/big.fsf"),
    ('import "link_file.fsf"', "link_file.fsf"),
    ('import "link_dir/other.fsf"', "link_dir/other.fsf"),
    ('import "link_dir/big.fsf"', "link_dir/big.fsf"),
    ('import "sub/up/secret.txt"', "sub/up/secret.txt"),
    ('import "sub/up/outside/missing.fsf"', "sub/up/outside/missing.fsf"),
]


@pytest.mark.parametrize(("line", "shown"), ESCAPES)
def test_an_import_leaving_the_root_is_f304_and_never_opened(tree: Path, opened: list[str], line: str,
                                                               shown: str) -> None:
    main = _main(tree, line)
    with pytest.raises(fsf.SchemaError) as err:
        fsf.load_schema(main)
    assert str(err.value) == _refusal(main, line, "F304",
                                      f"import `{shown}` leaves the schema root `{tree / 'proj'}`",
                                      "outside the schema root", HINT)
    assert SECRET not in str(err.value)
    assert opened == [str(main)]


ABSOLUTE = [
    ('import "/etc/passwd"', "absolute path"),
    ('import "//server/share/x.fsf"', "absolute path"),
    ('import "\\\\\\\\server\\\\share\\\\x.fsf"', "absolute path"),
    ('import "\\\\etc\\\\passwd"', "absolute path"),
    ('import "C:/Windows/win.ini"', "drive letter"),
    ('import "c:x.fsf"', "drive letter"),
    ('import "C:\\\\x.fsf"', "drive letter"),
]


@pytest.mark.parametrize(("line", "label"), ABSOLUTE)
def test_absolute_drive_and_unc_paths_are_f303_on_every_platform(tree: Path, opened: list[str], line: str,
                                                                 label: str) -> None:
    main = _main(tree, line)
    with pytest.raises(fsf.SchemaError) as err:
        fsf.load_schema(main)
    assert str(err.value) == _refusal(main, line, "F303", "import paths are relative to the importing file",
                                      label)
    assert opened == [str(main)]


def test_a_backslash_is_refused_even_where_it_is_an_ordinary_file_name_character(tree: Path,
                                                                                 opened: list[str]) -> None:
    (tree / "proj" / "sub\\x.fsf").write_text("shape Y { a: str }\n", encoding="utf-8")  # a real POSIX file
    for line, shown in [('import "..\\\\secret.txt"', "..\\secret.txt"), ('import "sub\\\\x.fsf"', "sub\\x.fsf")]:
        main = _main(tree, line)
        with pytest.raises(fsf.SchemaError) as err:
            fsf.load_schema(main)
        assert str(err.value) == _refusal(main, line, "F305", f"import path `{shown}` contains `\\`",
                                          "not a folder separator",
                                          "   = help: separate folders with `/`, on every platform")
    assert opened == [str(tree / "proj" / "main.fsf")] * 2


@pytest.mark.parametrize(("char", "code"), [("\x00", "0000"), ("\x1b", "001b"), ("\x7f", "007f")])
def test_nul_and_control_characters_are_refused_before_any_file_system_call(tree: Path, opened: list[str],
                                                                            char: str, code: str) -> None:
    main = _main(tree, f'import "../secret.txt{char}"')
    with pytest.raises(fsf.SchemaError) as err:
        fsf.load_schema(main)
    assert str(err.value) == "\n".join([
        f"{main}:1:8: error[F305]: import path `../secret.txt\\u{code}` contains control character "
        f"U+{code.upper()}",
        "  |",
        '1 | import "../secret.txt\ufffd"',
        "  |        ^^^^^^^^^^^^^^^^ not allowed in an import path",
    ])
    assert opened == [str(main)]


def test_percent_encoding_is_not_decoded_so_it_names_a_literal_file(tree: Path) -> None:
    main = _main(tree, 'import "%2e%2e/secret.txt"')
    with pytest.raises(fsf.SchemaError) as err:
        fsf.load_schema(main)
    assert str(err.value) == "\n".join([
        f"{main}:1:8: error[F301]: cannot find imported file `%2e%2e/secret.txt`",
        "  |",
        '1 | import "%2e%2e/secret.txt"',
        f"  |        ^^^^^^^^^^^^^^^^^^^ looked for `{tree / 'proj' / '%2e%2e' / 'secret.txt'}`",
    ])
    (tree / "proj" / "%2e%2e").mkdir()
    (tree / "proj" / "%2e%2e" / "secret.txt").write_text("shape P { a: str }\n", encoding="utf-8")
    (tree / "proj" / "%2e%2e%2fsecret.txt").write_text("shape Q { a: str }\n", encoding="utf-8")
    main.write_text('import "%2e%2e/secret.txt"\nimport "%2e%2e%2fsecret.txt"\n', encoding="utf-8")
    assert fsf.load_schema(main).shapes == ("P", "Q")


def test_imports_inside_the_root_still_work_through_dot_dot_and_symbolic_links(tree: Path) -> None:
    (tree / "proj" / "sub" / "y.fsf").write_text('import "../inner.fsf"\nshape Y { x: X }\n', encoding="utf-8")
    main = _main(tree, 'import "sub/../sub/y.fsf"')
    assert fsf.load_schema(main).shapes == ("A", "X", "Y")
    # the root is the folder of the file as named, symbolic links resolved once
    (tree / "alias").symlink_to(tree / "proj", target_is_directory=True)
    assert fsf.load_schema(tree / "alias" / "main.fsf").shapes == ("A", "X", "Y")


def test_the_root_is_the_named_files_folder_not_the_importers(tree: Path) -> None:
    (tree / "proj" / "sub" / "y.fsf").write_text('import "../../secret.txt"\nshape Y { a: str }\n',
                                                 encoding="utf-8")
    main = _main(tree, 'import "sub/y.fsf"')
    with pytest.raises(fsf.SchemaError) as err:
        fsf.load_schema(main)
    sub = tree / "proj" / "sub" / "y.fsf"
    assert str(err.value) == "\n".join([
        f"{sub}:1:8: error[F304]: import `../../secret.txt` leaves the schema root `{tree / 'proj'}`",
        "  |",
        '1 | import "../../secret.txt"',
        "  |        ^^^^^^^^^^^^^^^^^^ outside the schema root",
        HINT,
    ])


def test_root_widens_the_confinement(tree: Path) -> None:
    main = _main(tree, 'import "../outside/other.fsf"')
    assert fsf.load_schema(main, root=tree).shapes == ("A", "Other")
    assert fsf.load_schema(main, root=str(tree / "outside" / "..")).shapes == ("A", "Other")
    with pytest.raises(fsf.SchemaError) as err:
        fsf.load_schema(main, root=tree / "proj")
    assert f"error[F304]: import `../outside/other.fsf` leaves the schema root `{tree / 'proj'}`" in str(err.value)


def test_a_named_schema_outside_an_explicit_root_is_a_usage_error_and_not_opened(tree: Path,
                                                                                  opened: list[str]) -> None:
    other = tree / "outside" / "other.fsf"
    with pytest.raises(fsf.UsageError) as err:
        fsf.load_schema(other, root=tree / "proj")
    assert str(err.value) == f"schema `{other}` is outside the root `{tree / 'proj'}`"
    with pytest.raises(fsf.UsageError) as err:
        fsf.load_schema(tree / "proj" / "sub" / "x.fsf", root=tree / "nowhere")
    assert str(err.value) == f"root `{tree / 'nowhere'}` is not a folder"
    with pytest.raises(fsf.UsageError) as err:
        fsf.load_schema(tree / "proj" / "sub" / "x.fsf", root=tree / "secret.txt")
    assert str(err.value) == f"root `{tree / 'secret.txt'}` is not a folder"
    assert opened == []


def test_compile_source_confines_to_the_folder_of_its_file_name(tree: Path) -> None:
    asked: list[str] = []

    def read(name: str) -> str:
        asked.append(name)
        return read_text(name)

    name = str(tree / "proj" / "main.fsf")
    with pytest.raises(fsf.SchemaError) as err:
        fsf.compile_source('import "../secret.txt"\nimport "sub/x.fsf"\n', name, read=read)
    assert [d.code for d in err.value.diagnostics] == ["F304"]
    assert asked == [str(tree / "proj" / "sub" / "x.fsf")]
    schema = fsf.compile_source('import "../outside/other.fsf"\n', name, read=read, root=tree)
    assert schema.shapes == ("Other",)


def test_compile_source_in_memory_is_confined_to_the_working_folder(tree: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree / "proj")
    assert fsf.compile_source('import "sub/x.fsf"\n').shapes == ("X",)
    with pytest.raises(fsf.SchemaError) as err:
        fsf.compile_source('import "../secret.txt"\n')
    assert str(err.value).splitlines()[0] == (
        "<memory>:1:8: error[F304]: import `../secret.txt` leaves the schema root `.`")


def test_a_compiled_schema_has_no_imports_so_root_does_not_apply(tree: Path) -> None:
    fsb = tree / "outside" / "x.fsb"
    assert runner.invoke(fsf_app, ["compile", str(tree / "proj" / "sub" / "x.fsf"), "-o", str(fsb)]).exit_code == 0
    assert fsf.load_schema(fsb, root=tree / "proj").shapes == ("X",)


# -- the command lines ----------------------------------------------------------------------------------------


def _run(app: Any, *args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_fsf_check_confines_by_default_and_never_prints_the_file(tree: Path, opened: list[str]) -> None:
    main = _main(tree, 'import "../secret.txt"')
    code, out, err = _run(fsf_app, "check", main)
    assert (code, out) == (1, "")
    assert err == _refusal(main, 'import "../secret.txt"', "F304",
                           f"import `../secret.txt` leaves the schema root `{tree / 'proj'}`",
                           "outside the schema root", HINT) + "\n"
    assert not set(opened) & set(_outside(tree))
    # widened, the file is a confined import: read and judged like any schema file
    code, out, err = _run(fsf_app, "check", "--root", tree, main)
    assert (code, out) == (1, "")
    assert err.startswith(f"{tree / 'secret.txt'}:1:")


@pytest.mark.parametrize("command", [["check"], ["compile", "-o", "OUT"], ["disasm"],
                                     ["codegen", "--target", "python"]])
def test_every_fsf_command_that_reads_a_schema_takes_root(tree: Path, command: list[str]) -> None:
    main = _main(tree, 'import "../outside/other.fsf"')
    args = [str(tree / "out.fsb") if a == "OUT" else a for a in command]
    code, _, err = _run(fsf_app, *args, main)
    assert code == 1 and "error[F304]" in err and SECRET not in err
    code, _, err = _run(fsf_app, *args, "--root", tree, main)
    assert (code, err) == (0, "")
    code, out, err = _run(fsf_app, *args, "--root", tree / "outside", main)
    assert (code, out, err) == (2, "", f"error: schema `{main}` is outside the root `{tree / 'outside'}`\n")


@pytest.fixture
def value(tree: Path) -> tuple[Path, Path]:
    """A schema that imports from outside its folder, and a value of it (encoded with the root widened)."""
    main = _main(tree, 'import "../outside/other.fsf"')
    schema = fsf.load_schema(main, root=tree)
    fsv = tree / "v.fsv"
    fsv.write_bytes(schema.encode("A", {"a": "x"}))
    return main, fsv


@pytest.mark.parametrize("command", [
    ["decode", "-s", "SCHEMA", "VALUE"],
    ["verify", "-s", "SCHEMA", "VALUE"],
    ["inspect", "VALUE", "-s", "SCHEMA"],
    ["render", "-s", "SCHEMA", "VALUE"],
    ["encode", "-s", "SCHEMA", "--shape", "A", "JSON", "-o", "OUT"],
])
def test_every_fsv_schema_option_is_confined_and_takes_root(tree: Path, value: tuple[Path, Path],
                                                            command: list[str]) -> None:
    main, fsv = value
    (tree / "v.json").write_text('{"a": "x"}', encoding="utf-8")
    names = {"SCHEMA": str(main), "VALUE": str(fsv), "JSON": str(tree / "v.json"), "OUT": str(tree / "w.fsv")}
    args = [names.get(a, a) for a in command]
    code, out, err = _run(fsv_app, *args)
    assert (code, out) == (1, "")
    assert err.startswith(f"{main}:1:8: error[F304]: import `../outside/other.fsf` leaves the schema root")
    assert SECRET not in err
    code, _, err = _run(fsv_app, *args, "--root", tree)
    assert (code, err) == (0, "")
    code, out, err = _run(fsv_app, *args, "--root", tree / "proj" / "sub")
    assert (code, out, err) == (2, "", f"error: schema `{main}` is outside the root `{tree / 'proj' / 'sub'}`\n")


def test_fsf_check_refuses_the_whole_command_line_before_reading_when_one_file_is_outside_root(
        tree: Path, opened: list[str]) -> None:
    inside, outside = tree / "proj" / "sub" / "x.fsf", tree / "outside" / "other.fsf"
    fsb = tree / "proj" / "x.fsb"
    write_compiled(inside, fsb)
    opened.clear()
    assert _run(fsf_app, "check", "--root", tree / "proj", inside, fsb) == (0, "", "")
    opened.clear()
    assert _run(fsf_app, "check", "--root", tree / "proj", inside, outside) == (
        2, "", f"error: schema `{outside}` is outside the root `{tree / 'proj'}`\n")
    assert opened == []
