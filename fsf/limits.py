"""Limits: the numbers that bound what a schema or a value may cost -> stated once, imported by every path
(``docs/fsv.md``, "Decoding"; ``docs/language.md``).

Every executor imports them from here: the parser (:mod:`fsf.front.parse`, the source size and type nesting), the
container reader (:mod:`fsf.bytecode.container`), the reference reader and writer (:mod:`fsf.fsv.reader`), the
validators (:mod:`fsf.bytecode.vm`, :mod:`fsf.bytecode.specialize`, through :mod:`fsf.schema`), the fused and
accelerated code (:mod:`fsf.fsv.pure`), the object converters (:mod:`fsf.codegen.objects`) and the C codec, which
receives :data:`MAX_DEPTH` as an argument of its ``Program`` (``fsf.fsv.native.codec``) and checks it against
:data:`MAX_DEPTH_LIMIT` from the generated ``fsf/fsv/_format.h``.
"""

from __future__ import annotations

MAX_DEPTH = 64
"""The nesting limit. The one depth rule: a value's depth is the number of msgpack containers (arrays and maps)
around it on the wire, counting itself; a container deeper than this is refused. A shape, an array and a map are
one container each, and so is a union, ``[variant index, fields...]``: in the Python form a union is two dicts
(``{"Variant": {fields}}``), but the variant's dict is the same level as the union's, so a field of a variant
is one level below its union, exactly as on the wire."""

MAX_DEPTH_LIMIT = 256
"""The largest ``max_depth`` an executor accepts (the validators and the C codec's ``Program``)."""

MAX_TYPE_DEPTH = 64
"""Type expressions nested deeper than this are refused (``arr<arr<...>>``; each type constructor is a level), by
the parser and by the container reader alike."""

MAX_SOURCE_BYTES = 1 << 20
"""A schema file larger than this (1 MiB of UTF-8) is refused before parsing."""

MAX_LITERAL_DIGITS = 40
"""A number literal (a bound or a ``@default``) has at most this many characters after an optional ``-``: the
checker (:mod:`fsf.front.check`, ``F207``) and the annotation table (:mod:`fsf.ir.annotations`) refuse longer ones
before turning them into numbers (``int("9" * 5000)`` alone costs quadratic time)."""

CLI_MAX_VALUES = 1 << 20
"""The decode budget the ``fsv`` command line applies by default (``--max-values``): 1 Mi msgpack values, at
most 129 MiB of Python objects plus the value's str and bin contents (``docs/fsv.md``, "Decode budget")."""

BYTES_PER_VALUE = 129
"""The most Python memory (64-bit CPython, measured with :mod:`tracemalloc` by ``tests/fsv/test_memory_budget.py``)
that one msgpack value of a decoded value holds, besides the contents of its str and bin values. The worst case
is a unit union variant inside an array: ``[index]``, two values, holds a list slot (8 bytes, 9 with the list's
growth), the union's dict (184) and the variant's empty dict (64)."""
