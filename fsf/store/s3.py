"""S3 backend: a store's objects (keys in, immutable bytes out) as S3 objects under ``s3://bucket/prefix``.

Needs the ``s3`` extra (fsspec and s3fs); nothing else in ``fsf`` imports this module or them. Configured the
usual AWS way: credentials, region and retries as botocore reads them (environment, ``~/.aws``, instance roles),
and another endpoint (MinIO, a test server) from ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``.
``docs/store.md`` ("On S3") says what a service must support.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import botocore
import fsspec.asyn
import s3fs
from botocore.exceptions import BotoCoreError, ClientError
from fsspec.exceptions import FSTimeoutError

from fsf.errors import StoreError, UsageError
from fsf.store.backend import MARKER, MARKER_TEXT

_FAILURES = (OSError, BotoCoreError, ClientError, FSTimeoutError)
"""What a request can raise: s3fs turns S3's error responses into OSError subclasses; botocore raises its own
errors for missing credentials, bad parameters and the network; fsspec times out."""
_CONFLICT_TRIES = 5
"""S3 answers a conditional PUT racing another on the same key with 409 `ConditionalRequestConflict`: retry."""


class S3Backend:
    """A store under ``s3://bucket/prefix`` (the prefix is optional), with the local store's key layout.

    :meth:`write_once` is a conditional PUT (``If-None-Match: *``): S3 itself refuses to replace an object, so
    concurrent writers of one key need no lock and exactly one of them writes it. A service that answers that
    it does not implement the condition (501 `NotImplemented`), or a botocore too old to send it, gets a HEAD
    then an unconditional PUT instead: two writers of one key may then both write it, the later bytes winning.
    For a value both wrote the same bytes (its key is their hash), so only a type object's doc comments can
    differ. A service that silently ignores the header behaves the same way and cannot be told apart.
    """

    def __init__(self, url: str) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise UsageError(f"`{url}` names no bucket: an S3 store is `s3://BUCKET` or `s3://BUCKET/PREFIX`")
        self.where = url
        self.bucket = bucket
        prefix = prefix.strip("/")
        self._base = f"{prefix}/" if prefix else ""
        """What every key of this store starts with in the bucket."""
        self._conditional: bool | None = None
        """Whether PUTs carry `If-None-Match: *` (None until the first write finds out)."""
        # No instance cache: an S3FileSystem keeps the credentials and endpoint of when it was made. No listing
        # cache: another writer's objects must show up in `keys` at once.
        self._fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False,
                                     client_kwargs=_endpoint_kwargs())

    def __repr__(self) -> str:
        return f"S3Backend({self.where!r})"

    # -- the protocol -----------------------------------------------------------------------------------------

    def is_store(self) -> bool:
        return self.read(MARKER) is not None

    def init(self) -> None:
        """Write the marker (idempotent). The bucket must exist: making one (its region, its policies) is the
        owner's decision, not the store's."""
        self.write_once(MARKER, MARKER_TEXT)

    def read(self, key: str) -> bytes | None:
        try:
            return bytes(self._run(self._get, self._base + key))
        except FileNotFoundError as err:
            if _code(err) == "NoSuchBucket":
                self._fail("read", key, err)
            return None
        except _FAILURES as err:
            self._fail("read", key, err)

    def exists(self, key: str) -> bool:
        """True if an object is under ``key`` (a HEAD, which cannot tell a missing bucket from a missing key: the
        store has read the marker by then)."""
        try:
            self._run(self._fs._call_s3, "head_object", Bucket=self.bucket, Key=self._base + key)
        except FileNotFoundError:
            return False
        except _FAILURES as err:
            self._fail("look up", key, err)
        return True

    def write_once(self, key: str, data: bytes) -> bytes | None:
        """Put ``data`` under ``key`` with a conditional PUT; if an object is there (412 `PreconditionFailed`),
        return its bytes instead. A PUT is atomic: readers see the whole object as soon as it returns, or
        nothing. Without the condition (see the class), a HEAD first; that leaves a race."""
        if self._conditional is None:
            self._conditional = self._can_send_condition(key)
        for _ in range(_CONFLICT_TRIES):
            if not self._conditional:
                return self._write_unconditionally(key, data)
            try:
                self._put(key, data, IfNoneMatch="*")
                return None
            except OSError as err:
                code = _code(err)
                if isinstance(err, FileExistsError) or code == "PreconditionFailed":
                    old = self.read(key)
                    if old is not None:
                        return old
                    continue  # removed by hand since: write it again
                if code == "ConditionalRequestConflict":
                    time.sleep(0.05)
                    continue
                if code == "NotImplemented":
                    self._conditional = False
                    continue
                self._fail("write", key, err)
        raise StoreError("backend", f"cannot write `{key}` in the store {self.where}: "
                         f"{_CONFLICT_TRIES} conditional writes in a row conflicted with others")

    def keys(self, folder: str) -> Iterator[str]:
        top = f"{self._base}{folder}/"
        try:
            found = self._fs.find(f"{self.bucket}/{top}")
        except _FAILURES as err:
            self._fail("list", f"{folder}/", err)
        for name in sorted(found):
            key = str(name).removeprefix(f"{self.bucket}/")
            # A trailing slash is a console's folder placeholder, not an object.
            if key.startswith(top) and not key.endswith("/"):
                yield key[len(self._base):]

    def leftovers(self) -> list[str]:
        """None: a PUT is atomic, so a killed writer leaves nothing behind (S3 discards an unfinished upload)."""
        return []

    def clean(self) -> int:
        """Nothing to remove (see :meth:`leftovers`)."""
        return 0

    # -- requests ---------------------------------------------------------------------------------------------

    def _run(self, work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one of s3fs's coroutines on fsspec's event loop (the thread s3fs's client lives on)."""
        return fsspec.asyn.sync(self._fs.loop, work, *args, **kwargs)

    async def _get(self, full_key: str) -> bytes:
        # One GET: s3fs's cat_file may HEAD first for the size, and a HEAD's 404 cannot say which is missing.
        response = await self._fs._call_s3("get_object", Bucket=self.bucket, Key=full_key)
        body = response["Body"]
        try:
            return bytes(await body.read())
        finally:
            body.close()

    def _put(self, key: str, data: bytes, **condition: str) -> None:
        self._run(self._fs._call_s3, "put_object", Bucket=self.bucket, Key=self._base + key, Body=data,
                  **condition)

    def _write_unconditionally(self, key: str, data: bytes) -> bytes | None:
        old = self.read(key)
        if old is not None:
            return old
        try:
            self._put(key, data)
        except _FAILURES as err:
            self._fail("write", key, err)
        return None

    def _can_send_condition(self, key: str) -> bool:
        """Whether botocore knows PutObject's ``IfNoneMatch`` (1.35.21 on): s3fs silently drops a parameter
        its botocore does not know, which would make every conditional PUT an unconditional one."""
        try:
            client = self._run(self._fs.set_session)
        except _FAILURES as err:
            self._fail("write", key, err)
        members = client.meta.service_model.operation_model("PutObject").input_shape.members
        return "IfNoneMatch" in members

    def _fail(self, verb: str, key: str, err: BaseException) -> NoReturn:
        """Raise the one-line :class:`StoreError` (code `backend`) of a failed request."""
        code = _code(err)
        if code == "NoSuchBucket":
            raise StoreError("backend", f"the bucket `{self.bucket}` of the store {self.where} does not exist; "
                             f"create it first (`fsf store init` does not)") from None
        reason = " ".join(str(err).split()) or type(err).__name__
        if code and code not in reason:
            reason = f"{reason} ({code})"
        raise StoreError("backend", f"cannot {verb} `{key}` in the store {self.where}: {reason}") from None


def _code(err: BaseException) -> str:
    """The S3 error code behind an error s3fs translated (``NoSuchKey``, ``PreconditionFailed``…), or ``""``."""
    cause = err if isinstance(err, ClientError) else err.__cause__
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", ""))
    return ""


def _endpoint_kwargs() -> dict[str, str]:
    """The endpoint from the environment for a botocore too old to read it itself (before 1.31); else nothing,
    so that botocore's own order (``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL``, the config file) holds."""
    version = tuple(int(part) for part in str(botocore.__version__).split(".")[:2])
    if version >= (1, 31):
        return {}
    url = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return {"endpoint_url": url} if url else {}
