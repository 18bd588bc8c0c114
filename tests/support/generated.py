"""Generated classes in tests: a schema's generated Python imported as a module, and the "every construct" schema
of the code-generation goldens with one value of its root in the Python form."""

from __future__ import annotations

import contextlib
import sys
import types
from collections.abc import Iterator
from typing import Any

import fsf


@contextlib.contextmanager
def generated_module(schema: fsf.Schema, name: str) -> Iterator[types.ModuleType]:
    """The generated Python of ``schema`` imported as module ``name`` (registered in sys.modules meanwhile)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(fsf.codegen(schema, "python"), f"<{name}>", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[name]


EVERY = fsf.load_schema("tests/golden/codegen/every.fsf")
"""Every construct of the language (``tests/golden/codegen/every.fsf``), root ``Holder``."""

EVERY_VALUE: dict[str, Any] = {
    "plan": {"Nested": {"inner": {"Fixed": {"price": 3, "currency": "EUR"}},
                        "trees": [{"label": "t", "children": [], "origin": None, "note": "n", "color": "green",
                                   "tags": ["a", None]}],
                        "colors": {"red": {"NoPlan": {}}, "blue_ish": {"Fixed": {"price": 1, "currency": "USD"}}}}},
    "tree": {"label": "root", "origin": "blake3:" + "ab" * 32, "note": None, "color": None, "tags": [],
             "children": [{"label": "c", "children": [], "origin": None, "note": None, "color": "red", "tags": []}]},
    "primitives": {"flag": True, "tiny": -1, "short": 2, "medium": 3, "long": -4, "byte": 5, "word": 6,
                   "dword": 7, "qword": 8, "single": 1.5, "double": 2.25, "text": "x", "blob": b"b",
                   "digest": b"d" * 32, "at": 12},
    "bounded": {"small": 1, "count": 11, "ratio": 0.5, "half": 0.5, "code": "c", "blob": b"1", "items": [1],
                "byKey": {"a": 1}, "byNumber": {3: True}, "byColor": {"green": "g"}},
    "plans": [{"NoPlan": {}}],
}
"""A ``Holder`` of :data:`EVERY` in the Python form, touching every construct."""
