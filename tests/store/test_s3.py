"""The store on S3 (``fsf.store.s3``) against moto's S3 server: the round trip, corruption caught, no object ever
replaced (conditional PUTs), failures as one-line ``backend`` errors, and four processes writing at once."""

from __future__ import annotations

import errno
import multiprocessing
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("s3fs")  # the `s3` extra; CI installs it

import botocore.session  # s3fs's dependency
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

import fsf
from fsf.errors import StoreError
from fsf.fsv.header import content_id
from fsf.store import Store, init_store, key_of, open_store
from fsf.store.backend import MARKER, MARKER_TEXT
from fsf.store.s3 import S3Backend

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "shapes"
AUDIT = [(SHAPES / "examples" / "audit" / f"SignedAuditRecord.{i}.fsv").read_bytes() for i in (1, 2, 3)]
ID1, ID2, ID3 = (content_id(d) for d in AUDIT)
NOTE = "shape Note { n: u64, text: str[0..64] }"
"""A schema for the many distinct small values of the concurrency test."""
KEY_ID, SECRET = "testing", "testing"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and moto's endpoint, the usual AWS way; nothing read from this machine's ~/.aws."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="module")
def s3(endpoint: str) -> Any:
    """A plain botocore client on the server: makes buckets and reaches under the store to damage objects."""
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET)


@pytest.fixture
def bucket(s3: Any) -> str:
    """A new bucket for each test (the server outlives them), versioned so that a replaced object would show."""
    name = f"fsf-{secrets.token_hex(6)}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture(scope="module")
def audit() -> fsf.Schema:
    return fsf.load_schema(SHAPES / "audit.fsf")


@pytest.fixture
def store(bucket: str) -> Store:
    return init_store(f"s3://{bucket}/p")


@pytest.fixture
def chain(store: Store, audit: fsf.Schema) -> Store:
    assert [store.put(d, audit) for d in AUDIT] == [ID1, ID2, ID3]
    return store


def key(folder: str, ident: str) -> str:
    return key_of(folder, bytes.fromhex(ident.removeprefix("blake3:")))


def versions(s3: Any, bucket: str, name: str) -> list[dict[str, Any]]:
    found = s3.list_object_versions(Bucket=bucket, Prefix=name).get("Versions", [])
    return [v for v in found if v["Key"] == name]


def body(s3: Any, bucket: str, name: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=name)["Body"].read())


# -- the round trip ---------------------------------------------------------------------------------------------


def test_a_store_on_s3_round_trips_values_schemas_and_chains(chain: Store, bucket: str, s3: Any,
                                                             audit: fsf.Schema) -> None:
    assert isinstance(chain.backend, S3Backend) and chain.where == f"s3://{bucket}/p"
    assert chain.has(ID1) and ID2 in chain and not chain.has("blake3:" + "0" * 64)
    assert sorted(chain) == sorted([ID1, ID2, ID3])
    type_id = audit.id("SignedAuditRecord")
    assert chain.add_schema(audit, ["SignedAuditRecord"]) == (type_id,)
    # the local store's layout, under the prefix
    names = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert names == {"p/" + MARKER, *("p/" + key("values", i) for i in (ID1, ID2, ID3)), "p/" + key("types", type_id)}
    assert body(s3, bucket, "p/" + MARKER) == MARKER_TEXT
    # a second process's view: nothing cached, the schema rebuilt from the bucket alone
    again = open_store(f"s3://{bucket}/p")
    assert [again.get(i) for i in (ID1, ID2, ID3)] == AUDIT
    assert again.schema(type_id).name_of(audit.id_bytes("SignedAuditRecord")) == "SignedAuditRecord"
    assert list(again.type_ids()) == [type_id]
    assert list(again.log(ID3, "record.prev")) == [(i, "SignedAuditRecord") for i in (ID3, ID2, ID1)]
    report = again.verify()
    assert report.ok and (report.values, report.types, report.leftovers) == (3, 1, ())


def test_putting_the_same_value_twice_writes_nothing(chain: Store, bucket: str, s3: Any, audit: fsf.Schema) -> None:
    assert chain.put(AUDIT[0], audit) == ID1 and chain.put(AUDIT[0]) == ID1
    assert init_store(f"s3://{bucket}/p").put(AUDIT[0], audit) == ID1  # init is idempotent too
    for name in (MARKER, key("values", ID1), key("types", audit.id("SignedAuditRecord"))):
        assert len(versions(s3, bucket, "p/" + name)) == 1, name


