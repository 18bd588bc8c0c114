"""FSF/FSV: a schema language (FSF) and a canonical, content-addressed binary value format (FSV).

>>> import fsf
>>> schema = fsf.compile_source("shape Task { id: str[1..16], dependsOn: arr[0..8]<str> }")
>>> schema.validate("Task", {"id": "T1", "dependsOn": []})

``import fsf`` stays light: the Markdown views (jinja2), the store and the code generators are imported on first
use of a name that needs them (PEP 562), the codec when a value is first encoded, decoded or verified, and the
parser (``fsf/front/_lalr.py``, pre-built: no lark) only when schema source text is parsed; ``tests/test_imports.py``
guards each.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from fsf.api import codegen, compile_source, load_schema
from fsf.errors import (
    DecodeError,
    Diagnostic,
    FsfError,
    IncompatibleError,
    SchemaError,
    StoreError,
    UsageError,
    ValidationError,
)
from fsf.schema import Schema

if TYPE_CHECKING:
    from fsf.errors import ViewError
    from fsf.fsv.header import content_id
    from fsf.render import render_markdown
    from fsf.store import Store, init_store, open_store

_LAZY = {"content_id": "fsf.fsv.header", "ViewError": "fsf.errors", "render_markdown": "fsf.render",
         "Store": "fsf.store", "init_store": "fsf.store", "open_store": "fsf.store"}
"""Public names imported on first use, and the module each comes from."""

__all__ = [
    "DecodeError",
    "Diagnostic",
    "FsfError",
    "IncompatibleError",
    "Schema",
    "SchemaError",
    "Store",
    "StoreError",
    "UsageError",
    "ValidationError",
    "ViewError",
    "codegen",
    "compile_source",
    "content_id",
    "init_store",
    "load_schema",
    "open_store",
    "render_markdown",
]


class _Package(types.ModuleType):
    """The module type of ``fsf``: the name ``fsf.codegen`` stays the function :func:`fsf.api.codegen`.

    Importing the subpackage ``fsf.codegen`` (which ``import fsf`` no longer does: it waits for first use) binds it
    as an attribute of its parent, which would hide the function; that one binding is dropped.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "codegen" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fsf' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
