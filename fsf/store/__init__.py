"""Store: a content-addressed folder of FSV values (by content id) and of the type closures they were written
with (by type id), verified on every read. ``docs/store.md`` specifies the layout and the rules.

>>> store = init_store(tmp / ".fsf")               # doctest: +SKIP
>>> ident = store.put(schema.encode("Task", task))  # doctest: +SKIP
>>> store.get(ident) == schema.encode("Task", task) # doctest: +SKIP
True
"""

from __future__ import annotations

import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import blake3

from fsf import ir
from fsf.errors import DecodeError, FsfError, StoreError, UsageError
from fsf.fsv.header import content_id, read_header
from fsf.ir.ids import format_id
from fsf.locate import DEFAULT_FOLDER as DEFAULT_FOLDER  # re-exported, as the next two: finding a store needs only os
from fsf.locate import ENV as ENV
from fsf.locate import locate_store as locate_store
from fsf.schema import Schema
from fsf.store.backend import MARKER, Backend, LocalBackend
from fsf.store.graph import closure, holds_refs, refs_of

__all__ = ["Problem", "Report", "Store", "StoreError", "find_store", "init_store", "locate_store", "open_store"]

_HEX = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"(?:blake3:)?([0-9a-f]{64})")
VALUES = "values"
TYPES = "types"


def parse_id(text: str) -> bytes:
    """The 32-byte digest of ``blake3:<64 hex>`` (or the 64 hex digits alone); :class:`UsageError` otherwise."""
    m = _ID.fullmatch(text.strip())
    if m is None:
        raise UsageError(f"`{text}` is not a content or type id (`blake3:` and 64 lowercase hex digits)")
    return bytes.fromhex(m[1])


def key_of(folder: str, digest: bytes) -> str:
    """The key of an object: its folder, the first two hex digits, the other 62 (``values/ab/cdef…``)."""
    h = digest.hex()
    return f"{folder}/{h[:2]}/{h[2:]}"


def _digest_of_key(key: str) -> bytes | None:
    """The digest a key names, or None for a name that is not an object's (a stray file)."""
    parts = key.split("/")
    if len(parts) != 3 or len(parts[1]) != 2 or not _HEX.fullmatch(parts[1] + parts[2]):
        return None
    return bytes.fromhex(parts[1] + parts[2])


@attrs.frozen
class Problem:
    """One thing ``fsf store verify`` found wrong: a code, the object (its key), and what is wrong."""

    code: str
    key: str
    message: str


