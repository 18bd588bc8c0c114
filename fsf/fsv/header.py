"""Header: FSV bytes -> the container header (magic, format version, root type id) and content ids.

Its layout is stated in :mod:`fsf.fsv.format`. The header needs no schema: ``fsv inspect`` and the store read it
alone (``docs/fsv.md``, "Container").
"""

from __future__ import annotations

import attrs
import blake3

from fsf.errors import DecodeError
from fsf.fsv.format import FORMAT_VERSION as FORMAT_VERSION  # re-exported, as the next two: the layout's table
from fsf.fsv.format import HEADER_SIZE as HEADER_SIZE
from fsf.fsv.format import MAGIC as MAGIC
from fsf.ir.ids import format_id


def content_id(data: bytes | bytearray | memoryview) -> str:
    """The content id of FSV bytes: ``blake3:`` + hex of BLAKE3 over the whole value (header included).

    >>> content_id(b"")
    'blake3:af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'
    """
    return format_id(blake3.blake3(bytes(data)).digest())


@attrs.frozen
class Header:
    """The container header of an FSV value."""

    version: int
    root_id: bytes
    payload_offset: int
    payload_size: int


HEAD = MAGIC + bytes([FORMAT_VERSION])


def pack_header(root_id: bytes) -> bytes:
    """The header bytes for a value whose root type has the 32-byte id digest ``root_id``."""
    return HEAD + root_id


def read_header(data: bytes) -> Header:
    """Check and split the container header (needs no schema); raises :class:`fsf.DecodeError`."""
    n = len(data)
    if bytes(data[: len(MAGIC)]) != MAGIC[: min(n, len(MAGIC))]:
        head = " ".join(f"{b:02x}" for b in data[: len(MAGIC)])
        raise DecodeError("bad_magic", f"not an FSV value: starts with `{head}`, expected `89 46 53 56`", 0)
    if n < len(MAGIC) + 1:
        raise DecodeError("truncated", "input ends inside the FSV header", n)
    version = data[len(MAGIC)]
    if version != FORMAT_VERSION:
        raise DecodeError("unsupported_version",
                          f"unsupported FSV format version {version}; this library reads version {FORMAT_VERSION}",
                          len(MAGIC))
    if n < HEADER_SIZE:
        raise DecodeError("truncated", "input ends inside the root type id of the FSV header", n)
    return Header(version, bytes(data[len(MAGIC) + 1 : HEADER_SIZE]), HEADER_SIZE, n - HEADER_SIZE)
