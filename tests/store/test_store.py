"""The store's embedded API: put/get/has/iteration, corruption caught on read and by ``verify``, references and
chains, schemas rebuilt from the store alone, discovery, and a hypothesis round trip over random schemas."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import blake3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsf
from fsf import ir
from fsf.errors import StoreError, UsageError
from fsf.fsv.header import content_id, read_header
from fsf.store import Store, find_store, init_store, key_of, locate_store, open_store
from fsf.store.backend import TMP
from fsf.store.graph import closure
from tests.support.strategies import schema_texts, values

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "shapes"
EXAMPLES = SHAPES / "examples"
AUDIT = [(EXAMPLES / "audit" / f"SignedAuditRecord.{i}.fsv").read_bytes() for i in (1, 2, 3)]
ID1, ID2, ID3 = (content_id(d) for d in AUDIT)
PLAN = (EXAMPLES / "forge-plan" / "ForgePlan.vortex.fsv").read_bytes()
REPORT = (EXAMPLES / "forge-report" / "ForgeReport.vortex.fsv").read_bytes()


@pytest.fixture(scope="module")
def audit() -> fsf.Schema:
    return fsf.load_schema(SHAPES / "audit.fsf")


@pytest.fixture(scope="module")
def plans() -> fsf.Schema:
    return fsf.load_schema(SHAPES / "forge-plan.fsf")


@pytest.fixture(scope="module")
def reports() -> fsf.Schema:
    return fsf.load_schema(SHAPES / "forge-report.fsf")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return init_store(tmp_path / ".fsf")


@pytest.fixture
def chain(store: Store, audit: fsf.Schema) -> Store:
    """The store holding the audit chain 3 -> 2 -> 1 (and the closure of `SignedAuditRecord`)."""
    assert [store.put(d, audit) for d in AUDIT] == [ID1, ID2, ID3]
    return store


def path_of(store: Store, folder: str, ident: str) -> Path:
    return Path(store.where, *key_of(folder, bytes.fromhex(ident.removeprefix("blake3:"))).split("/"))


def overwrite(path: Path, data: bytes) -> None:
    """Replace a (read-only) object's bytes in place, as a disk fault or a careless hand would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.chmod(0o644)
    path.write_bytes(data)


