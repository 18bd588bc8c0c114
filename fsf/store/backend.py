"""Backends: where a store's objects live (a local folder here; S3 in :mod:`fsf.store.s3`).

A backend knows nothing of FSV or schemas: it keeps immutable byte strings under keys such as
``values/ab/cdef…`` and never replaces one. The store (:mod:`fsf.store`) names, checks and verifies them.
``docs/store.md`` ("Writing an object") states the protocol a second implementation must follow.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Protocol

MARKER = "FSF-STORE"
"""The file at a store's top that says it is one; its contents are :data:`MARKER_TEXT`."""
MARKER_TEXT = b"fsf-store 1\n"
TMP = "tmp"
"""The folder of a local store where objects are written before they are linked into place."""
STALE_AFTER = 3600.0
"""Without ``fcntl`` (Windows), a temp file older than this many seconds is taken as left by a killed writer."""

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class Backend(Protocol):
    """What the store needs of a place to keep objects. Keys are ``/``-separated relative names."""

    where: str
    """The store's location as the user gave it (for messages)."""

    def is_store(self) -> bool:
        """True if the marker is there."""

    def init(self) -> None:
        """Make the store here (idempotent)."""

    def read(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None if there is no such object."""

    def exists(self, key: str) -> bool:
        """True if an object is under ``key``."""

    def write_once(self, key: str, data: bytes) -> bytes | None:
        """Put ``data`` under ``key`` unless an object is there already; never replace one.

        Returns None when this call wrote it, else the bytes already there (the caller decides between a
        no-op and a collision). When it returns, the object is complete and visible to every reader.
        """

    def keys(self, folder: str) -> Iterator[str]:
        """Every key under ``folder`` (``values`` or ``types``), in no particular order; stray names included."""

    def leftovers(self) -> list[str]:
        """Temporary files that killed writers left behind (not objects; not corruption)."""

    def clean(self) -> int:
        """Remove the leftovers no live writer holds; returns how many were removed."""


class LocalBackend:
    """A store in a folder of the local file system (``docs/store.md``, "Writing an object").

    An object is written to ``tmp/`` (locked while it is written), fsynced, made read-only, hard-linked to its
    name (which fails if the name exists: no object is ever replaced), and the folder fsynced. A killed writer
    leaves at most a temp file, which :meth:`clean` removes once no writer holds its lock.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.fspath(root)
        self.where = self.root

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def is_store(self) -> bool:
        return os.path.isfile(self._path(MARKER))

    def init(self) -> None:
        os.makedirs(os.path.join(self.root, TMP), exist_ok=True)
        for folder in ("values", "types"):
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
        if not self.is_store():
            self.write_once(MARKER, MARKER_TEXT)
        ignore = os.path.join(self.root, ".gitignore")
        if not os.path.exists(ignore):  # commit the store, never a writer's temp files
            with open(ignore, "wb") as fh:
                fh.write(f"/{TMP}/\n".encode())

    def read(self, key: str) -> bytes | None:
        try:
            with open(self._path(key), "rb") as fh:
                return fh.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):  # a folder is not an object
            return None

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def write_once(self, key: str, data: bytes) -> bytes | None:
        final = self._path(key)
        if os.path.exists(final):
            return self._existing(final)
        folder = os.path.dirname(final)
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
            _fsync_dir(os.path.dirname(folder))
        while True:
            done, existing = self._write_linked(final, data)
            if done:
                return existing

    def _write_linked(self, final: str, data: bytes) -> tuple[bool, bytes | None]:
        """One attempt: temp file, lock, write, fsync, link. Not done if a cleaner removed the temp file in the
        moment between its creation and its lock (the caller tries again); else the bytes already there, if any."""
        tmp = os.path.join(self.root, TMP, f"{os.getpid()}-{os.urandom(8).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileNotFoundError:  # git keeps no empty folder: a cloned store may lack tmp/
            os.makedirs(os.path.dirname(tmp), exist_ok=True)
            return False, None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # held until the temp file is gone: clean() skips it
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            try:
                os.link(tmp, final)  # fails if the name is taken: an object is never replaced
            except FileExistsError:
                _unlink(tmp)
                return True, self._existing(final)
            except FileNotFoundError:
                if os.path.exists(tmp):
                    raise
                return False, None
            _unlink(tmp)
            _fsync_dir(os.path.dirname(final))
            return True, None
        finally:
            os.close(fd)

    def _existing(self, final: str) -> bytes:
        try:
            with open(final, "rb") as fh:
                return fh.read()
        except IsADirectoryError:  # a folder under the name: not this object (the store refuses to write)
            return b""

    def keys(self, folder: str) -> Iterator[str]:
        top = os.path.join(self.root, folder)
        try:
            shards = sorted(os.listdir(top))
        except FileNotFoundError:
            return
        for shard in shards:
            path = os.path.join(top, shard)
            if not os.path.isdir(path):
                yield f"{folder}/{shard}"
                continue
            for name in sorted(os.listdir(path)):
                # A folder where an object would be is a stray name, never an object: the trailing `/` says so.
                nested = os.path.isdir(os.path.join(path, name))
                yield f"{folder}/{shard}/{name}" + ("/" if nested else "")

    def leftovers(self) -> list[str]:
        try:
            return sorted(f"{TMP}/{n}" for n in os.listdir(os.path.join(self.root, TMP)))
        except FileNotFoundError:
            return []

    def clean(self) -> int:
        removed = 0
        for key in self.leftovers():
            path = self._path(key)
            if _abandoned(path):
                try:
                    os.unlink(path)
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed



def _abandoned(path: str) -> bool:
    """True if no live writer holds the temp file at ``path`` (its lock is free, or it is old without fcntl)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        if fcntl is None:  # pragma: no cover - Windows
            return time.time() - os.fstat(fd).st_mtime > STALE_AFTER
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _fsync_dir(path: str) -> None:
    """Make a folder's entries durable (a no-op where folders cannot be opened, as on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
