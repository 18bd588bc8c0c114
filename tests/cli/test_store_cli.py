"""The store's commands (`fsf store init|add|ls|show|verify`, `fsv put|get|log|refs`) and the store-aware `fsf
compile` and `fsv encode|decode|verify|inspect`: outputs, messages and exit codes (0 ok, 1 bad input or a problem
found, 2 wrong command line), store discovery, and a store that works from a fresh `git clone` alone.

Every test works on copies under ``tmp_path`` (the example store ``shapes/examples/.fsf`` and the audit values);
nothing is written into the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import fsf
from fsf import ir
from fsf.cli.fsf_tool import app as fsf_app
from fsf.cli.fsv_tool import app as fsv_app
from fsf.fsv.header import HEADER_SIZE
from fsf.store import locate_store
from tests.support.golden import Golden

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "shapes"
EXAMPLES = SHAPES / "examples"
AUDIT_SCHEMA = SHAPES / "audit.fsf"
AUDIT = EXAMPLES / "audit"
GOLDEN = ROOT / "tests" / "golden" / "store_cli"

SCHEMA = fsf.load_schema(AUDIT_SCHEMA)
SIGNED = SCHEMA.id("SignedAuditRecord")
AUDIT_TYPES = SCHEMA.shapes
R1, R2, R3 = (fsf.content_id((AUDIT / f"SignedAuditRecord.{n}.fsv").read_bytes()) for n in (1, 2, 3))
F1, F2, F3 = (f"SignedAuditRecord.{n}.fsv" for n in (1, 2, 3))
PLAN = fsf.content_id((EXAMPLES / "forge-plan" / "ForgePlan.small.fsv").read_bytes())
ARTIFACT_VALUE = fsf.content_id((EXAMPLES / "artifacts" / "Artifact.fsv-value.fsv").read_bytes())
ARTIFACT_TYPE = fsf.load_schema(SHAPES / "artifacts.fsf").id("Artifact")
USAGE = fsf.content_id((EXAMPLES / "usage" / "UsageReport.week-47.fsv").read_bytes())
TABLE = fsf.content_id((EXAMPLES / "artifacts" / "ArtifactTable.codec.fsv").read_bytes())
NOWHERE = "blake3:" + "0" * 64
UNKNOWN_SCHEMA = (f"the schema of type {SIGNED} is not in the store st; add it with `fsf store add SCHEMA` "
                  "(`fsf store import-history SCHEMA` for its versions in git) or give `-s SCHEMA` [schema_unknown]")
NO_SCHEMA_HINT = ("error: give --schema/-s SCHEMA, or keep the value's schema in a store (`fsf store init`, then "
                  "`fsf store add SCHEMA`)\n")

runner = CliRunner()


def run(app: typer.Typer, *args: object, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Exit code, stdout, stderr of one command run in process; a traceback fails the test."""
    result = runner.invoke(app, [str(a) for a in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def fsf_(*args: object) -> tuple[int, str, str]:
    return run(fsf_app, *args)


def fsv(*args: object) -> tuple[int, str, str]:
    return run(fsv_app, *args)


def obj(store: Path, folder: str, ident: str) -> Path:
    """The file of a store object (``values`` or ``types``) named by its id."""
    digest = ident.removeprefix("blake3:")
    return store / folder / digest[:2] / digest[2:]


def rewrite(path: Path, change: bytes | None = None, *, flip: int | None = None) -> None:
    """Overwrite a (read-only) store object: with ``change``, or with the byte at ``flip`` flipped."""
    data = bytearray(path.read_bytes())
    if flip is not None:
        data[flip] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data) if change is None else change)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working folder, with no store found from it, holding the audit values (``F1``..``F3``)
    and a copy ``ex`` of the example store."""
    if locate_store(cwd=tmp_path, env={}) is not None:
        pytest.skip(f"a `.fsf` folder above {tmp_path} would be found by every command")
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLES / ".fsf", tmp_path / "ex", ignore=shutil.ignore_patterns("*.tmp"))
    for name in (F1, F2, F3):
        shutil.copy(AUDIT / name, tmp_path / name)
    return tmp_path


@pytest.fixture
def st(work: Path) -> Path:
    """A new, empty store ``st`` in the working folder."""
    assert fsf_("store", "init", "st") == (0, "store at st\n", "")
    return work / "st"


def lines_of(ids: dict[str, str]) -> str:
    return "".join(f"{name} {ident}\n" for name, ident in ids.items())


def audit_ids() -> dict[str, str]:
    return {name: SCHEMA.id(name) for name in AUDIT_TYPES}


def count(store: Path, folder: str) -> int:
    return sum(1 for p in (store / folder).rglob("*") if p.is_file())


# -- fsf store init | add -----------------------------------------------------------------------------------------


def test_init_makes_dot_fsf_here_by_default_and_is_idempotent(work: Path) -> None:
    assert fsf_("store", "init") == (0, "store at .fsf\n", "")
    assert (work / ".fsf" / "FSF-STORE").read_bytes() == b"fsf-store 1\n"
    assert (work / ".fsf" / ".gitignore").read_text("utf-8") == "/tmp/\n"
    assert fsf_("store", "init") == (0, "store at .fsf\n", "")
    assert fsf_("store", "ls") == (0, "", "")  # found from the working folder


def test_init_an_explicit_folder_twice(work: Path) -> None:
    assert fsf_("store", "init", "deep/er/store") == (0, "store at deep/er/store\n", "")
    assert fsf_("store", "add", AUDIT_SCHEMA, "--store", "deep/er/store")[0] == 0
    assert fsf_("store", "init", "deep/er/store") == (0, "store at deep/er/store\n", "")
    assert count(work / "deep/er/store", "types") == len(AUDIT_TYPES)  # nothing lost
    assert not (work / ".fsf").exists()


def test_add_records_every_type_of_a_schema_source(st: Path) -> None:
    assert fsf_("store", "add", AUDIT_SCHEMA, "--store", "st") == (0, lines_of(audit_ids()), "")
    assert count(st, "types") == len(AUDIT_TYPES)
    assert fsf_("store", "add", AUDIT_SCHEMA, "--store", "st") == (0, lines_of(audit_ids()), "")  # idempotent
    code, out, _ = fsf_("store", "ls", "--store", "st")
    assert code == 0
    assert sorted(out.splitlines()) == sorted(f"type  {i}  {n}" for n, i in audit_ids().items())


def test_add_records_a_compiled_schema(st: Path, work: Path) -> None:
    assert fsf_("compile", AUDIT_SCHEMA, "-o", "audit.fsb")[0] == 0  # no store found: nothing recorded
    assert count(st, "types") == 0
    assert fsf_("store", "add", "audit.fsb", "--store", "st") == (0, lines_of(audit_ids()), "")
    assert count(st, "types") == len(AUDIT_TYPES)


def test_add_a_schema_with_errors_is_exit_1_and_the_others_are_still_added(st: Path, work: Path) -> None:
    (work / "bad.fsf").write_text("shape {\n", encoding="utf-8")
    code, out, err = fsf_("store", "add", "bad.fsf", AUDIT_SCHEMA, "--store", "st")
    assert (code, out) == (1, lines_of(audit_ids()))
    assert err == ("bad.fsf:1:7: error[F015]: expected a name, found `{`\n"
                   "  |\n"
                   "1 | shape {\n"
                   "  |       ^ a name goes here\n"
                   "\n"
                   "bad.fsf:1:8: error[F012]: missing `}` at end of file\n"
                   "  |\n"
                   "1 | shape {\n"
                   "  |        ^ the declaration above is not closed\n")
    assert fsf_("store", "add", "missing.fsf", "--store", "st")[0] == 1


def test_add_a_json_file_is_a_wrong_command_line(st: Path, work: Path) -> None:
    (work / "a.json").write_text("{}", encoding="utf-8")
    assert fsf_("store", "add", "a.json", "--store", "st") == (
        2, "", "error: `a.json` is a JSON value (the non-canonical compatibility form), not a schema; expected "
               "`.fsf` or `.fsb`\n")


# -- fsf compile | fsv encode record closures when there is a store ---------------------------------------------


def test_compile_records_every_type_in_the_store_found(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = work / "proj"
    proj.mkdir()
    for name in ("audit.fsf", "common.fsf"):
        shutil.copy(SHAPES / name, proj / name)
    monkeypatch.chdir(proj)
    assert fsf_("store", "init")[0] == 0
    assert fsf_("compile", "audit.fsf") == (0, lines_of(audit_ids()), "")
    assert (proj / "audit.fsb").is_file()
    assert count(proj / ".fsf", "types") == len(AUDIT_TYPES)
    assert all(obj(proj / ".fsf", "types", i).is_file() for i in audit_ids().values())


def test_compile_without_a_store_makes_none(work: Path) -> None:
    for name in ("audit.fsf", "common.fsf"):
        shutil.copy(SHAPES / name, work / name)
    assert fsf_("compile", "audit.fsf") == (0, lines_of(audit_ids()), "")
    assert not (work / ".fsf").exists() and locate_store(cwd=work, env={}) is None


def test_compile_into_a_named_store_and_into_a_folder_that_is_not_one(st: Path, work: Path) -> None:
    assert fsf_("compile", AUDIT_SCHEMA, "-o", "a.fsb", "--store", "st") == (0, lines_of(audit_ids()), "")
    assert count(st, "types") == len(AUDIT_TYPES)
    (work / "plain").mkdir()
    assert fsf_("compile", AUDIT_SCHEMA, "-o", "b.fsb", "--store", "plain") == (
        1, "", "error: `plain` is not a store (no FSF-STORE file); make one with `fsf store init plain` "
               "[not_a_store]\n")
    assert not (work / "b.fsb").exists()


def test_encode_records_the_closure_of_the_root_type(st: Path, work: Path) -> None:
    args = ("encode", "-s", AUDIT_SCHEMA, "--shape", "SignedAuditRecord", AUDIT / "SignedAuditRecord.1.json")
    assert fsv(*args, "-o", "one.fsv", "--store", "st") == (0, f"{R1}\n", "")
    assert (work / "one.fsv").read_bytes() == (work / F1).read_bytes()
    assert count(st, "types") == 1 and obj(st, "types", SIGNED).is_file()  # the closure, in one object
    assert count(st, "values") == 0  # encode records the schema, not the value
    assert fsf_("store", "ls", "--store", "st") == (0, f"type  {SIGNED}  SignedAuditRecord\n", "")
    # ... which is enough to read the value back with no schema file
    code, out, _ = fsv("decode", "one.fsv", "--store", "st")
    assert code == 0 and json.loads(out) == json.loads((AUDIT / "SignedAuditRecord.1.json").read_text("utf-8"))


def test_encode_without_a_store_makes_none(work: Path) -> None:
    args = ("encode", "-s", AUDIT_SCHEMA, "--shape", "SignedAuditRecord", AUDIT / "SignedAuditRecord.1.json")
    assert fsv(*args, "-o", "one.fsv") == (0, f"{R1}\n", "")
    assert not (work / ".fsf").exists() and locate_store(cwd=work, env={}) is None


# -- fsv put ------------------------------------------------------------------------------------------------------


def test_put_with_a_schema_records_it_and_the_chain(st: Path) -> None:
    assert fsv("put", "-s", AUDIT_SCHEMA, F1, "--store", "st") == (0, f"{R1}  {F1}\n", "")
    assert obj(st, "types", SIGNED).is_file()
    assert fsv("put", F2, F3, "--store", "st") == (0, f"{R2}  {F2}\n{R3}  {F3}\n", "")  # schema from the store
    assert fsv("put", F1, F2, "--store", "st") == (0, f"{R1}  {F1}\n{R2}  {F2}\n", "")  # idempotent
    for ident, name in ((R1, F1), (R2, F2), (R3, F3)):
        assert obj(st, "values", ident).read_bytes() == (st.parent / name).read_bytes()
    assert fsf_("store", "verify", "--store", "st") == (0, "3 value(s), 1 type(s) in st: ok\n", "")


def test_put_without_a_schema_needs_it_in_the_store(st: Path) -> None:
    assert fsv("put", F1, "--store", "st") == (1, "", f"error: {UNKNOWN_SCHEMA}\n")
    assert count(st, "values") == 0
    assert fsf_("store", "add", AUDIT_SCHEMA, "--store", "st")[0] == 0
    assert fsv("put", F1, "--store", "st") == (0, f"{R1}  {F1}\n", "")


def test_put_refuses_bytes_that_are_not_a_value(st: Path, work: Path) -> None:
    (work / "junk.fsv").write_bytes(b"garbage")
    assert fsv("put", "-s", AUDIT_SCHEMA, "junk.fsv", "--store", "st") == (
        1, "", "error: not an FSV value: starts with `67 61 72 62`, expected `89 46 53 56` - at byte 0 [bad_magic]\n")
    (work / "cut.fsv").write_bytes((work / F1).read_bytes()[:-1])
    assert fsv("put", "-s", AUDIT_SCHEMA, "cut.fsv", "--store", "st") == (
        1, "", "error: str declares 24 bytes; only 23 byte(s) remain at `$.keyId` - at byte 203 "
               "[length_exceeds_input]\n")
    assert count(st, "values") == 0


def test_put_refuses_non_canonical_bytes(st: Path, work: Path) -> None:
    (work / "u8.fsf").write_text("shape U8 { v: u8 }\n", encoding="utf-8")
    good = fsf.load_schema(work / "u8.fsf").encode("U8", {"v": 1})
    assert good[HEADER_SIZE:] == bytes.fromhex("9101")
    (work / "wide.fsv").write_bytes(good[:HEADER_SIZE] + bytes.fromhex("91cc01"))  # 1 in a uint8 head
    assert fsv("put", "-s", "u8.fsf", "wide.fsv", "--store", "st") == (
        1, "", "error: int 1 in a wider head (`cc`) than needed at `$.v` - at byte 38 [non_canonical]\n")
    assert count(st, "values") == 0
    assert count(st, "types") == 0  # a refused value records no schema either


def test_put_refuses_a_dangling_ref(st: Path) -> None:
    assert fsv("put", "-s", AUDIT_SCHEMA, F2, "--store", "st") == (
        1, "", f"error: reference to {R1}, which is not in the store st - at `$.record.prev` of {R2} "
               f"[dangling_ref]\n")
    assert count(st, "values") == 0


def test_put_refuses_a_ref_to_a_value_of_another_type(work: Path) -> None:
    record = json.loads((AUDIT / "SignedAuditRecord.2.json").read_text("utf-8"))
    record["record"]["prev"] = PLAN  # a ForgePlan, stored in the example store
    (work / "wrong.json").write_text(json.dumps(record), encoding="utf-8")
    code, out, _ = fsv("encode", "-s", AUDIT_SCHEMA, "--shape", "SignedAuditRecord", "wrong.json", "-o",
                       "wrong.fsv")
    assert code == 0
    wrong = out.strip()
    plan_type = fsf.load_schema(SHAPES / "forge-plan.fsf").id("ForgePlan")
    assert fsv("put", "wrong.fsv", "--store", "ex") == (
        1, "", f"error: reference to {PLAN} should be a `SignedAuditRecord` ({SIGNED}), but that value's root type "
               f"is {plan_type} - at `$.record.prev` of {wrong} [ref_type]\n")
    assert not obj(work / "ex", "values", wrong).exists()


def test_put_one_bad_file_among_good_ones_is_exit_1(st: Path, work: Path) -> None:
    (work / "junk.fsv").write_bytes(b"garbage")
    code, out, err = fsv("put", "-s", AUDIT_SCHEMA, F1, "junk.fsv", F2, "--store", "st")
    assert (code, out) == (1, f"{R1}  {F1}\n{R2}  {F2}\n")
    assert err.endswith("[bad_magic]\n")


def test_put_a_json_file_is_a_wrong_command_line(st: Path, work: Path) -> None:
    (work / "a.json").write_text("{}", encoding="utf-8")
    assert fsv("put", "a.json", "--store", "st") == (
        2, "", "error: `a.json` is a JSON value (the non-canonical compatibility form), not read as an FSV value; "
               "expected `.fsv`\n")


def test_put_with_a_json_schema_is_a_wrong_command_line(st: Path, work: Path) -> None:
    (work / "a.json").write_text("{}", encoding="utf-8")
    assert fsv("put", "-s", "a.json", F1, "--store", "st") == (
        2, "", "error: `a.json` is a JSON value (the non-canonical compatibility form), not a schema; expected "
               "`.fsf` or `.fsb`\n")


# -- fsv get ------------------------------------------------------------------------------------------------------


def test_get_to_a_file_and_to_stdout(work: Path) -> None:
    data = (work / F1).read_bytes()
    assert fsv("get", R1, "-o", "got.fsv", "--store", "ex") == (0, "", "")
    assert (work / "got.fsv").read_bytes() == data
    result = runner.invoke(fsv_app, ["get", R1.removeprefix("blake3:"), "--store", "ex"])
    assert result.exit_code == 0 and result.stdout_bytes == data
    result = runner.invoke(fsv_app, ["get", F1, "--store", "ex"])  # an .fsv file names its content id
    assert result.exit_code == 0 and result.stdout_bytes == data


def test_get_an_unknown_id_is_not_found(work: Path) -> None:
    assert fsv("get", NOWHERE, "-o", "got.fsv", "--store", "ex") == (
        1, "", f"error: no value {NOWHERE} in the store ex [not_found]\n")
    assert not (work / "got.fsv").exists()


@pytest.mark.parametrize("ident", ["blake3:xyz", "blake3:" + "A" * 64, "sha256:" + "0" * 64, "0" * 63])
def test_get_a_malformed_id_is_a_wrong_command_line(work: Path, ident: str) -> None:
    assert fsv("get", ident, "--store", "ex") == (
        2, "", f"error: `{ident}` is not a content or type id (`blake3:` and 64 lowercase hex digits)\n")


def test_get_to_a_json_file_is_a_wrong_command_line(work: Path) -> None:
    assert fsv("get", R1, "-o", "got.json", "--store", "ex") == (
        2, "", "error: `got.json` is a JSON value (the non-canonical compatibility form), not written as an FSV "
               "value; expected `.fsv`\n")


def test_get_a_corrupt_object_is_an_integrity_error(work: Path) -> None:
    rewrite(obj(work / "ex", "values", R2), flip=-5)
    code, out, err = fsv("get", R2, "-o", "got.fsv", "--store", "ex")
    corrupt = fsf.content_id(obj(work / "ex", "values", R2).read_bytes())
    assert (code, out, err) == (1, "", f"error: value {R2} is corrupt in the store (its bytes hash to {corrupt}, not "
                                       f"to its name) [integrity]\n")
    assert not (work / "got.fsv").exists()


# -- fsv log | refs -----------------------------------------------------------------------------------------------


def test_log_walks_the_chain_newest_first(work: Path, golden: Golden) -> None:
    code, out, err = fsv("log", F3, "--via", "record.prev", "--store", "ex")
    assert (code, err) == (0, "")
    assert out == f"{R3}  SignedAuditRecord\n{R2}  SignedAuditRecord\n{R1}  SignedAuditRecord\n" \
                  "3 value(s) in the chain\n"
    golden.text(GOLDEN / "log.txt", out)
    assert fsv("log", R3, "--via", "record.prev", "--store", "ex") == (0, out, "")  # an id works as well
    assert fsv("log", R1, "--via", "record.prev", "--store", "ex") == (
        0, f"{R1}  SignedAuditRecord\n1 value(s) in the chain\n", "")


def test_log_stops_at_a_corrupt_record_and_names_it_and_the_link(work: Path) -> None:
    rewrite(obj(work / "ex", "values", R2), flip=-5)
    corrupt = fsf.content_id(obj(work / "ex", "values", R2).read_bytes())
    assert fsv("log", F3, "--via", "record.prev", "--store", "ex") == (
        1, f"{R3}  SignedAuditRecord\n",
        f"error: broken link: value {R2} is corrupt in the store (its bytes hash to {corrupt}, not to its name) - "
        f"at `$.record.prev` of {R3} [integrity]\n")


def test_log_of_a_missing_first_value_is_not_found(work: Path) -> None:
    assert fsv("log", NOWHERE, "--via", "record.prev", "--store", "ex") == (
        1, "", f"error: no value {NOWHERE} in the store ex [not_found]\n")


@pytest.mark.parametrize(("via", "message"), [
    ("record.nope", "`record.nope` is not a field path of `SignedAuditRecord`: no field `nope` at `$.record`"),
    ("prev", "`prev` is not a field path of `SignedAuditRecord`: no field `prev` at `$`"),
    ("keyId", "`keyId` of `SignedAuditRecord` has the type `str[1..64]`, not `ref<T>`"),
    ("record.prev.x", "`record.prev.x` is not a field path of `SignedAuditRecord`: no field `x` at `$.record.prev`"),
])
def test_log_via_a_path_that_is_not_a_ref_is_a_wrong_command_line(work: Path, via: str, message: str) -> None:
    code, out, err = fsv("log", F3, "--via", via, "--store", "ex")
    assert (code, err) == (2, f"error: {message}\n")
    assert out == ""  # the path is checked before any line is printed


def test_log_needs_via(work: Path) -> None:
    code, _, err = fsv("log", F3, "--store", "ex")
    assert code == 2 and "--via" in err


def test_refs_lists_everything_reachable(work: Path) -> None:
    assert fsv("refs", F3, "--store", "ex") == (0, f"{R2}  SignedAuditRecord\n{R1}  SignedAuditRecord\n", "")
    assert fsv("refs", R2, "--store", "ex") == (0, f"{R1}  SignedAuditRecord\n", "")
    assert fsv("refs", F1, "--store", "ex") == (0, "", "")
    assert fsv("refs", NOWHERE, "--store", "ex") == (1, "", f"error: no value {NOWHERE} in the store ex "
                                                            f"[not_found]\n")
    assert fsv("refs", "nope", "--store", "ex")[0] == 2


def test_refs_through_a_corrupt_record_is_exit_1(work: Path) -> None:
    rewrite(obj(work / "ex", "values", R2), flip=-5)
    code, out, err = fsv("refs", F3, "--store", "ex")
    assert (code, out) == (1, "") and err.startswith(f"error: value {R2} is corrupt") and err.endswith(
        "[integrity]\n")


# -- fsf store ls | show ------------------------------------------------------------------------------------------


def test_ls_lists_every_type_and_value(work: Path, golden: Golden) -> None:
    code, out, err = fsf_("store", "ls", "--store", "ex")
    assert (code, err) == (0, "")
    golden.text(GOLDEN / "ls.txt", out)
    lines = out.splitlines()
    assert len(lines) == count(work / "ex", "types") + count(work / "ex", "values")
    assert f"type  {SIGNED}  SignedAuditRecord" in lines
    assert all(f"value {r}  SignedAuditRecord" in lines for r in (R1, R2, R3))


def test_ls_marks_a_corrupt_value_with_a_question_mark(work: Path) -> None:
    rewrite(obj(work / "ex", "values", R2), flip=-5)
    corrupt = fsf.content_id(obj(work / "ex", "values", R2).read_bytes())
    code, out, err = fsf_("store", "ls", "--store", "ex")
    assert code == 1
    assert f"value {R2}  ?" in out.splitlines()
    assert f"value {R1}  SignedAuditRecord" in out.splitlines()  # the others are still listed
    assert err == (f"error: {R2}: value {R2} is corrupt in the store (its bytes hash to {corrupt}, not to its name) "
                   f"[integrity]\n")


def test_ls_of_an_empty_store(st: Path) -> None:
    assert fsf_("store", "ls", "--store", "st") == (0, "", "")


def test_show_prints_a_closure_as_source(work: Path, golden: Golden) -> None:
    code, out, err = fsf_("store", "show", SIGNED, "--store", "ex")
    assert (code, err) == (0, "")
    assert out.startswith(f"// SignedAuditRecord {SIGNED}, as recorded in the store\n")
    golden.text(GOLDEN / "show_SignedAuditRecord.fsf", out)


def test_show_output_checks_and_compiles_to_the_same_ids(work: Path) -> None:
    """Every stored type, shown, written to a file, checked and compiled: the same type id comes back."""
    type_ids = sorted(p.parent.name + p.name for p in (work / "ex" / "types").glob("*/*"))
    assert SIGNED.removeprefix("blake3:") in type_ids
    for digest in type_ids:
        code, out, err = fsf_("store", "show", f"blake3:{digest}", "--store", "ex")
        assert (code, err) == (0, ""), digest
        name = out.split(" ", 2)[1]
        shown = work / "shown" / f"{digest}.fsf"
        shown.parent.mkdir(exist_ok=True)
        shown.write_text(out, encoding="utf-8")
        assert fsf_("check", shown) == (0, "", "")
        code, compiled, _ = fsf_("compile", shown)
        assert code == 0
        assert f"{name} blake3:{digest}" in compiled.splitlines()
        assert fsf.load_schema(shown.with_suffix(".fsb")).id(name) == f"blake3:{digest}"


def test_show_prints_what_a_hostile_doc_holds(st: Path) -> None:
    """A stored schema is not judged by the checker: a doc holding bidi overrides or terminal controls is shown
    as `\\u{XXXX}` (the source then says what it holds wherever it is printed), and it checks to the same id."""
    hostile = ir.Schema((ir.Shape("Task", (ir.Field("id", ir.Str(), "run \u202eexe.txt\r\x1b[2Jshape Evil {}"),),
                                  "Tasks.\u2066hidden\u2069"),))
    schema = fsf.Schema(hostile)
    fsf.open_store("st").add_schema(schema)
    code, out, err = fsf_("store", "show", schema.id("Task"), "--store", "st")
    assert (code, err) == (0, "")
    assert out == (f"// Task {schema.id('Task')}, as recorded in the store\n"
                   "/// Tasks.\\u{2066}hidden\\u{2069}\n"
                   "shape Task {\n"
                   "  /// run \\u{202E}exe.txt\\u{000D}\\u{001B}[2Jshape Evil {}\n"
                   "  id: str,\n"
                   "}\n")
    assert fsf.compile_source(out).id("Task") == schema.id("Task")


def test_show_prints_nothing_of_a_schema_it_cannot_write(st: Path) -> None:
    """A stored annotation string that one line of source cannot hold is refused before anything is printed:
    not even the header line (which names the type) reaches the terminal."""
    hostile = ir.Schema((ir.Shape("Task", (ir.Field("id", ir.Str(), deprecated="use \u202eexe"),)),))
    schema = fsf.Schema(hostile)
    fsf.open_store("st").add_schema(schema)
    code, out, err = fsf_("store", "show", schema.id("Task"), "--store", "st")
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and "U+202E" in err and err.count("\n") == 1


def test_show_an_unknown_or_malformed_type_id(work: Path) -> None:
    assert fsf_("store", "show", NOWHERE, "--store", "ex") == (
        1, "", f"error: the schema of type {NOWHERE} is not in the store ex; add it with `fsf store add SCHEMA` "
               "(`fsf store import-history SCHEMA` for its versions in git) or give `-s SCHEMA` [schema_unknown]\n")
    assert fsf_("store", "show", "nope", "--store", "ex") == (
        2, "", "error: `nope` is not a content or type id (`blake3:` and 64 lowercase hex digits)\n")


# -- fsf store verify ---------------------------------------------------------------------------------------------


def test_verify_a_sound_store(work: Path) -> None:
    values, types = count(work / "ex", "values"), count(work / "ex", "types")
    assert fsf_("store", "verify", "--store", "ex") == (0, f"{values} value(s), {types} type(s) in ex: ok\n", "")


def _flip(store: Path) -> str:
    path = obj(store, "values", R2)
    rewrite(path, flip=-5)
    return f"values/{path.parent.name}/{path.name}"


def _truncate(store: Path) -> str:
    path = obj(store, "values", TABLE)
    rewrite(path, path.read_bytes()[:-3])
    return f"values/{path.parent.name}/{path.name}"


def _misname(store: Path) -> str:
    path = obj(store, "values", USAGE)  # a value no other value refers to
    wrong = obj(store, "values", "blake3:" + USAGE.removeprefix("blake3:")[:2] + "0" * 62)
    path.rename(wrong)
    return f"values/{wrong.parent.name}/{wrong.name}"


def _drop_type(store: Path) -> str:
    obj(store, "types", ARTIFACT_TYPE).unlink()  # the one Artifact value's writer type
    path = obj(store, "values", ARTIFACT_VALUE)
    return f"values/{path.parent.name}/{path.name}"


def _stray(store: Path) -> str:
    (store / "values" / "notes.txt").write_text("hello", encoding="utf-8")
    return "values/notes.txt"


def _stray_type(store: Path) -> str:
    (store / "types" / "ab").mkdir(exist_ok=True)
    (store / "types" / "ab" / "zz").write_text("hello", encoding="utf-8")
    return "types/ab/zz"


@pytest.mark.parametrize(("damage", "code", "types_lost"), [
    (_flip, "integrity", 0), (_truncate, "integrity", 0), (_misname, "integrity", 0),
    (_drop_type, "schema_unknown", 1), (_stray, "stray", 0), (_stray_type, "stray", 0),
])
def test_verify_lists_each_problem(work: Path, damage: Callable[[Path], str], code: str, types_lost: int) -> None:
    values, types = count(work / "ex", "values"), count(work / "ex", "types")
    key = damage(work / "ex")
    got, out, err = fsf_("store", "verify", "--store", "ex")
    assert (got, out) == (1, "")
    first, summary = err.splitlines()
    assert first.startswith(f"error: {key}: ") and first.endswith(f" [{code}]")
    assert summary == f"{values} value(s), {types - types_lost} type(s) in ex: 1 problem(s)"  # strays not counted


def test_verify_lists_every_problem_at_once(work: Path, golden: Golden) -> None:
    for damage in (_flip, _truncate, _misname, _drop_type, _stray, _stray_type):
        damage(work / "ex")
    code, out, err = fsf_("store", "verify", "--store", "ex")
    assert (code, out) == (1, "")
    assert err.endswith(": 6 problem(s)\n")
    golden.text(GOLDEN / "verify_problems.txt", err)


def test_verify_notes_a_temp_file_left_by_a_killed_writer(work: Path) -> None:
    (work / "ex" / "tmp").mkdir(exist_ok=True)
    (work / "ex" / "tmp" / "4242-0123456789abcdef.tmp").write_bytes(b"half an obj")
    values, types = count(work / "ex", "values"), count(work / "ex", "types")
    assert fsf_("store", "verify", "--store", "ex") == (
        0, f"{values} value(s), {types} type(s) in ex: ok\n",
        "note: tmp/4242-0123456789abcdef.tmp: a temp file a killed writer left (not corruption; the next put "
        "removes it)\n")


def test_verify_a_cloned_store_without_tmp(work: Path) -> None:
    shutil.rmtree(work / "ex" / "tmp", ignore_errors=True)  # git keeps no empty folder (a clone has none)
    assert fsf_("store", "verify", "--store", "ex")[0] == 0
    assert fsv("put", F1, "--store", "ex")[0] == 0


# -- fsv verify | decode | inspect with a store -------------------------------------------------------------------


def test_verify_values_with_the_writer_schema_and_refs_from_the_store(work: Path) -> None:
    assert fsv("verify", F1, F2, F3, "--store", "ex") == (
        0, f"ok  {R1}  {F1}\nok  {R2}  {F2}\nok  {R3}  {F3}\n", "")


def test_verify_follows_refs_through_the_whole_graph(work: Path) -> None:
    obj(work / "ex", "values", R1).unlink()
    missing = f"reference to {R1}, which is not in the store ex - at `$.record.prev` of {R2} [dangling_ref]"
    assert fsv("verify", F1, F2, F3, "--store", "ex") == (
        1, f"ok  {R1}  {F1}\n",
        f"error: {F2}: {missing}\nerror: {F3}: {missing}\n2 of 3 file(s) failed verification\n")


def test_verify_with_a_schema_and_a_store_still_checks_refs(work: Path) -> None:
    obj(work / "ex", "values", R1).unlink()
    code, _, err = fsv("verify", "-s", AUDIT_SCHEMA, F2, "--store", "ex")
    assert code == 1 and err.endswith("[dangling_ref]\n1 of 1 file(s) failed verification\n")


def test_verify_with_a_schema_and_no_store_checks_no_refs(work: Path) -> None:
    assert fsv("verify", "-s", AUDIT_SCHEMA, F2) == (0, f"ok  {R2}  {F2}\n", "")


def test_verify_expect(work: Path) -> None:
    assert fsv("verify", F1, "--expect", R1, "--store", "ex") == (0, f"ok  {R1}  {F1}\n", "")
    assert fsv("verify", F1, "--expect", R1.removeprefix("blake3:"), "--store", "ex")[0] == 0
    assert fsv("verify", F1, "--expect", F1, "--store", "ex")[0] == 0  # an .fsv file names its content id
    assert fsv("verify", F1, "--expect", R2, "--store", "ex") == (
        1, "", f"error: {F1}: hashes to {R1}, expected {R2} [integrity]\n1 of 1 file(s) failed verification\n")
    assert fsv("verify", F1, F2, "--expect", R1, "--store", "ex") == (
        2, "", "error: --expect checks one file; give exactly one\n")
    assert fsv("verify", F1, "--expect", "nope", "--store", "ex") == (
        2, "", "error: `nope` is not a content or type id (`blake3:` and 64 lowercase hex digits)\n")


def test_verify_a_file_named_by_its_content_id(work: Path) -> None:
    named = f"{R1.removeprefix('blake3:')}.fsv"
    shutil.copy(work / F1, work / named)
    assert fsv("verify", named, "--store", "ex") == (0, f"ok  {R1}  {named}\n", "")
    assert fsv("verify", "-s", AUDIT_SCHEMA, named) == (0, f"ok  {R1}  {named}\n", "")  # with no store too
    data = bytearray((work / named).read_bytes())
    data[-1] ^= 0x01  # still a valid value (a signature byte), no longer these bytes
    (work / named).write_bytes(bytes(data))
    changed = fsf.content_id(bytes(data))
    assert fsv("verify", "-s", AUDIT_SCHEMA, named) == (
        1, "", f"error: {named}: the file is named by content id {R1} but hashes to {changed} [integrity]\n"
               "1 of 1 file(s) failed verification\n")


def test_decode_with_no_schema_reads_the_writer_schema_from_the_store(work: Path) -> None:
    code, out, err = fsv("decode", F3, "--store", "ex")
    assert (code, err) == (0, "")
    assert json.loads(out) == json.loads((AUDIT / "SignedAuditRecord.3.json").read_text("utf-8"))


def test_decode_and_verify_with_no_schema_and_no_store_say_how(work: Path) -> None:
    assert fsv("decode", F1) == (2, "", NO_SCHEMA_HINT)
    assert fsv("verify", F1) == (2, "", NO_SCHEMA_HINT)


def test_decode_a_value_whose_schema_is_not_in_the_store(st: Path) -> None:
    assert fsv("decode", F1, "--store", "st") == (1, "", f"error: {UNKNOWN_SCHEMA}\n")
    assert fsv("verify", F1, "--store", "st") == (
        1, "", f"error: {F1}: {UNKNOWN_SCHEMA}\n1 of 1 file(s) failed verification\n")


def test_inspect_names_the_root_type_from_the_store(work: Path, st: Path) -> None:
    code, out, _ = fsv("inspect", F1, "--store", "ex")
    assert code == 0
    assert out.splitlines()[:3] == ["format version: 1", f"root type id:   {SIGNED}",
                                    "root type:      SignedAuditRecord"]
    code, out, _ = fsv("inspect", F1, "--store", "st")
    assert code == 0 and out.splitlines()[2] == "root type:      (not in the store st)"
    code, out, _ = fsv("inspect", F1)  # no store: no root type line
    assert code == 0 and not any(line.startswith("root type:") for line in out.splitlines())


# -- discovery ----------------------------------------------------------------------------------------------------


def test_discovery_order_store_option_then_env_then_nearest_dot_fsf(work: Path, monkeypatch: pytest.MonkeyPatch
                                                                    ) -> None:
    for folder in ("a/.fsf", "envstore", "opt"):
        assert fsf_("store", "init", folder)[0] == 0
    assert fsv("put", "-s", AUDIT_SCHEMA, F1, "--store", "a/.fsf")[0] == 0
    assert fsf_("store", "add", AUDIT_SCHEMA, "--store", "envstore")[0] == 0
    deep = work / "a" / "b" / "c"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert fsf_("store", "verify") == (0, f"1 value(s), 1 type(s) in {work / 'a' / '.fsf'}: ok\n", "")
    monkeypatch.setenv("FSF_STORE", str(work / "envstore"))
    assert fsf_("store", "verify") == (0, f"0 value(s), {len(AUDIT_TYPES)} type(s) in {work / 'envstore'}: ok\n", "")
    assert fsf_("store", "verify", "--store", str(work / "opt")) == (0, f"0 value(s), 0 type(s) in {work / 'opt'}: ok\n",
                                                                    "")


def test_discovery_finds_a_dot_fsf_in_a_parent_for_every_command(work: Path, monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    shutil.copytree(work / "ex", work / "a" / ".fsf")
    (work / "a" / "b").mkdir()
    for name in (F1, F2, F3):
        shutil.move(work / name, work / "a" / "b" / name)
    monkeypatch.chdir(work / "a" / "b")
    assert fsv("decode", F1)[0] == 0
    assert fsv("verify", F1, F2, F3)[0] == 0
    assert fsv("log", F3, "--via", "record.prev")[1].endswith("3 value(s) in the chain\n")
    assert fsv("refs", F3)[1] == f"{R2}  SignedAuditRecord\n{R1}  SignedAuditRecord\n"
    assert fsv("inspect", F1)[1].splitlines()[2] == "root type:      SignedAuditRecord"
    assert fsf_("store", "show", SIGNED)[0] == 0


def test_fsf_store_env(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSF_STORE", "ex")
    assert fsv("log", F3, "--via", "record.prev")[0] == 0
    assert fsv("get", R1, "-o", "got.fsv") == (0, "", "")
    monkeypatch.setenv("FSF_STORE", "")  # empty: as if unset
    assert fsv("get", R1, "-o", "got.fsv")[0] == 1


def test_a_folder_that_is_not_a_store(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (work / "plain").mkdir()
    not_a_store = "error: `plain` is not a store (no FSF-STORE file); make one with `fsf store init plain` " \
                  "[not_a_store]\n"
    assert fsf_("store", "ls", "--store", "plain") == (1, "", not_a_store)
    assert fsf_("store", "verify", "--store", "plain") == (1, "", not_a_store)
    assert fsv("put", F1, "--store", "plain") == (1, "", not_a_store)
    assert fsv("decode", F1, "--store", "plain") == (1, "", not_a_store)  # a named store must be one
    assert fsv("verify", F1, "--store", "plain") == (1, "", not_a_store)
    assert fsv("inspect", F1, "--store", "plain") == (1, "", not_a_store)
    assert fsf_("store", "ls", "--store", "missing")[0] == 1
    monkeypatch.setenv("FSF_STORE", "plain")
    assert fsf_("store", "ls") == (1, "", not_a_store)
    assert fsv("decode", F1) == (1, "", not_a_store)


def test_no_store_anywhere(work: Path) -> None:
    no_store = ("error: no store here: no `.fsf` folder in this folder or a parent, and no $FSF_STORE; make one with "
                "`fsf store init` [not_a_store]\n")
    assert fsf_("store", "ls") == (1, "", no_store)
    assert fsf_("store", "verify") == (1, "", no_store)
    assert fsf_("store", "show", SIGNED) == (1, "", no_store)
    assert fsf_("store", "add", AUDIT_SCHEMA) == (1, "", no_store)
    assert fsv("put", F1) == (1, "", no_store)
    assert fsv("get", R1, "-o", "x.fsv") == (1, "", no_store)
    assert fsv("log", F3, "--via", "record.prev") == (1, "", no_store)
    assert fsv("refs", F3) == (1, "", no_store)


# -- the fresh clone: a git repository of values and their store is self-sufficient -------------------------------


def _script(name: str) -> list[str]:
    """The installed console script ``name`` (next to this Python, else on PATH, else the module's main)."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    if found is not None:
        return [found]
    return [sys.executable, "-c", f"from fsf.cli.{name}_tool import main; main()"]


def test_a_fresh_clone_reads_walks_and_verifies_its_values(tmp_path: Path) -> None:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    env = {k: v for k, v in os.environ.items() if k != "FSF_STORE"}
    env.update(GIT_AUTHOR_NAME="fsf tests", GIT_AUTHOR_EMAIL="tests@example.invalid", GIT_COMMITTER_NAME="fsf tests",
               GIT_COMMITTER_EMAIL="tests@example.invalid", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")

    def sh(cmd: list[str], cwd: Path) -> str:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{cmd} in {cwd}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr
        return done.stdout

    origin = tmp_path / "origin"
    origin.mkdir()
    for name in (F1, F2, F3):
        shutil.copy(AUDIT / name, origin / name)
    fsf_cmd, fsv_cmd = _script("fsf"), _script("fsv")
    sh([*fsf_cmd, "store", "init"], origin)
    sh([*fsv_cmd, "put", "-s", str(AUDIT_SCHEMA), F1, F2, F3], origin)
    sh([git, "-c", "init.defaultBranch=main", "init", "-q"], origin)
    sh([git, "add", "."], origin)
    sh([git, "commit", "-q", "-m", "audit values and their store"], origin)
    clone = tmp_path / "clone"
    sh([git, "clone", "-q", str(origin), str(clone)], tmp_path)

    tracked = sorted(sh([git, "ls-files"], clone).split())
    assert [t for t in tracked if not t.startswith(".fsf/")] == [F1, F2, F3]  # no schema file anywhere
    assert not (clone / ".fsf" / "tmp").exists()
    out = sh([*fsv_cmd, "decode", F3], clone)
    assert json.loads(out) == json.loads((AUDIT / "SignedAuditRecord.3.json").read_text("utf-8"))
    assert sh([*fsv_cmd, "log", F3, "--via", "record.prev"], clone) == (
        f"{R3}  SignedAuditRecord\n{R2}  SignedAuditRecord\n{R1}  SignedAuditRecord\n3 value(s) in the chain\n")
    assert sh([*fsv_cmd, "refs", F3], clone) == f"{R2}  SignedAuditRecord\n{R1}  SignedAuditRecord\n"
    assert sh([*fsv_cmd, "verify", F1, F2, F3], clone) == f"ok  {R1}  {F1}\nok  {R2}  {F2}\nok  {R3}  {F3}\n"
    assert sh([*fsf_cmd, "store", "verify"], clone) == f"3 value(s), 1 type(s) in {clone / '.fsf'}: ok\n"
    shown = sh([*fsf_cmd, "store", "show", SIGNED], clone)
    assert shown.startswith(f"// SignedAuditRecord {SIGNED}, as recorded in the store\n")
    assert fsf.compile_source(shown).id("SignedAuditRecord") == SIGNED
