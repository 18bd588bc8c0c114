"""FSF/FSV: a schema language (FSF) and a canonical, content-addressed binary value format (FSV).

>>> import fsf
>>> schema = fsf.compile_source("shape Task { id: str[1..16], dependsOn: arr[0..8]<str> }")
>>> schema.validate("Task", {"id": "T1", "dependsOn": []})
"""

from fsf.api import compile_source, load_schema
from fsf.codec import content_id
from fsf.codegen import codegen
from fsf.errors import DecodeError, Diagnostic, FsfError, SchemaError, UsageError, ValidationError
from fsf.schema import Schema
from fsf.views import ViewError, render_markdown

__all__ = [
    "DecodeError",
    "Diagnostic",
    "FsfError",
    "Schema",
    "SchemaError",
    "UsageError",
    "ValidationError",
    "ViewError",
    "codegen",
    "compile_source",
    "content_id",
    "load_schema",
    "render_markdown",
]