@attrs.frozen
class Report:
    """What ``fsf store verify`` found: the problems (the store is sound when there are none), counts, and the
    temp files that killed writers left (notes, not problems)."""

    problems: tuple[Problem, ...]
    values: int
    types: int
    leftovers: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class Store:
    """A store on a :class:`~fsf.store.backend.Backend`. Every object read is verified (its name is its hash);
    schemas rebuilt from the store are kept for the life of the object."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._schemas: dict[bytes, Schema] = {}
        self._by_text: dict[str, Schema] = {}  # the same, by the id as given (the hot path of resolution)
        self._cleaned = False

    def __repr__(self) -> str:
        return f"<fsf.Store {self.where}>"

    @property
    def where(self) -> str:
        return self.backend.where

    # -- values -----------------------------------------------------------------------------------------------

    def put(self, data: bytes, schema: Schema | None = None) -> str:
        """Store FSV bytes ``data``; returns their content id. Idempotent.

        The value must be canonical and valid as its writer type (from ``schema`` when it has that type, whose
        closure is then recorded first, else from the store: ``schema_unknown`` if it is not there; it must then
        read as ``schema``'s type by ``docs/evolution.md``, code ``incompatible``), and every
        ``ref<T>`` in it must name a stored value of root type ``T`` (``dangling_ref``, ``ref_type``).
        """
        data = bytes(data)
        header = read_header(data)
        given = schema is not None and schema.name_of(header.root_id) is not None
        writer = schema if schema is not None and given else self.schema(format_id(header.root_id))
        name = writer.name_of(header.root_id)
        assert name is not None
        writer.verify(data)
        if schema is not None and not given:
            schema.decode(data, store=self)  # a value of another version of the type must read as `schema`'s
        digest = blake3.blake3(data).digest()
        self._check_refs(writer, name, data, format_id(digest))
        if given:
            self._add_closure(writer, name)  # before the value: a stored value never lacks its schema
        self._write(key_of(VALUES, digest), data, lambda old: old == data)
        return format_id(digest)

    def get(self, ident: str) -> bytes:
        """The bytes of the value ``ident``, verified (``not_found``; ``integrity`` if they are not its hash)."""
        digest = parse_id(ident)
        key = key_of(VALUES, digest)
        data = self.backend.read(key)
        if data is None:
            raise StoreError("not_found", f"no value {format_id(digest)} in the store {self.where}",
                             id=format_id(digest))
        if blake3.blake3(data).digest() != digest:
            raise StoreError("integrity", f"value {format_id(digest)} is corrupt in the store (its bytes hash to "
                             f"{content_id(data)}, not to its name)", id=format_id(digest))
        return data

    def has(self, ident: str) -> bool:
        """True if the value ``ident`` is in the store (not verified: :meth:`get` does that)."""
        return self.backend.exists(key_of(VALUES, parse_id(ident)))

    def __contains__(self, ident: object) -> bool:
        return isinstance(ident, str) and self.has(ident)

    def __iter__(self) -> Iterator[str]:
        """The content id of every stored value (names that are not an object's are skipped)."""
        for key in self.backend.keys(VALUES):
            digest = _digest_of_key(key)
            if digest is not None:
                yield format_id(digest)

    def root_of(self, ident: str) -> tuple[str, str]:
        """The root type id and name of the stored value ``ident`` (the name needs its schema in the store)."""
        header = read_header(self.get(ident))
        type_id = format_id(header.root_id)
        name = self.schema(type_id).name_of(header.root_id)
        assert name is not None
        return type_id, name

    # -- schemas ----------------------------------------------------------------------------------------------

    def add_schema(self, schema: Schema, names: Iterable[str] | None = None) -> tuple[str, ...]:
        """Record the closure of every type of ``schema`` (or of ``names``); returns their type ids."""
        out = []
        for name in schema.shapes if names is None else names:
            self._add_closure(schema, name)
            out.append(schema.id(name))
        return tuple(out)

    def _add_closure(self, schema: Schema, name: str) -> None:
        from fsf.bytecode.compile import compile_schema
        from fsf.bytecode.container import dump_container

        digest = schema.id_bytes(name)
        key = key_of(TYPES, digest)
        if self.backend.exists(key):
            self.schema(format_id(digest))  # a sound closure of this id is a no-op; an unsound one an `integrity`
            return
        part = closure(schema.ir, name)
        # Doc comments are not in an id: a closure already stored under this id (the same types, perhaps other
        # docs) is kept as it is, as long as it is sound.
        self._write(key, dump_container(part, compile_schema(part)),
                    lambda old: self._type_object(key, digest, old) is not None)

    def schema(self, type_id: str) -> Schema:
        """The schema of type ``type_id`` rebuilt from the store alone (its closure: every type it reaches);
        ``schema_unknown`` if it is not there, ``integrity`` if its object is unsound."""
        found = self._by_text.get(type_id)
        if found is not None:
            return found
        digest = parse_id(type_id)
        found = self._schemas.get(digest)
        if found is not None:
            return found
        key = key_of(TYPES, digest)
        data = self.backend.read(key)
        if data is None:
            raise StoreError("schema_unknown", f"the schema of type {format_id(digest)} is not in the store "
                             f"{self.where}; add it with `fsf store add SCHEMA` (`fsf store import-history "
                             f"SCHEMA` for its versions in git) or give `-s SCHEMA`",
                             id=format_id(digest))
        loaded = self._type_object(key, digest, data)
        if loaded is None:
            raise StoreError("integrity", f"type {format_id(digest)} is corrupt in the store (its object does not "
                             f"hold that type's closure)", id=format_id(digest))
        self._schemas[digest] = self._by_text[type_id] = loaded
        return loaded

    def has_schema(self, type_id: str) -> bool:
        return self.backend.exists(key_of(TYPES, parse_id(type_id)))

    def type_ids(self) -> Iterator[str]:
        """The id of every type whose closure is stored."""
        for key in self.backend.keys(TYPES):
            digest = _digest_of_key(key)
            if digest is not None:
                yield format_id(digest)

    def type_name(self, type_id: str) -> str:
        """The name of stored type ``type_id``."""
        digest = parse_id(type_id)
        name = self.schema(type_id).name_of(digest)
        assert name is not None
        return name

    @staticmethod
    def _type_object(key: str, digest: bytes, data: bytes) -> Schema | None:
        """The schema in a type object if it is sound (a container holding exactly the closure of the type whose
        id is ``digest``), else None."""
        from fsf.bytecode.container import load_container

        try:
            schema_ir, program = load_container(data, key)
        except FsfError:
            return None
        schema = Schema(schema_ir, program)
        name = schema.name_of(digest)
        if name is None or closure(schema_ir, name) != schema_ir:
            return None
        return schema

    # -- references -------------------------------------------------------------------------------------------

    def check_refs(self, data: bytes, schema: Schema | None = None, *, deep: bool = True) -> int:
        """Check every ``ref<T>`` in the value ``data`` (with ``schema``, else its writer schema from the store)
        names a stored value of root type ``T``; ``deep`` follows them through the whole graph, verifying each
        value reached. Returns how many values were reached. Raises :class:`StoreError` (``dangling_ref``,
        ``ref_type``, ``integrity``, ``schema_unknown``) or :class:`fsf.DecodeError`."""
        header = read_header(data)
        writer = schema if schema is not None and schema.name_of(header.root_id) else None
        if writer is None:
            writer = self.schema(format_id(header.root_id))
        name = writer.name_of(header.root_id)
        assert name is not None
        first = self._check_refs(writer, name, data, content_id(data))
        if not deep:
            return len(first)
        seen = set(first)
        work = deque(first)
        while work:
            ident = work.popleft()
            for target in self._refs_of_stored(ident):
                if target not in seen:
                    seen.add(target)
                    work.append(target)
        return len(seen)

    def _check_refs(self, writer: Schema, name: str, data: bytes, holder: str) -> list[str]:
        """The ids ``data``'s references name, each checked present and of its type (a valid value's)."""
        if name not in holds_refs(writer.ir):
            return []
        out = []
        for path, target, ident in refs_of(writer.ir, name, writer.decode(data, name)):
            self._check_ref(writer, path, target, ident, holder)
            out.append(ident)
        return out

    def _check_ref(self, writer: Schema, path: str, target: str, ident: str, holder: str) -> None:
        data = self.backend.read(key_of(VALUES, parse_id(ident)))
        if data is None:
            raise StoreError("dangling_ref", f"reference to {ident}, which is not in the store {self.where}",
                             id=ident, path=path, value=holder)
        root = read_header(data).root_id if len(data) >= 37 else b""
        if root != writer.id_bytes(target):
            raise StoreError("ref_type", f"reference to {ident} should be a `{target}` "
                             f"({writer.id(target)}), but that value's root type is "
                             f"{format_id(root) if root else 'unreadable'}", id=ident, path=path, value=holder)

    def _refs_of_stored(self, ident: str) -> list[str]:
        data = self.get(ident)
        header = read_header(data)
        writer = self.schema(format_id(header.root_id))
        name = writer.name_of(header.root_id)
        assert name is not None
        writer.verify(data)
        return self._check_refs(writer, name, data, ident)

    def refs(self, ident: str) -> Iterator[str]:
        """Every value reachable from ``ident`` through references (breadth first, each once, ``ident`` not
        included), each verified on the way."""
        seen = {ident}
        work = deque([ident])
        while work:
            for target in self._refs_of_stored(work.popleft()):
                if target not in seen:
                    seen.add(target)
                    work.append(target)
                    yield target

    def log(self, ident: str, via: str) -> Iterator[tuple[str, str]]:
        """Walk the chain from ``ident`` along the reference at field path ``via`` (``prev``, ``record.prev``),
        newest first: each value's content id and root type name, each verified and each link checked."""
        fields = via.split(".")
        ident = format_id(parse_id(ident))
        seen: set[str] = set()
        holder: str | None = None  # the value whose link led here
        while True:
            if ident in seen:  # impossible for content ids; guards a hostile store
                raise StoreError("integrity", f"the chain loops back to {ident}", id=ident)
            seen.add(ident)
            try:
                data = self.get(ident)
            except StoreError as err:
                if holder is None:
                    raise
                raise StoreError(err.code, f"broken link: {err.message}", id=ident, path="$." + via,
                                 value=holder) from None
            header = read_header(data)
            writer = self.schema(format_id(header.root_id))
            name = writer.name_of(header.root_id)
            assert name is not None
            target, nxt = _follow(writer.ir, name, writer.decode(data), fields, via)  # a bad path: before any line
            yield ident, name
            if nxt is None:
                return
            self._check_ref(writer, "$." + via, target, nxt, ident)
            holder, ident = ident, nxt

    # -- writing ----------------------------------------------------------------------------------------------

    def _write(self, key: str, data: bytes, same: Callable[[bytes], bool]) -> None:
        if not self._cleaned:
            self.backend.clean()
            self._cleaned = True
        old = self.backend.write_once(key, data)
        if old is not None and not same(old):
            digest = _digest_of_key(key)
            assert digest is not None
            corrupt = (blake3.blake3(old).digest() != digest if key.startswith(VALUES)
                       else self._type_object(key, digest, old) is None)
            if corrupt:
                raise StoreError("integrity", f"the stored object {key} is corrupt (not what its name says); it is "
                                 "not replaced: remove it by hand", id=format_id(digest))
            raise StoreError("collision", f"a different object is already stored as {key}; it is never replaced",
                             id=format_id(digest))

    # -- fsck -------------------------------------------------------------------------------------------------

    def verify(self) -> Report:
        """Check every object: values hash to their names, are canonical valid values of a stored writer schema
        and reference stored values of the right type; type objects hold the closure their name says."""
        problems: list[Problem] = []
        types = 0
        for key in sorted(self.backend.keys(TYPES)):
            digest = _digest_of_key(key)
            if digest is None:
                problems.append(Problem("stray", key, "not the name of an object"))
                continue
            types += 1
            try:
                self._schemas.pop(digest, None)
                self._by_text.pop(format_id(digest), None)
                self.schema(format_id(digest))
            except StoreError as err:
                if err.code == "backend":  # the storage failed, not this object: stop, with one error
                    raise
                problems.append(Problem(err.code, key, err.message))
        values = 0
        for key in sorted(self.backend.keys(VALUES)):
            digest = _digest_of_key(key)
            if digest is None:
                problems.append(Problem("stray", key, "not the name of an object"))
                continue
            values += 1
            ident = format_id(digest)
            try:
                self._refs_of_stored(ident)
            except StoreError as err:
                if err.code == "backend":
                    raise
                where = f" at `{err.path}`" if err.path else ""
                problems.append(Problem(err.code, key, f"{err.message}{where}"))
            except DecodeError as err:
                problems.append(Problem(err.code, key, f"value {ident} is not a valid value of its writer type: "
                                        f"{err.message} at byte {err.offset}"))
        return Report(tuple(problems), values, types, tuple(self.backend.leftovers()))


def _follow(schema: ir.Schema, name: str, value: Any, fields: list[str], via: str) -> tuple[str, str | None]:
    """The target type and the id at field path ``fields`` of ``value`` (None at the end of a chain)."""
    t: ir.Type = ir.Named(name)
    for i, field in enumerate(fields):
        if isinstance(t, ir.Optional):
            t = t.inner
        decl = schema[t.name] if isinstance(t, ir.Named) else None
        match = [f for f in decl.fields if f.name == field] if isinstance(decl, ir.Shape) else []
        if not match:
            raise UsageError(f"`{via}` is not a field path of `{name}`: no field `{field}` at "
                             f"`{'.'.join(['$', *fields[:i]])}`")
        t = match[0].type
        if value is not None:
            value = value[field]
    inner = t.inner if isinstance(t, ir.Optional) else t
    if not isinstance(inner, ir.Ref):
        raise UsageError(f"`{via}` of `{name}` has the type `{ir.type_name(t)}`, not `ref<T>`")
    return inner.target, value


# -- finding a store --------------------------------------------------------------------------------------------


def backend_for(location: str | os.PathLike[str]) -> Backend:
    """The backend of a store location: ``s3://bucket/prefix`` (needs ``fsf[s3]``), else a local folder."""
    text = os.fspath(location)
    if text.startswith("s3://"):
        try:
            from fsf.store.s3 import S3Backend
        except ImportError as err:
            raise UsageError(f"a store on S3 needs the `s3` extra (pip install 'fsf[s3]'): {err}") from None
        return S3Backend(text)
    return LocalBackend(text)


def open_store(path: str | os.PathLike[str] | None = None, **where: Any) -> Store:
    """The store at ``path`` (else found as :func:`locate_store` says); ``not_a_store`` if there is none."""
    location = locate_store(path, **where)
    if location is None:
        raise StoreError("not_a_store", f"no store here: no `{DEFAULT_FOLDER}` folder in this folder or a parent, "
                         f"and no ${ENV}; make one with `fsf store init`")
    return _open(location)


def find_store(path: str | os.PathLike[str] | None = None, **where: Any) -> Store | None:
    """Like :func:`open_store`, but None when no store is named or found (a named one must be a store)."""
    location = locate_store(path, **where)
    return None if location is None else _open(location)


def _open(location: str) -> Store:
    backend = backend_for(location)
    if not backend.is_store():
        raise StoreError("not_a_store", f"`{location}` is not a store (no {MARKER} file); "
                         f"make one with `fsf store init {location}`")
    return Store(backend)


def init_store(path: str | os.PathLike[str] = DEFAULT_FOLDER) -> Store:
    """Make a store at ``path`` (idempotent) and open it."""
    backend = backend_for(path)
    backend.init()
    return Store(backend)