def flipped(data: bytes, at: int | None = None) -> bytes:
    out = bytearray(data)
    out[len(out) // 2 if at is None else at] ^= 0x01
    return bytes(out)


def random_id() -> str:
    return "blake3:" + secrets.token_hex(32)


def with_prev(audit: fsf.Schema, prev: str | None) -> bytes:
    """Record 2 pointing at ``prev`` instead of record 1."""
    value = audit.decode(AUDIT[1])
    value["record"]["prev"] = prev
    return audit.encode("SignedAuditRecord", value)


def problems(store: Store) -> set[tuple[str, str]]:
    return {(p.code, p.key) for p in store.verify().problems}


def key(folder: str, ident: str) -> str:
    return key_of(folder, bytes.fromhex(ident.removeprefix("blake3:")))


# -- values -----------------------------------------------------------------------------------------------------


def test_put_then_get_returns_the_same_bytes_under_their_content_id(store: Store, audit: fsf.Schema) -> None:
    ident = store.put(AUDIT[0], audit)
    assert ident == ID1 == "blake3:" + blake3.blake3(AUDIT[0]).hexdigest()
    assert store.get(ident) == AUDIT[0]
    assert store.get(ident.removeprefix("blake3:")) == AUDIT[0]  # the bare hex digits name it too


def test_put_is_idempotent_the_same_bytes_twice_change_nothing(store: Store, audit: fsf.Schema) -> None:
    ident = store.put(AUDIT[0], audit)
    before = os.stat(path_of(store, "values", ident))
    assert store.put(AUDIT[0], audit) == ident
    assert store.put(AUDIT[0]) == ident  # the writer schema now comes from the store
    after = os.stat(path_of(store, "values", ident))
    assert (after.st_ino, after.st_mtime_ns, after.st_nlink) == (before.st_ino, before.st_mtime_ns, before.st_nlink)
    assert list(store) == [ident]
    assert os.listdir(Path(store.where, TMP)) == []


def test_iteration_lists_exactly_the_values(chain: Store, plans: fsf.Schema) -> None:
    plan = chain.put(PLAN, plans)
    Path(chain.where, "values", "stray.txt").write_text("not an object")
    assert sorted(chain) == sorted([ID1, ID2, ID3, plan])
    assert len(set(chain.type_ids())) == 2  # SignedAuditRecord and ForgePlan: types are not values


def test_has_and_contains(chain: Store) -> None:
    assert chain.has(ID1) and ID2 in chain and ID3.removeprefix("blake3:") in chain
    other = random_id()
    assert not chain.has(other) and other not in chain
    assert 42 not in chain


def test_objects_are_read_only_and_sharded_by_the_first_two_hex_digits(chain: Store, audit: fsf.Schema) -> None:
    for ident in (ID1, ID2, ID3):
        hexdigits = ident.removeprefix("blake3:")
        path = Path(chain.where, "values", hexdigits[:2], hexdigits[2:])
        assert path.is_file() and len(path.name) == 62 and path.read_bytes() == chain.get(ident)
        assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0
    type_path = path_of(chain, "types", audit.id("SignedAuditRecord"))
    assert type_path.is_file() and stat.S_IMODE(type_path.stat().st_mode) & 0o222 == 0


def test_get_of_a_value_not_stored_is_not_found(store: Store) -> None:
    missing = random_id()
    with pytest.raises(StoreError) as err:
        store.get(missing)
    assert err.value.code == "not_found" and err.value.id == missing


@pytest.mark.parametrize("text", ["", "blake3:", "blake3:" + "A" * 64, "sha256:" + "0" * 64, "0" * 63])
def test_a_malformed_id_is_a_usage_error(store: Store, text: str) -> None:
    with pytest.raises(UsageError, match="is not a content or type id"):
        store.get(text)


def test_put_refuses_bytes_that_are_not_a_valid_value(store: Store, audit: fsf.Schema) -> None:
    with pytest.raises(fsf.DecodeError):
        store.put(AUDIT[0][:-1], audit)
    with pytest.raises(fsf.DecodeError):
        store.put(AUDIT[0] + b"\x00", audit)
    with pytest.raises(fsf.DecodeError):
        store.put(b"not fsv", audit)
    assert list(store) == []


def test_put_without_a_schema_needs_the_writer_schema_in_the_store(store: Store, audit: fsf.Schema) -> None:
    with pytest.raises(StoreError) as err:
        store.put(AUDIT[0])
    assert err.value.code == "schema_unknown" and err.value.id == audit.id("SignedAuditRecord")
    store.add_schema(audit)
    assert store.put(AUDIT[0]) == ID1


# -- corruption -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", [flipped, lambda d: d[:-1], lambda d: d[: len(d) // 2], lambda d: b""],
                         ids=["flipped-byte", "truncated-by-one", "truncated-by-half", "emptied"])
def test_a_damaged_value_is_an_integrity_error_on_get_and_in_verify(chain: Store, damage: Any) -> None:
    overwrite(path_of(chain, "values", ID2), damage(AUDIT[1]))
    with pytest.raises(StoreError) as err:
        chain.get(ID2)
    assert err.value.code == "integrity" and err.value.id == ID2
    report = chain.verify()
    assert not report.ok
    found = {(p.code, p.key) for p in report.problems}
    assert ("integrity", key("values", ID2)) in found
    # record 3 links to the damaged record and may be listed too (a link to unreadable bytes); nothing else is
    assert {k for _, k in found} <= {key("values", ID2), key("values", ID3)}
    assert (report.values, report.types, report.leftovers) == (3, 1, ())


def test_a_value_copied_under_a_wrong_name_is_an_integrity_error(chain: Store) -> None:
    wrong = random_id()
    overwrite(path_of(chain, "values", wrong), path_of(chain, "values", ID1).read_bytes())
    assert wrong in chain  # present, but not what its name says
    with pytest.raises(StoreError) as err:
        chain.get(wrong)
    assert err.value.code == "integrity" and err.value.id == wrong
    assert problems(chain) == {("integrity", key("values", wrong))}


