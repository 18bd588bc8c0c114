"""Schema: the embedded API over one checked schema (IR, ids, compiled program, validators, codec).

Build one with :func:`fsf.load_schema` or :func:`fsf.compile_source`; everything here is derived from the
IR once and cached on the object (no module-level state).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fsf import ir
from fsf.errors import UsageError
from fsf.ids import format_id, type_ids

if TYPE_CHECKING:
    from fsf.codec import Plan
    from fsf.opcodes import Program

DEFAULT_MAX_DEPTH = 64
"""Values nested deeper than this (containers inside containers) are refused."""


class Schema:
    """A checked schema: its named types, their ids, and validation.

    >>> s = compile_source("shape Task { id: str[1..8] }")  # doctest: +SKIP
    >>> s.validate("Task", {"id": "T1"})                       # doctest: +SKIP
    """

    __slots__ = ("_codec", "_fast", "_ids", "_names_by_id", "_program", "ir", "origin")

    def __init__(self, schema_ir: ir.Schema, program: Program | None = None, origin: str | None = None) -> None:
        self.ir = schema_ir
        self.origin = origin
        """The file this schema was loaded from (None when compiled from text); views look for templates there."""
        self._ids = type_ids(schema_ir)
        self._names_by_id = {digest: name for name, digest in self._ids.items()}
        self._program = program
        self._fast: dict[str, Callable[[Any], None]] | None = None
        self._codec: Plan | None = None

    def __repr__(self) -> str:
        return f"<fsf.Schema {', '.join(self.shapes)}>"

    @property
    def shapes(self) -> tuple[str, ...]:
        """Every named type (shapes, enums, unions), sorted by name."""
        return self.ir.names

    def id(self, name: str) -> str:
        """The id of a named type: ``blake3:`` + 64 hex digits."""
        return format_id(self.id_bytes(name))

    def id_bytes(self, name: str) -> bytes:
        """The 32-byte id digest of a named type."""
        self._require(name)
        return self._ids[name]

    def name_of(self, digest: bytes) -> str | None:
        """The named type whose id digest is ``digest``, if this schema has one."""
        return self._names_by_id.get(digest)

    @property
    def program(self) -> Program:
        """The compiled bytecode program (one validator per named type)."""
        if self._program is None:
            from fsf.compile import compile_schema

            self._program = compile_schema(self.ir)
        return self._program

    def validate(self, name: str, value: Any, *, engine: str = "fast") -> None:
        """Return None if ``value`` is a valid ``name``, else raise :class:`fsf.ValidationError`.

        ``engine="vm"`` runs the reference bytecode VM instead of the specialised fast path.
        """
        self._require(name)
        if engine == "vm":
            from fsf.vm import run

            run(self.program, name, value, DEFAULT_MAX_DEPTH)
            return
        if engine != "fast":
            raise UsageError(f"unknown engine `{engine}`; use `fast` or `vm`")
        if self._fast is None:
            from fsf.specialize import specialize

            self._fast = dict(specialize(self.program, DEFAULT_MAX_DEPTH))
        self._fast[name](value)

    def encode(self, name: str, value: Any) -> bytes:
        """Validate ``value`` as a ``name`` and return its canonical FSV bytes (raises :class:`fsf.ValidationError`).

        >>> data = s.encode("Task", {"id": "T1"})   # doctest: +SKIP
        """
        from fsf.codec import encode

        return encode(self, name, value)

    def decode(self, data: bytes, name: str | None = None) -> Any:
        """The value of FSV bytes ``data`` (root type from its header; ``name`` insists on one), validated.

        Returns the canonical Python form: every field present (an absent optional is ``None``), ``time`` as
        integer nanoseconds. Raises :class:`fsf.DecodeError` (with ``.code`` and ``.offset``) for anything else.
        """
        from fsf.codec import decode

        return decode(self, data, name)

    def _require(self, name: str) -> None:
        if name not in self.ir:
            known = ", ".join(f"`{n}`" for n in self.shapes)
            raise UsageError(f"schema has no type `{name}`; it has {known}")
