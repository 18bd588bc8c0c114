"""Codegen: IR schema -> source text of typed Python classes, a JSON Schema 2020-12 or TypeScript declarations.

Each target builds a small view of the IR in which every piece of text is already escaped for its place
(:class:`Code`), and renders it with a Jinja template from the top-level ``codegen/`` folder. The Jinja
environment refuses to print anything that is not :class:`Code` or an integer, so schema text can reach the
output only through one of the escapers below.

Names follow one rule (``docs/codegen.md``): a name that is reserved at its place in the target language gets
``_`` appended, again until it is free. FSF names never end in ``_`` (the checker's name rules), so an escaped
name cannot collide with a declared one; the loop only matters for IRs built by hand. Union variants become
``Union_Variant`` classes (Python) or interfaces (TypeScript): type names have no ``_``, so this cannot collide
either. Names that are not ASCII identifiers are refused.
"""

from __future__ import annotations

import functools
import json
import keyword
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from fsf import ir
from fsf.errors import UsageError

if TYPE_CHECKING:
    import jinja2

TARGETS = ("python", "jsonschema", "typescript")
"""The code generation targets, in the order the CLI lists them."""

FLOAT32_MAX = 3.4028234663852886e38
"""The largest finite float32: the implicit bounds of an unbounded ``f32``."""

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# In a docstring: every backslash, and a quote that another quote or the closing quotes would follow.
_PY_DOC_SPECIAL = re.compile(r'\\|"(?="|\Z)')

# Names the generated Python code itself uses at each place, besides keywords. Class bodies refer to the
# builtin types and imported modules in annotations, so a field of that name would shadow them for type
# checkers; attrs' generated ``__init__`` takes ``self``; enum members cannot be called ``mro`` and ``name``
# and ``value`` would hide the member attributes.
_PY_USED = frozenset({"annotations", "attrs", "bool", "bytes", "datetime", "dict", "enum", "float", "int", "list",
                      "str", "typing"})
PY_RESERVED_TYPE = frozenset(keyword.kwlist) | _PY_USED
PY_RESERVED_FIELD = PY_RESERVED_TYPE | {"self", "FSF_ID", "FSF_NAME", "FSF_VARIANT"}
PY_RESERVED_MEMBER = frozenset(keyword.kwlist) | {"mro", "name", "value"}
TS_RESERVED_TYPE = frozenset(
    "any await bigint boolean break case catch class const continue debugger declare default delete do else enum "
    "export extends false finally for function if implements import in infer instanceof interface keyof let "
    "module namespace never new null number object package private protected public readonly return static "
    "string super switch symbol this throw true try type typeof undefined unique unknown var void while with "
    "yield".split())


class Code(str):
    """Text that is safe to print into generated code as is: escaped, validated or produced by us."""

    __slots__ = ()


def codegen(schema_ir: ir.Schema, ids: Mapping[str, str], target: str) -> str:
    """Generate ``target`` (``python``, ``jsonschema`` or ``typescript``) source for every type of ``schema_ir``,
    whose type ids (``blake3:...``) are ``ids``. The public :func:`fsf.codegen` takes a Schema and calls this.

    >>> import fsf
    >>> s = fsf.compile_source("enum Color { red }")
    >>> print(codegen(s.ir, {"Color": s.id("Color")}, "typescript").splitlines()[-1])
    export type Color = "red";
    """
    if target not in TARGETS:
        raise UsageError(f"unknown code generation target `{target}`; use {', '.join(f'`{t}`' for t in TARGETS)}")
    view = {"python": _python_view, "jsonschema": _jsonschema_view, "typescript": _typescript_view}[target](
        schema_ir, ids)
    return _environment().get_template(_TEMPLATES[target]).render(view)


_TEMPLATES = {"python": "python.py.j2", "jsonschema": "jsonschema.json.j2", "typescript": "typescript.d.ts.j2"}


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    """The Jinja environment over ``codegen/`` (built once: loading and compiling templates is the slow part)."""
    import jinja2

    from fsf._resources import resource_dir

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("codegen"))),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_only_code,
    )


def _only_code(value: object) -> object:
    """Jinja ``finalize``: only escaped text and integers may reach the output."""
    if isinstance(value, Code) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise TypeError(f"unescaped {type(value).__name__} reached a code template: {value!r:.60}")


# -- names ---------------------------------------------------------------------------------------------------