def test_a_missing_type_object_is_schema_unknown(chain: Store, audit: fsf.Schema) -> None:
    type_id = audit.id("SignedAuditRecord")
    path_of(chain, "types", type_id).unlink()
    fresh = open_store(chain.where)
    assert fresh.get(ID1) == AUDIT[0]  # the bytes are sound; only their schema is gone
    with pytest.raises(StoreError) as err:
        fresh.schema(type_id)
    assert err.value.code == "schema_unknown" and err.value.id == type_id
    with pytest.raises(StoreError) as err:
        fresh.root_of(ID1)
    assert err.value.code == "schema_unknown"
    assert problems(fresh) == {("schema_unknown", key("values", i)) for i in (ID1, ID2, ID3)}


@pytest.mark.parametrize("damage", [flipped, lambda d: d[:-1], lambda d: d[:10]],
                         ids=["flipped-byte", "truncated-by-one", "header-only"])
def test_a_corrupt_type_object_is_an_integrity_error(chain: Store, audit: fsf.Schema, damage: Any) -> None:
    type_id = audit.id("SignedAuditRecord")
    path = path_of(chain, "types", type_id)
    overwrite(path, damage(path.read_bytes()))
    fresh = open_store(chain.where)
    with pytest.raises(StoreError) as err:
        fresh.schema(type_id)
    assert err.value.code == "integrity" and err.value.id == type_id
    assert problems(fresh) == {("integrity", key("types", type_id))} | {
        ("integrity", key("values", i)) for i in (ID1, ID2, ID3)}


def test_a_type_object_of_another_type_under_a_name_is_an_integrity_error(chain: Store, audit: fsf.Schema) -> None:
    # a sound container, but of the closure of `Provider`, not of the type its name says
    chain.add_schema(audit, ["Provider"])
    other = path_of(chain, "types", audit.id("Provider")).read_bytes()
    overwrite(path_of(chain, "types", audit.id("SignedAuditRecord")), other)
    fresh = open_store(chain.where)
    with pytest.raises(StoreError) as err:
        fresh.schema(audit.id("SignedAuditRecord"))
    assert err.value.code == "integrity" and err.value.id == audit.id("SignedAuditRecord")
    assert ("integrity", key("types", audit.id("SignedAuditRecord"))) in problems(fresh)


def test_bytes_named_by_their_hash_that_are_not_a_value_are_listed_by_verify(chain: Store, audit: fsf.Schema) -> None:
    junk = b"not an FSV value"
    overwrite(path_of(chain, "values", content_id(junk)), junk)
    unknown = AUDIT[0][:5] + bytes(32) + AUDIT[0][37:]  # a header naming a type the store does not hold
    overwrite(path_of(chain, "values", content_id(unknown)), unknown)
    assert chain.get(content_id(junk)) == junk  # sound as an object: its name is its hash
    found = problems(chain)
    assert {k for _, k in found} == {key("values", content_id(junk)), key("values", content_id(unknown))}
    assert ("schema_unknown", key("values", content_id(unknown))) in found
    with pytest.raises(fsf.DecodeError):
        chain.root_of(content_id(junk))


def test_stray_files_are_skipped_by_iteration_and_listed_by_verify(chain: Store) -> None:
    top = Path(chain.where)
    (top / "values" / "README").write_text("x")
    (top / "values" / ID1[7:9] / "short").write_text("x")
    (top / "values" / "zz").mkdir()
    (top / "values" / "zz" / ("0" * 62)).write_text("x")
    (top / "types" / "notes.txt").write_text("x")
    (top / "values" / "ab").mkdir(exist_ok=True)
    (top / "values" / "ab" / ("c" * 62)).mkdir()  # a folder where an object would be
    assert sorted(chain) == sorted([ID1, ID2, ID3])
    assert "blake3:ab" + "c" * 62 not in chain
    with pytest.raises(StoreError) as err:
        chain.get("ab" + "c" * 62)
    assert err.value.code == "not_found"
    report = chain.verify()
    assert {(p.code, p.key) for p in report.problems} == {
        ("stray", "values/README"), ("stray", f"values/{ID1[7:9]}/short"), ("stray", f"values/zz/{'0' * 62}"),
        ("stray", "types/notes.txt"), ("stray", f"values/ab/{'c' * 62}/")}
    assert (report.values, report.types) == (3, 1)