def test_a_store_without_a_prefix_and_the_generic_endpoint_variable(bucket: str, s3: Any, endpoint: str,
                                                                    audit: fsf.Schema,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    store = init_store(f"s3://{bucket}")
    assert store.put(AUDIT[0], audit) == ID1
    assert body(s3, bucket, key("values", ID1)) == AUDIT[0] and body(s3, bucket, MARKER) == MARKER_TEXT


def test_keys_list_the_whole_folder_and_nothing_beside_it(store: Store, bucket: str, s3: Any) -> None:
    s3.put_object(Bucket=bucket, Key="p/values/zz", Body=b"stray")
    s3.put_object(Bucket=bucket, Key="p/valuesX/ab/cd", Body=b"another folder")
    s3.put_object(Bucket=bucket, Key="p/types/", Body=b"")  # a console's folder placeholder
    s3.put_object(Bucket=bucket, Key="values/ab/cd", Body=b"outside the prefix")
    assert list(store.backend.keys("values")) == ["values/zz"]
    assert list(store.backend.keys("types")) == []
    assert list(store) == []
    assert [(p.code, p.key) for p in store.verify().problems] == [("stray", "values/zz")]
    assert store.backend.leftovers() == [] and store.backend.clean() == 0


# -- damage -----------------------------------------------------------------------------------------------------


def test_a_damaged_object_is_an_integrity_error_on_get_and_in_verify(chain: Store, bucket: str, s3: Any,
                                                                     audit: fsf.Schema) -> None:
    damaged = bytearray(AUDIT[1])
    damaged[len(damaged) // 2] ^= 0x01
    s3.put_object(Bucket=bucket, Key="p/" + key("values", ID2), Body=bytes(damaged))
    with pytest.raises(StoreError) as err:
        chain.get(ID2)
    assert err.value.code == "integrity" and err.value.id == ID2
    found = {(p.code, p.key) for p in chain.verify().problems}
    assert ("integrity", key("values", ID2)) in found
    assert {k for _, k in found} <= {key("values", ID2), key("values", ID3)}  # 3 links to the damaged 2
    # a damaged value is not replaced by putting the good bytes again
    with pytest.raises(StoreError) as err:
        chain.put(AUDIT[1], audit)
    assert err.value.code == "integrity"
    assert body(s3, bucket, "p/" + key("values", ID2)) == bytes(damaged)
    # a damaged type object
    type_key = key("types", audit.id("SignedAuditRecord"))
    s3.put_object(Bucket=bucket, Key="p/" + type_key, Body=b"not a container")
    assert ("integrity", type_key) in {(p.code, p.key) for p in open_store(f"s3://{bucket}/p").verify().problems}


def test_a_missing_object_is_not_found(chain: Store, bucket: str, s3: Any) -> None:
    s3.delete_object(Bucket=bucket, Key="p/" + key("values", ID1))
    with pytest.raises(StoreError) as err:
        chain.get(ID1)
    assert err.value.code == "not_found" and err.value.id == ID1
    assert not chain.has(ID1)
    found = {(p.code, p.key) for p in chain.verify().problems}
    assert found == {("dangling_ref", key("values", ID2))}


# -- never replaced ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("conditional", [True, False], ids=["if-none-match", "head-then-put"])
def test_write_once_never_replaces_an_object(store: Store, bucket: str, s3: Any, conditional: bool) -> None:
    backend = store.backend
    assert isinstance(backend, S3Backend)
    backend._conditional = conditional  # as found on the first write; False: a service without the condition
    assert backend.write_once("values/ab/cd", b"first") is None
    assert backend.write_once("values/ab/cd", b"second") == b"first"
    assert backend.write_once("values/ab/cd", b"first") == b"first"
    assert backend.read("values/ab/cd") == b"first" and backend.exists("values/ab/cd")
    assert [body(s3, bucket, "p/values/ab/cd")] == [b"first"] and len(versions(s3, bucket, "p/values/ab/cd")) == 1
    assert backend.read("values/ab/ce") is None and not backend.exists("values/ab/ce")


def test_the_server_refuses_a_conditional_put_over_an_object(store: Store, bucket: str, s3: Any) -> None:
    """What write_once relies on: moto (as S3) answers 412 to `If-None-Match: *` when the key exists."""
    s3.put_object(Bucket=bucket, Key="p/x", Body=b"1", IfNoneMatch="*")
    with pytest.raises(s3.exceptions.ClientError) as err:
        s3.put_object(Bucket=bucket, Key="p/x", Body=b"2", IfNoneMatch="*")
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert store.backend.write_once("x", b"3") == b"1"
    assert store.backend._conditional is True  # type: ignore[attr-defined]


@pytest.mark.parametrize("code", ["ConditionalRequestConflict", "NotImplemented"])
def test_a_conflicting_or_refused_condition_is_retried(store: Store, monkeypatch: pytest.MonkeyPatch,
                                                       code: str) -> None:
    """S3's 409 to racing conditional PUTs is tried again; a service's 501 to the header turns it off."""
    backend = store.backend
    assert isinstance(backend, S3Backend)
    put = backend._put
    sent: list[dict[str, str]] = []

    def answer_once(key: str, data: bytes, **condition: str) -> None:
        sent.append(condition)
        if len(sent) == 1:
            err = OSError(errno.EIO, code)
            err.__cause__ = ClientError({"Error": {"Code": code, "Message": code}}, "PutObject")
            raise err
        put(key, data, **condition)

    monkeypatch.setattr(backend, "_put", answer_once)
    assert backend.write_once("values/ab/cd", b"first") is None
    assert backend.read("values/ab/cd") == b"first"
    assert sent == [{"IfNoneMatch": "*"}, {"IfNoneMatch": "*"} if code == "ConditionalRequestConflict" else {}]
    assert backend._conditional is (code == "ConditionalRequestConflict")


# -- failures ---------------------------------------------------------------------------------------------------


def test_a_prefix_without_the_marker_is_not_a_store(store: Store, bucket: str) -> None:
    with pytest.raises(StoreError) as err:
        open_store(f"s3://{bucket}/other")
    assert err.value.code == "not_a_store"
    assert str(err.value) == (f"`s3://{bucket}/other` is not a store (no FSF-STORE file); make one with "
                              f"`fsf store init s3://{bucket}/other` [not_a_store]")


def test_a_missing_bucket_is_a_backend_error_and_init_does_not_create_it(s3: Any) -> None:
    url = f"s3://fsf-missing-{secrets.token_hex(4)}/p"
    for attempt in (open_store, init_store):
        with pytest.raises(StoreError) as err:
            attempt(url)
        assert err.value.code == "backend"
        assert str(err.value) == (f"the bucket `{url[5:-2]}` of the store {url} does not exist; create it first "
                                  f"(`fsf store init` does not) [backend]")
    assert url[5:-2] not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_no_credentials_is_a_backend_error(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(StoreError) as err:
        open_store(store.where)
    assert str(err.value) == (f"cannot read `FSF-STORE` in the store {store.where}: Unable to locate credentials "
                              f"[backend]")


def test_an_unreachable_endpoint_is_a_backend_error(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(StoreError) as err:
        open_store(store.where).get(ID1)
    assert err.value.code == "backend" and "\n" not in str(err.value)
    assert str(err.value).startswith(f"cannot read `FSF-STORE` in the store {store.where}: Could not connect")


# -- several writers --------------------------------------------------------------------------------------------


def _writer(url: str, which: int, start: Any, results: Any) -> None:
    """One of the writing processes: the shared audit chain and notes, then notes of its own, each read back
    through a fresh store the moment its put returns."""
    audit = fsf.load_schema(SHAPES / "audit.fsf")
    notes = fsf.compile_source(NOTE)
    store = open_store(url)
    start.wait(timeout=60)
    written: list[str] = []
    for data, schema in [*((d, audit) for d in AUDIT), *((_note(notes, n), notes) for n in range(5)),
                         *((_note(notes, 1000 * (which + 1) + n), notes) for n in range(5))]:
        ident = store.put(data, schema)
        assert open_store(url).get(ident) == data, ident
        written.append(ident)
    results.put((which, written))


def _note(notes: fsf.Schema, n: int) -> bytes:
    return notes.encode("Note", {"n": n, "text": f"note {n}"})


def test_four_processes_writing_one_store_at_once(store: Store) -> None:
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(4), spawn.Queue()
    workers = [spawn.Process(target=_writer, args=(store.where, i, start, results)) for i in range(4)]
    for w in workers:
        w.start()
    try:
        got = dict(results.get(timeout=60) for _ in workers)
    finally:
        for w in workers:
            w.join(timeout=30)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    notes = fsf.compile_source(NOTE)
    shared = [ID1, ID2, ID3, *(content_id(_note(notes, n)) for n in range(5))]
    own = {i: [content_id(_note(notes, 1000 * (i + 1) + n)) for n in range(5)] for i in range(4)}
    assert got == {i: shared + own[i] for i in range(4)}
    assert sorted(store) == sorted({*shared, *(x for ids in own.values() for x in ids)})
    report = store.verify()
    assert report.ok and (report.values, report.types) == (8 + 20, 2)