def escape_name(name: str, reserved: Iterable[str], taken: set[str] | None = None) -> str:
    """``name``, with ``_`` appended while it is reserved or already ``taken``; adds the result to ``taken``.

    >>> escape_name("class", PY_RESERVED_FIELD)
    'class_'
    """
    if not _IDENT.match(name):
        raise UsageError(f"cannot generate code for `{name!r}`: names must be ASCII identifiers")
    reserved = reserved if isinstance(reserved, frozenset) else frozenset(reserved)
    taken = set() if taken is None else taken
    out = name
    while out in reserved or out in taken:
        out += "_"
    taken.add(out)
    return out


@attrs.frozen
class PythonNames:
    """The Python name of every type, union variant, field and enum member of a schema.

    ``types`` maps a declared name to its class or alias; ``variants`` maps ``(union, variant)`` to its class;
    ``fields`` maps ``(shape, None)`` or ``(union, variant)`` to the attribute names in field order;
    ``members`` maps an enum to its member names in order.
    """

    types: dict[str, str]
    variants: dict[tuple[str, str], str]
    fields: dict[tuple[str, str | None], tuple[str, ...]]
    members: dict[str, tuple[str, ...]]


def python_names(schema_ir: ir.Schema) -> PythonNames:
    """Apply the naming rule to every name of ``schema_ir`` (declared names first, then variant classes)."""
    taken: set[str] = set()
    types = {d.name: escape_name(d.name, PY_RESERVED_TYPE, taken) for d in schema_ir.decls}
    variants: dict[tuple[str, str], str] = {}
    fields: dict[tuple[str, str | None], tuple[str, ...]] = {}
    members: dict[str, tuple[str, ...]] = {}
    for d in schema_ir.decls:
        if isinstance(d, ir.Shape):
            fields[d.name, None] = _py_fields(d.fields)
        elif isinstance(d, ir.Enum):
            used: set[str] = set()
            members[d.name] = tuple(escape_name(m.name, PY_RESERVED_MEMBER, used) for m in d.members)
        else:
            for v in d.variants:
                variants[d.name, v.name] = escape_name(f"{d.name}_{v.name}", PY_RESERVED_TYPE, taken)
                fields[d.name, v.name] = _py_fields(v.fields)
    return PythonNames(types, variants, fields, members)


def _py_fields(fields: tuple[ir.Field, ...]) -> tuple[str, ...]:
    used: set[str] = set()
    return tuple(escape_name(f.name, PY_RESERVED_FIELD, used) for f in fields)


# -- escapers ------------------------------------------------------------------------------------------------


def _char_escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _doc_lines(doc: str) -> list[str]:
    """A doc comment's lines, trailing blanks dropped (generated code carries no trailing whitespace)."""
    return [line.rstrip() for line in doc.split("\n")]


def py_docstring(doc: str, indent: int) -> Code:
    """A triple-quoted Python string literal for ``doc``, continuation lines indented by ``indent`` spaces.

    Backslashes are doubled; a ``"`` is escaped when another ``"`` or the closing quotes follow it; characters
    that are not printable (controls, line and paragraph separators, lone surrogates) become ``\\x``/``\\u``
    escapes. So the literal always ends where we end it and always evaluates back to ``doc``.
    """
    text = _PY_DOC_SPECIAL.sub(r"\\\g<0>", "\n".join(_doc_lines(doc)))
    if not text.replace("\n", "").isprintable():
        text = "".join(ch if ch == "\n" or ch.isprintable() else _char_escape(ch) for ch in text)
    pad = " " * indent
    if "\n" not in text:
        return Code(f'"""{text}"""')
    text = "\n".join(f"{pad}{line}" if line and i else line for i, line in enumerate(text.split("\n")))
    return Code(f'"""{text}\n{pad}"""')


def ts_doc(doc: str, indent: int) -> Code:
    """A ``/** ... */`` comment for ``doc``: ``*/`` is broken as ``*\\/`` and unprintable characters are written
    as ``\\u`` escapes, so the comment always ends where we end it."""
    pad = " " * indent
    lines = []
    for line in _doc_lines(doc):
        if not line.isprintable():
            line = "".join(ch if ch.isprintable() else _char_escape(ch) for ch in line)
        line = line.replace("*/", "*\\/")
        lines.append(line)
    if len(lines) == 1:
        return Code(f"/** {lines[0]} */")
    inner = "".join(f"\n{pad} *{' ' + line if line else ''}" for line in lines)
    return Code(f"/**{inner}\n{pad} */")