def test_verify_of_a_sound_store(chain: Store) -> None:
    report = chain.verify()
    assert report.ok and report.problems == () and (report.values, report.types, report.leftovers) == (3, 1, ())


# -- collisions: a different file under a name ------------------------------------------------------------------


def test_a_different_file_under_a_values_name_is_refused_on_put_and_never_replaced(store: Store,
                                                                                  audit: fsf.Schema) -> None:
    path = path_of(store, "values", ID1)
    overwrite(path, b"someone else's bytes")
    with pytest.raises(StoreError) as err:
        store.put(AUDIT[0], audit)
    assert err.value.code == "integrity" and err.value.id == ID1
    assert "it is not replaced" in err.value.message
    assert path.read_bytes() == b"someone else's bytes"
    assert os.listdir(Path(store.where, TMP)) == []


def test_a_folder_under_a_values_name_is_refused_on_put(store: Store, audit: fsf.Schema) -> None:
    path = path_of(store, "values", ID1)
    path.mkdir(parents=True)
    with pytest.raises(StoreError) as err:
        store.put(AUDIT[0], audit)
    assert err.value.code == "integrity" and err.value.id == ID1
    assert path.is_dir()


def test_a_type_object_that_appears_unsound_while_writing_is_an_integrity_error(store: Store, audit: fsf.Schema,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Another writer put a different (unsound) object under the name between the check and the write.
    type_id = audit.id("SignedAuditRecord")
    path = path_of(store, "types", type_id)
    overwrite(path, b"FSFB junk")
    monkeypatch.setattr(store.backend, "exists", lambda key: False)
    with pytest.raises(StoreError) as err:
        store.add_schema(audit, ["SignedAuditRecord"])
    assert err.value.code == "integrity" and err.value.id == type_id
    assert path.read_bytes() == b"FSFB junk"


def test_add_schema_over_a_corrupt_type_object_is_an_integrity_error(store: Store, audit: fsf.Schema) -> None:
    type_id = audit.id("SignedAuditRecord")
    path = path_of(store, "types", type_id)
    overwrite(path, b"FSFB junk")
    with pytest.raises(StoreError) as err:
        store.put(AUDIT[0], audit)
    assert err.value.code == "integrity" and err.value.id == type_id
    assert ID1 not in store


# -- references -------------------------------------------------------------------------------------------------


def test_put_refuses_a_dangling_ref(store: Store, audit: fsf.Schema) -> None:
    store.put(AUDIT[0], audit)
    target = random_id()
    data = with_prev(audit, target)
    with pytest.raises(StoreError) as err:
        store.put(data, audit)
    e = err.value
    assert (e.code, e.path, e.id, e.value) == ("dangling_ref", "$.record.prev", target, content_id(data))
    assert str(e).endswith(f" - at `$.record.prev` of {content_id(data)} [dangling_ref]")
    assert content_id(data) not in store


def test_put_refuses_the_chain_out_of_order(store: Store, audit: fsf.Schema) -> None:
    with pytest.raises(StoreError) as err:
        store.put(AUDIT[2], audit)
    assert (err.value.code, err.value.path, err.value.id) == ("dangling_ref", "$.record.prev", ID2)
    assert list(store) == []


def test_put_refuses_a_ref_to_a_value_of_another_type(chain: Store, reports: fsf.Schema) -> None:
    value = reports.decode(REPORT)
    value["plan"] = ID1  # a stored SignedAuditRecord, not a ForgePlan
    data = reports.encode("ForgeReport", value)
    with pytest.raises(StoreError) as err:
        chain.put(data, reports)
    e = err.value
    assert (e.code, e.path, e.id, e.value) == ("ref_type", "$.plan", ID1, content_id(data))
    assert f"should be a `ForgePlan` ({reports.id('ForgePlan')})" in e.message
    assert content_id(data) not in chain


def test_a_ref_of_the_right_type_is_accepted_across_schema_files(store: Store, plans: fsf.Schema,
                                                               reports: fsf.Schema) -> None:
    plan = store.put(PLAN, plans)
    assert reports.decode(REPORT)["plan"] == plan
    report = store.put(REPORT, reports)
    assert list(store.refs(report)) == [plan]
    assert store.root_of(report) == (reports.id("ForgeReport"), "ForgeReport")
    assert store.verify().ok


def test_check_refs_follows_the_whole_graph(chain: Store, audit: fsf.Schema) -> None:
    assert chain.check_refs(AUDIT[2]) == 2
    assert chain.check_refs(AUDIT[2], audit) == 2
    assert chain.check_refs(AUDIT[2], deep=False) == 1
    assert chain.check_refs(AUDIT[0]) == 0
    # a value not stored yet whose link is fine
    fork = with_prev(audit, ID1)
    assert chain.check_refs(fork, audit) == 1


def test_check_refs_of_a_dangling_value(chain: Store, audit: fsf.Schema) -> None:
    target = random_id()
    data = with_prev(audit, target)
    with pytest.raises(StoreError) as err:
        chain.check_refs(data, audit)
    assert (err.value.code, err.value.path, err.value.id) == ("dangling_ref", "$.record.prev", target)


def test_check_refs_finds_a_broken_link_deep_in_the_graph(chain: Store) -> None:
    path_of(chain, "values", ID1).unlink()  # record 2 now dangles, one hop from record 3
    assert chain.check_refs(AUDIT[2], deep=False) == 1
    with pytest.raises(StoreError) as err:
        chain.check_refs(AUDIT[2])
    e = err.value
    assert (e.code, e.path, e.id, e.value) == ("dangling_ref", "$.record.prev", ID1, ID2)
    assert problems(chain) == {("dangling_ref", key("values", ID2))}


def test_check_refs_finds_a_corrupt_value_deep_in_the_graph(chain: Store) -> None:
    overwrite(path_of(chain, "values", ID1), flipped(AUDIT[0]))
    with pytest.raises(StoreError) as err:
        chain.check_refs(AUDIT[2])
    assert (err.value.code, err.value.id) == ("integrity", ID1)


def test_a_ref_to_a_value_whose_header_is_damaged_is_a_ref_type_error(chain: Store) -> None:
    overwrite(path_of(chain, "values", ID1), flipped(AUDIT[0], 10))  # inside the root type id
    with pytest.raises(StoreError) as err:
        chain.check_refs(AUDIT[1], deep=False)
    assert (err.value.code, err.value.path, err.value.id) == ("ref_type", "$.record.prev", ID1)


def test_refs_lists_everything_reachable(chain: Store) -> None:
    assert list(chain.refs(ID3)) == [ID2, ID1]
    assert list(chain.refs(ID2)) == [ID1]
    assert list(chain.refs(ID1)) == []


def test_log_walks_the_chain_newest_first(chain: Store) -> None:
    assert list(chain.log(ID3, "record.prev")) == [(ID3, "SignedAuditRecord"), (ID2, "SignedAuditRecord"),
                                                   (ID1, "SignedAuditRecord")]
    assert [i for i, _ in chain.log(ID2.removeprefix("blake3:"), "record.prev")] == [ID2, ID1]
    assert len(list(chain.log(ID1, "record.prev"))) == 1


def test_log_stops_at_a_corrupt_record_and_names_it(chain: Store) -> None:
    overwrite(path_of(chain, "values", ID2), flipped(AUDIT[1]))
    walked = []
    with pytest.raises(StoreError) as err:
        for ident, _ in chain.log(ID3, "record.prev"):
            walked.append(ident)
    assert walked == [ID3]
    assert (err.value.code, err.value.id) == ("integrity", ID2)
    assert ID2 in str(err.value)


def test_log_of_a_broken_link(chain: Store) -> None:
    path_of(chain, "values", ID1).unlink()
    with pytest.raises(StoreError) as err:
        list(chain.log(ID3, "record.prev"))
    e = err.value
    assert (e.code, e.path, e.id, e.value) == ("dangling_ref", "$.record.prev", ID1, ID2)


@pytest.mark.parametrize(("via", "message"), [
    ("prev", "`prev` is not a field path of `SignedAuditRecord`: no field `prev` at `$`"),
    ("record.nope", "`record.nope` is not a field path of `SignedAuditRecord`: no field `nope` at `$.record`"),
    ("record.prev.x", "`record.prev.x` is not a field path of `SignedAuditRecord`: no field `x` at `$.record.prev`"),
    ("record.seq", "`record.seq` of `SignedAuditRecord` has the type `u64`, not `ref<T>`"),
    ("record", "`record` of `SignedAuditRecord` has the type `AuditRecord`, not `ref<T>`"),
])
def test_log_along_a_bad_path_is_a_usage_error(chain: Store, via: str, message: str) -> None:
    with pytest.raises(UsageError) as err:
        list(chain.log(ID3, via))
    assert str(err.value) == message


# -- schemas ----------------------------------------------------------------------------------------------------


def test_add_schema_then_schema_rebuilds_every_closure(store: Store, audit: fsf.Schema, reports: fsf.Schema) -> None:
    for original in (audit, reports):
        ids = store.add_schema(original)
        assert ids == tuple(original.id(n) for n in original.shapes)
        for name in original.shapes:
            rebuilt = open_store(store.where).schema(original.id(name))
            assert rebuilt.ir == closure(original.ir, name)
            assert rebuilt.origin is None
            assert {n: rebuilt.id(n) for n in rebuilt.shapes} == {n: original.id(n) for n in rebuilt.shapes}
            assert store.type_name(original.id(name)) == name
    assert set(store.type_ids()) == {audit.id(n) for n in audit.shapes} | {reports.id(n) for n in reports.shapes}
    rebuilt = store.schema(audit.id("SignedAuditRecord"))
    assert rebuilt.ir["AuditRecord"].doc == "What one audit record says about one agent dispatch (the signed part)."
    field = next(f for f in rebuilt.ir["AuditRecord"].fields if f.name == "prev")  # type: ignore[union-attr]
    assert field.doc.startswith("The content id of the previous signed record")


def test_add_schema_of_some_names_and_has_schema(store: Store, audit: fsf.Schema) -> None:
    assert store.add_schema(audit, ["Provider"]) == (audit.id("Provider"),)
    assert store.has_schema(audit.id("Provider")) and not store.has_schema(audit.id("SignedAuditRecord"))
    assert store.add_schema(audit, ["Provider"]) == (audit.id("Provider"),)  # idempotent
    with pytest.raises(StoreError) as err:
        store.schema(audit.id("SignedAuditRecord"))
    assert err.value.code == "schema_unknown" and err.value.id == audit.id("SignedAuditRecord")


def test_put_with_a_schema_records_the_closure_of_the_root_type(store: Store, audit: fsf.Schema) -> None:
    store.put(AUDIT[0], audit)
    assert set(store.type_ids()) == {audit.id("SignedAuditRecord")}
    rebuilt = store.schema(audit.id("SignedAuditRecord"))
    assert set(rebuilt.shapes) == {"AuditRecord", "Provider", "SignedAuditRecord"}  # ModelRef is not reached


def test_a_value_written_with_the_original_decodes_with_the_rebuilt_schema(chain: Store, audit: fsf.Schema) -> None:
    rebuilt = open_store(chain.where).schema(audit.id("SignedAuditRecord"))
    for data in AUDIT:
        assert rebuilt.decode(data) == audit.decode(data)
        assert rebuilt.encode("SignedAuditRecord", audit.decode(data)) == data


_READ_BACK = """
import os, sys
assert "FSF_STORE" not in os.environ
from fsf.fsv.header import content_id
from fsf.store import open_store
store = open_store()
assert store.verify().ok, store.verify()
for name in sorted(os.listdir(".")):
    if name.endswith(".fsv"):
        data = open(name, "rb").read()
        ident = content_id(data)
        assert store.get(ident) == data
        type_id, root = store.root_of(ident)
        schema = store.schema(type_id)
        assert schema.origin is None
        print(name, ident, root, repr(schema.decode(data)))
print("log", [i for i, _ in store.log(sys.argv[1], "record.prev")])
"""


def test_the_store_alone_rebuilds_every_schema_it_needs(tmp_path: Path, audit: fsf.Schema, plans: fsf.Schema,
                                                     reports: fsf.Schema) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    store = init_store(first / ".fsf")
    files = {f"audit{i}.fsv": data for i, data in enumerate(AUDIT, 1)}
    files |= {"plan.fsv": PLAN, "report.fsv": REPORT}
    for data in AUDIT:
        store.put(data, audit)
    store.put(PLAN, plans)
    store.put(REPORT, reports)
    for name, data in files.items():
        (first / name).write_bytes(data)
    (first / "audit.fsf").write_text((SHAPES / "audit.fsf").read_text())  # not copied: a schema file
    shutil.copytree(first / ".fsf", second / ".fsf")
    for name in files:
        shutil.copyfile(first / name, second / name)
    env = {k: v for k, v in os.environ.items() if k != "FSF_STORE"}
    done = subprocess.run([sys.executable, "-c", _READ_BACK, ID3], cwd=second, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    by_file = {"audit1.fsv": audit, "audit2.fsv": audit, "audit3.fsv": audit, "plan.fsv": plans,
               "report.fsv": reports}
    expected = [f"{name} {content_id(files[name])} {schema.name_of(read_header(files[name]).root_id)} "
                f"{schema.decode(files[name])!r}" for name, schema in sorted(by_file.items())]
    assert done.stdout.splitlines() == [*expected, f"log {[ID3, ID2, ID1]}"]


# -- discovery --------------------------------------------------------------------------------------------------


def _no_store_above(path: Path) -> bool:
    return not any((p / ".fsf").is_dir() for p in (path.resolve(), *path.resolve().parents))


def test_locate_store_with_an_explicit_path(tmp_path: Path) -> None:
    assert locate_store(tmp_path / "somewhere", env={"FSF_STORE": "/elsewhere"}) == str(tmp_path / "somewhere")


def test_locate_store_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".fsf").mkdir()
    assert locate_store(env={"FSF_STORE": "/elsewhere"}, cwd=tmp_path) == "/elsewhere"
    assert locate_store(env={"FSF_STORE": ""}, cwd=tmp_path) == str((tmp_path / ".fsf").resolve())


def test_locate_store_finds_the_nearest_fsf_folder_up(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    (tmp_path / ".fsf").mkdir()
    assert locate_store(env={}, cwd=deep) == str((tmp_path / ".fsf").resolve())
    (tmp_path / "a" / ".fsf").mkdir()
    assert locate_store(env={}, cwd=deep) == str((tmp_path / "a" / ".fsf").resolve())
    (tmp_path / "a" / "b" / ".fsf").write_text("a file is not a store folder")
    assert locate_store(env={}, cwd=deep) == str((tmp_path / "a" / ".fsf").resolve())


def test_locate_store_is_none_when_there_is_nothing(tmp_path: Path) -> None:
    if not _no_store_above(tmp_path):
        pytest.skip("a parent of the temp folder holds a .fsf folder")
    assert locate_store(env={}, cwd=tmp_path) is None
    assert find_store(env={}, cwd=tmp_path) is None


def test_open_store_without_a_store_is_not_a_store(tmp_path: Path) -> None:
    if _no_store_above(tmp_path):
        with pytest.raises(StoreError) as err:
            open_store(env={}, cwd=tmp_path)
        assert err.value.code == "not_a_store" and err.value.id is None
    (tmp_path / "plain").mkdir()
    for where in (tmp_path / "plain", tmp_path / "absent"):
        with pytest.raises(StoreError) as err:
            open_store(where)
        assert err.value.code == "not_a_store"
        with pytest.raises(StoreError) as err:
            find_store(where)  # a store named must be one
        assert err.value.code == "not_a_store"
    (tmp_path / ".fsf").mkdir()  # found, but without its marker
    with pytest.raises(StoreError) as err:
        open_store(env={}, cwd=tmp_path)
    assert err.value.code == "not_a_store"


def test_init_store_is_idempotent_and_found_by_every_route(tmp_path: Path, audit: fsf.Schema) -> None:
    store = init_store(tmp_path / ".fsf")
    ident = store.put(AUDIT[0], audit)
    again = init_store(tmp_path / ".fsf")
    assert list(again) == [ident]
    assert (tmp_path / ".fsf" / ".gitignore").read_text() == f"/{TMP}/\n"
    for found in (open_store(tmp_path / ".fsf"), open_store(env={"FSF_STORE": str(tmp_path / ".fsf")}),
                  open_store(env={}, cwd=tmp_path), find_store(env={}, cwd=tmp_path)):
        assert found is not None and found.get(ident) == AUDIT[0]


# -- property: random schemas and values ------------------------------------------------------------------------


def _fill(schema: ir.Schema, t: ir.Type, value: Any, make: Any) -> Any:
    """``value`` with every reference replaced by ``make(target type name)`` (the id of a stored value)."""
    if isinstance(t, ir.Ref):
        return make(t.target)
    if isinstance(t, ir.Optional):
        return None if value is None else _fill(schema, t.inner, value, make)
    if isinstance(t, ir.Array):
        return [_fill(schema, t.item, x, make) for x in value]
    if isinstance(t, ir.Map):
        return {k: _fill(schema, t.value, x, make) for k, x in value.items()}
    if isinstance(t, ir.Named):
        decl = schema[t.name]
        if isinstance(decl, ir.Shape):
            return {f.name: _fill(schema, f.type, value[f.name], make) for f in decl.fields}
        if isinstance(decl, ir.Union_):
            ((variant, body),) = value.items()
            fields = next(v for v in decl.variants if v.name == variant).fields
            return {variant: {f.name: _fill(schema, f.type, body[f.name], make) for f in fields}}
    return value


HOLDER = "shape Holder { one: ref<Root>, many: arr[1..3]<ref<Root>>, maybe: ref<Root>? }\n"
"""Added to every drawn schema, so that each example also stores a value with references (few drawn schemas
have a ``ref<T>`` where a value needs one)."""


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_put_get_and_the_rebuilt_schema_agree_with_the_original(data: st.DataObject) -> None:
    schema = fsf.compile_source(data.draw(schema_texts()) + HOLDER)
    with tempfile.TemporaryDirectory() as tmp:
        store = init_store(Path(tmp) / ".fsf")

        def stored(name: str) -> str:
            # a ref<T> must name a stored T: targets are declared earlier, so this ends
            value = _fill(schema.ir, ir.Named(name), data.draw(values(schema.ir, name)), stored)
            return store.put(schema.encode(name, value), schema)

        value = _fill(schema.ir, ir.Named("Root"), data.draw(values(schema.ir, "Root")), stored)
        encoded = schema.encode("Root", value)
        ident = store.put(encoded, schema)
        assert ident == content_id(encoded)
        fresh = open_store(store.where)
        assert fresh.get(ident) == encoded
        rebuilt = fresh.schema(schema.id("Root"))
        assert rebuilt.ir == closure(schema.ir, "Root")
        assert rebuilt.decode(encoded) == schema.decode(encoded)
        assert fresh.check_refs(encoded) == len(set(fresh.refs(ident)))
        holder = schema.encode("Holder", _fill(schema.ir, ir.Named("Holder"), data.draw(values(schema.ir, "Holder")),
                                               lambda _: ident))
        held = store.put(holder, schema)
        assert fresh.get(held) == holder
        assert open_store(store.where).schema(schema.id("Holder")).decode(holder) == schema.decode(holder)
        reached = list(fresh.refs(held))
        assert reached[0] == ident and len(reached) == len(set(reached)) == fresh.check_refs(holder)
        assert fresh.verify().ok
