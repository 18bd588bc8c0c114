"""Limits: the numbers that bound what a value may cost, stated once for every path (``docs/fsv.md``, "Decoding").

Every executor imports them from here: the reference reader and writer (:mod:`fsf.fsv.codec`), the validators
(:mod:`fsf.bytecode.vm`, :mod:`fsf.bytecode.specialize`, through :mod:`fsf.schema`), the fused and accelerated code
(:mod:`fsf.fsv.pure`), the object converters (:mod:`fsf.codegen.objects`) and the C codec, which receives
:data:`MAX_DEPTH` as an argument of its ``Program`` (``fsf.fsv.native.codec``).
"""

from __future__ import annotations

MAX_DEPTH = 64
"""The nesting limit. The one depth rule: a value's depth is the number of msgpack containers (arrays and maps)
around it on the wire, counting itself; a container deeper than this is refused. A shape, an array and a map are
one container each, and so is a union, ``[variant index, fields...]``: in the Python form a union is two dicts
(``{"Variant": {fields}}``), but the variant's dict is the same level as the union's, so a field of a variant
is one level below its union, exactly as on the wire."""

CLI_MAX_VALUES = 1 << 20
"""The decode budget the ``fsv`` command line applies by default (``--max-values``): 1 Mi msgpack values, at
most 129 MiB of Python objects plus the value's str and bin contents (``docs/fsv.md``, "Decode budget")."""

BYTES_PER_VALUE = 129
"""The most Python memory (64-bit CPython, measured with :mod:`tracemalloc` by ``tests/fsv/test_memory_budget.py``)
that one msgpack value of a decoded value holds, besides the contents of its str and bin values. The worst case
is a unit union variant inside an array: ``[index]``, two values, holds a list slot (8 bytes, 9 with the list's
growth), the union's dict (184) and the variant's empty dict (64)."""