def json_text(value: Any, indent: int | None = None) -> Code:
    """``value`` as JSON (strings escaped by the JSON encoder; key order kept, so output is deterministic)."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False)
    # JSON allows raw line and paragraph separators in strings; JavaScript and many editors do not.
    return Code(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _check_type(t: ir.Type) -> None:
    """Refuse what cannot be written: names that are not identifiers, float bounds that are not finite."""
    stack = [t]
    while stack:
        t = stack.pop()
        if isinstance(t, ir.Named | ir.Ref):
            escape_name(t.name if isinstance(t, ir.Named) else t.target, ())
        elif isinstance(t, ir.Float) and not all(math.isfinite(b) for b in (t.lo, t.hi) if b is not None):
            raise UsageError(f"cannot generate code for `{t.kind}[{t.lo}..{t.hi}]`: float bounds must be finite")
        stack.extend(ir.children(t))


def _plain(t: ir.Type) -> bool:
    """Types whose target spelling says everything: ``bool``, declared types, unbounded ``str`` and ``f64``."""
    if isinstance(t, ir.Bool | ir.Named):
        return True
    if isinstance(t, ir.Str):
        return t.lo == 0 and t.hi is None
    return isinstance(t, ir.Float) and t.width == 64 and t.lo is None and t.hi is None


def fsf_note(t: ir.Type, target_text: str) -> Code | None:
    """The FSF spelling of a field's type for a trailing comment, when the target type does not already say it
    (widths, bounds, ``hash``, ``time``, ``ref``): ``u16[1..10000]?``. None for ``bool``, ``str``, ``f64`` and
    declared types."""
    if _plain(t.inner if isinstance(t, ir.Optional) else t):
        return None
    _check_type(t)
    text = ir.type_name(t)
    return None if text == target_text else Code(text)


# -- python --------------------------------------------------------------------------------------------------


@attrs.frozen
class _PyField:
    name: Code
    type: Code
    optional: bool
    doc: Code | None
    note: Code | None


@attrs.frozen
class _PyClass:
    """One class (shape, variant or enum) or one union alias."""

    kind: str  # "shape" | "variant" | "enum" | "alias"
    name: Code
    doc: Code | None
    constants: tuple[tuple[Code, Code], ...] = ()
    fields: tuple[_PyField, ...] = ()
    members: tuple[tuple[Code, Code, Code | None], ...] = ()  # name, value literal, doc
    alias: Code = Code("")


def _python_view(schema_ir: ir.Schema, ids: Mapping[str, str]) -> dict[str, object]:
    names = python_names(schema_ir)
    used: set[str] = set()

    def doc(text: str, indent: int = 4) -> Code | None:
        return py_docstring(text, indent) if text else None

    def fields(owner: tuple[str, str | None], fs: tuple[ir.Field, ...]) -> tuple[_PyField, ...]:
        out = []
        for f, py in zip(fs, names.fields[owner], strict=True):
            text = _py_type(f.type, names, used)
            out.append(_PyField(Code(py), Code(text), f.optional, doc(f.doc), fsf_note(f.type, text)))
        return tuple(out)

    classes: list[_PyClass] = []
    for d in schema_ir.decls:
        cname = Code(names.types[d.name])
        consts: tuple[tuple[Code, Code], ...]
        if isinstance(d, ir.Shape):
            consts = ((Code("FSF_NAME"), json_text(d.name)), (Code("FSF_ID"), json_text(ids[d.name])))
            classes.append(_PyClass("shape", cname, doc(d.doc), consts, fields((d.name, None), d.fields)))
        elif isinstance(d, ir.Enum):
            used.add("enum")
            members = tuple((Code(py), json_text(m.name), doc(m.doc))
                            for m, py in zip(d.members, names.members[d.name], strict=True))
            classes.append(_PyClass("enum", cname, doc(d.doc), members=members))
        else:
            vnames = []
            for v in d.variants:
                vname = Code(names.variants[d.name, v.name])
                vnames.append(vname)
                consts = ((Code("FSF_NAME"), json_text(d.name)), (Code("FSF_VARIANT"), json_text(v.name)),
                          (Code("FSF_ID"), json_text(ids[d.name])))
                classes.append(_PyClass("variant", vname, doc(v.doc), consts, fields((d.name, v.name), v.fields)))
            classes.append(_PyClass("alias", cname, doc(d.doc, 0), alias=Code(" | ".join(vnames))))
    if any(c.kind in ("shape", "variant") for c in classes):
        used.update(("attrs", "typing"))
    if any(c.kind == "alias" for c in classes):
        used.add("typing")
    return {
        "header": _header("#", "python", schema_ir, ids),
        "stdlib": tuple(Code(m) for m in sorted(used - {"attrs", _TIME_USED})),
        "attrs": "attrs" in used,
        "times": _TIME_USED in used,
        "classes": tuple(classes),
    }


_TIME_USED = "<time>"
"""Marks, among the modules a Python module uses, that it has a ``time`` somewhere (never a module name)."""


def _py_type(t: ir.Type, names: PythonNames, used: set[str]) -> str:
    if isinstance(t, ir.Bool):
        return "bool"
    if isinstance(t, ir.Int):
        return "int"
    if isinstance(t, ir.Float):
        return "float"
    if isinstance(t, ir.Str | ir.Ref):
        return "str"
    if isinstance(t, ir.Bytes | ir.Hash):
        return "bytes"
    if isinstance(t, ir.Time):  # what decoding gives (docs/codegen.md); the module says so once, in a comment
        used.add(_TIME_USED)
        return "int"
    if isinstance(t, ir.Named):
        return names.types[t.name]
    if isinstance(t, ir.Optional):
        return f"{_py_type(t.inner, names, used)} | None"
    if isinstance(t, ir.Array):
        return f"list[{_py_type(t.item, names, used)}]"
    return f"dict[{_py_type(t.key, names, used)}, {_py_type(t.value, names, used)}]"


def _header(comment: str, target: str, schema_ir: ir.Schema, ids: Mapping[str, str]) -> Code:
    lines = [f"{comment} Generated by `fsf codegen --target {target}` from FSF schema types; do not edit."]
    lines.extend(f"{comment} {d.name} {ids[d.name]}" for d in schema_ir.decls)
    # Names were validated by escape_name before this is rendered; ids are ours.
    return Code("\n".join(lines))


# -- json schema ---------------------------------------------------------------------------------------------

_B64 = "[A-Za-z0-9+/]"
_HEX64 = "^[0-9a-f]{64}$"
_REF = "^blake3:[0-9a-f]{64}$"
_TIME = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$"


def _jsonschema_view(schema_ir: ir.Schema, ids: Mapping[str, str]) -> dict[str, object]:
    for d in schema_ir.decls:  # validate every name, as the other targets do
        escape_name(d.name, ())
    defs = tuple((json_text(d.name), _indent(json_text(_js_decl(d, ids), 2), 4)) for d in schema_ir.decls)
    comment = ("Generated by `fsf codegen --target jsonschema` from FSF schema types; do not edit. "
               + ", ".join(f"{d.name} {ids[d.name]}" for d in schema_ir.decls))
    return {"comment": json_text(comment), "defs": defs}


def _indent(text: Code, n: int) -> Code:
    return Code(text.replace("\n", "\n" + " " * n))


def _js_decl(d: ir.Decl, ids: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if d.doc:
        out["description"] = d.doc
    out["$comment"] = f"FSF type {d.name} {ids[d.name]}"
    if isinstance(d, ir.Shape):
        out.update(_js_object(d.fields))
    elif isinstance(d, ir.Enum):
        for m in d.members:
            escape_name(m.name, ())
        out["enum"] = [m.name for m in d.members]
    else:
        alternatives = []
        for v in d.variants:
            escape_name(v.name, ())
            body: dict[str, Any] = {"description": v.doc} if v.doc else {}
            body.update(_js_object(v.fields))
            alternatives.append({"type": "object", "properties": {v.name: body}, "required": [v.name],
                                 "additionalProperties": False})
        out["oneOf"] = alternatives
    return out


def _js_object(fields: tuple[ir.Field, ...]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for f in fields:
        escape_name(f.name, ())
        prop = _js_type(f.type)
        properties[f.name] = {"description": f.doc, **prop} if f.doc else prop
    out: dict[str, Any] = {"type": "object", "properties": properties}
    required = [f.name for f in fields if not f.optional]
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    return out


def _js_type(t: ir.Type) -> dict[str, Any]:
    if isinstance(t, ir.Bool):
        return {"type": "boolean"}
    if isinstance(t, ir.Int):
        return {"type": "integer", "minimum": t.lo, "maximum": t.hi}
    if isinstance(t, ir.Float):
        lo, hi = t.lo, t.hi
        if t.width == 32:
            lo = -FLOAT32_MAX if lo is None else lo
            hi = FLOAT32_MAX if hi is None else hi
        _check_type(t)
        out: dict[str, Any] = {"type": "number"}
        if lo is not None:
            out["minimum"] = lo
        if hi is not None:
            out["maximum"] = hi
        return out
    if isinstance(t, ir.Str):
        out = {"type": "string"}
        if t.lo:
            out["minLength"] = t.lo
        if t.hi is not None:
            out["maxLength"] = t.hi
        return out
    if isinstance(t, ir.Bytes):
        return {"type": "string", "contentEncoding": "base64", "pattern": base64_pattern(t.lo, t.hi)}
    if isinstance(t, ir.Hash):
        return {"type": "string", "pattern": _HEX64}
    if isinstance(t, ir.Time):
        return {"type": "string", "format": "date-time", "pattern": _TIME}
    if isinstance(t, ir.Ref):
        escape_name(t.target, ())
        return {"type": "string", "pattern": _REF, "$comment": f"content id of a {t.target}"}
    if isinstance(t, ir.Named):
        escape_name(t.name, ())
        return {"$ref": f"#/$defs/{t.name}"}
    if isinstance(t, ir.Optional):
        return {"anyOf": [_js_type(t.inner), {"type": "null"}]}
    if isinstance(t, ir.Array):
        out = {"type": "array", "items": _js_type(t.item)}
        if t.lo:
            out["minItems"] = t.lo
        out["maxItems"] = t.hi
        return out
    out = {"type": "object", "propertyNames": _js_key(t.key), "additionalProperties": _js_type(t.value)}
    if t.lo:
        out["minProperties"] = t.lo
    out["maxProperties"] = t.hi
    return out


def _js_key(t: ir.Type) -> dict[str, Any]:
    """Map keys are object keys: strings with the bounds of ``str``, integers as decimal text, enum members."""
    if isinstance(t, ir.Int):
        return {"pattern": int_range_pattern(t.lo, t.hi)}
    return _js_type(t)


def base64_pattern(lo: int, hi: int | None) -> str:
    """A regular expression for canonical padded base64 of ``lo``..``hi`` bytes (``hi`` None: no upper bound).

    ``3q + r`` bytes are ``q`` groups of four characters, then for ``r = 1`` two characters (the second with its
    low four bits zero) and ``==``, for ``r = 2`` three (the third with its low two bits zero) and ``=``.
    """
    alternatives = []
    for r, tail in ((0, ""), (1, f"{_B64}[AQgw]=="), (2, f"{_B64}{{2}}[AEIMQUYcgkosw048]=")):
        qlo = max(0, -(-(lo - r) // 3))
        qhi = None if hi is None else (hi - r) // 3
        if qhi is not None and qhi < qlo:
            continue
        alternatives.append(f"(?:{_B64}{{4}}){_repeat(qlo, qhi)}{tail}")
    return "^(?:" + "|".join(alternatives) + ")$"


def _repeat(lo: int, hi: int | None) -> str:
    if hi is None:
        return "*" if lo == 0 else f"{{{lo},}}"
    return f"{{{lo}}}" if lo == hi else f"{{{lo},{hi}}}"


def int_range_pattern(lo: int, hi: int) -> str:
    """A regular expression for the decimal text (no ``+``, no leading zeros, no ``-0``) of ``lo``..``hi``.

    >>> int_range_pattern(-5, 12)
    '^(?:-[1-5]|[0-9]|1[0-2])$'
    """
    parts: list[str] = []
    if lo < 0:
        parts.extend("-" + p for p in _natural_range(max(1, -hi), -lo))
    if hi >= 0:
        parts.extend(_natural_range(max(0, lo), hi))
    return "^(?:" + "|".join(parts) + ")$"


def _natural_range(lo: int, hi: int) -> Iterator[str]:
    """Patterns that together match ``lo``..``hi`` (both >= 0), split by digit count, then into blocks
    ``prefix [a-b] [0-9]{k}`` (the classic range-to-regex construction). A run of digit counts that are wholly
    inside the range becomes one ``[1-9][0-9]{m,n}``."""
    if lo > hi:
        return
    if lo == 0:
        yield "[0-9]" if hi >= 9 else f"[0-{hi}]" if hi else "0"
        lo = 10 if hi >= 9 else hi + 1
    whole: list[int] = []  # digit counts wholly inside the range, not yet written
    while lo <= hi:
        digits = len(str(lo))
        top = min(hi, 10**digits - 1)
        if lo == 10 ** (digits - 1) and top == 10**digits - 1:
            whole.append(digits)
            lo = top + 1
            continue
        if whole:
            yield _whole_lengths(whole[0], whole[-1])
            whole = []
        while lo <= top:
            k = 0
            while lo % 10 ** (k + 1) == 0 and lo + 10 ** (k + 1) - 1 <= top:
                k += 1
            step = 10**k
            head = lo // step
            n = min((top - lo + 1) // step, 10 - head % 10)
            first, last = head % 10, head % 10 + n - 1
            digit = str(first) if n == 1 else f"[{first}-{last}]"
            yield str(head // 10 or "") + digit + _digits(k, k)
            lo += n * step
    if whole:
        yield _whole_lengths(whole[0], whole[-1])


def _whole_lengths(shortest: int, longest: int) -> str:
    """Every number of ``shortest``..``longest`` digits."""
    return "[1-9]" + _digits(shortest - 1, longest - 1)


def _digits(lo: int, hi: int) -> str:
    """``lo``..``hi`` decimal digits."""
    if hi == 0:
        return ""
    if lo == hi:
        return "[0-9]" if lo == 1 else f"[0-9]{{{lo}}}"
    return f"[0-9]{{{lo},{hi}}}"


# -- typescript ----------------------------------------------------------------------------------------------


@attrs.frozen
class _TsDecl:
    kind: str  # "interface" | "type"
    name: Code
    doc: Code | None
    fields: tuple[tuple[Code, bool, Code, Code | None, Code | None], ...] = ()  # name, optional, type, doc, note
    body: Code = Code("")


def _typescript_view(schema_ir: ir.Schema, ids: Mapping[str, str]) -> dict[str, object]:
    taken: set[str] = set()
    types = {d.name: escape_name(d.name, TS_RESERVED_TYPE, taken) for d in schema_ir.decls}

    def doc(text: str, indent: int = 0) -> Code | None:
        return ts_doc(text, indent) if text else None

    def fields(fs: tuple[ir.Field, ...]) -> tuple[tuple[Code, bool, Code, Code | None, Code | None], ...]:
        out = []
        for f in fs:
            text = _ts_type(f.type, types)
            out.append((_ts_property(f.name), f.optional, Code(text), doc(f.doc, 2), fsf_note(f.type, text)))
        return tuple(out)

    decls: list[_TsDecl] = []
    for d in schema_ir.decls:
        name = Code(types[d.name])
        if isinstance(d, ir.Shape):
            decls.append(_TsDecl("interface", name, doc(d.doc), fields(d.fields)))
        elif isinstance(d, ir.Enum):
            for m in d.members:
                escape_name(m.name, ())
            body = " " + " | ".join(json_text(m.name) for m in d.members)
            decls.append(_TsDecl("type", name, doc(d.doc), body=Code(body)))
        else:
            variants = []
            for v in d.variants:
                vname = escape_name(f"{d.name}_{v.name}", TS_RESERVED_TYPE, taken)
                variants.append((v, vname))
            alternatives = "".join(f"\n  | {{ {_ts_property(v.name)}: {vname} }}" for v, vname in variants)
            decls.append(_TsDecl("type", name, doc(d.doc), body=Code(alternatives)))
            decls.extend(_TsDecl("interface", Code(vname), doc(v.doc), fields(v.fields)) for v, vname in variants)
    return {"header": _header("//", "typescript", schema_ir, ids), "decls": tuple(decls)}


def _ts_property(name: str) -> Code:
    """A property name, as is: reserved words are fine there, and the JSON form uses the FSF name."""
    return Code(escape_name(name, ()))


def _ts_type(t: ir.Type, types: dict[str, str]) -> str:
    if isinstance(t, ir.Bool):
        return "boolean"
    if isinstance(t, ir.Int | ir.Float):
        return "number"
    if isinstance(t, ir.Str | ir.Bytes | ir.Hash | ir.Time):
        return "string"
    if isinstance(t, ir.Ref):
        return "`blake3:${string}`"
    if isinstance(t, ir.Named):
        return types[t.name]
    if isinstance(t, ir.Optional):
        return f"{_ts_type(t.inner, types)} | null"
    if isinstance(t, ir.Array):
        item = _ts_type(t.item, types)
        return f"({item})[]" if " " in item else f"{item}[]"
    value = _ts_type(t.value, types)
    if isinstance(t.key, ir.Named):
        return f"{{ [K in {types[t.key.name]}]?: {value} }}"
    return f"{{ [key: string]: {value} }}"
