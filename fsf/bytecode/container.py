"""Container: IR schema + bytecode program <-> the bytes of a compiled ``.fsb`` file.

Layout (all integers big-endian)::

    offset 0       4 bytes   magic  b"FSFB"
    offset 4       2 bytes   format version (fsf.bytecode.opcodes.FORMAT_VERSION)
    offset 6       4 bytes   body length n
    offset 10      n bytes   body: msgpack [schema, program]
    offset 10 + n  32 bytes  BLAKE3 of the body

The schema part is a canonical encoding of the IR, doc comments and evolution annotations included (views and code
generators work from a ``.fsb``; the store rebuilds schemas from it); the program part is the bytecode. An item
with annotations has one more entry than one without, its annotation list, so the bytes of a schema without
annotations are those of a container written before annotations existed. Loading imports neither lark nor the parser, checks every
byte (checksum, structure, names) and recompiles the IR to verify the bytecode, so a corrupt or hostile file
gives a :class:`ContainerError` and nothing else. ``docs/bytecode.md`` specifies the format.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import blake3
import msgpack

from fsf import ir
from fsf.bytecode.compile import compile_schema
from fsf.bytecode.opcodes import BY_NUMBER, FORMAT_VERSION, Instr, Kind, Operand, Program
from fsf.errors import Diagnostic, SchemaError
from fsf.ir.kinds import Kind as IrKind
from fsf.ir.kinds import kind_of
from fsf.limits import MAX_TYPE_DEPTH as MAX_TYPE_DEPTH  # re-exported: the parser's limit, checked on load too

if TYPE_CHECKING:  # imported where an item has annotations: a schema without any never loads the table
    import fsf.ir.annotations as ann  # not `from fsf.ir import annotations`: that can be the `__future__` feature

MAGIC = b"FSFB"
COMPILED_SUFFIX = ".fsb"
_HEADER = struct.Struct(">4sHI")
_DIGEST_SIZE = 32
_MAX_LEN = (1 << 32) - 1
_SIMPLE: dict[str, ir.Type] = {"bool": ir.Bool(), "hash": ir.Hash(), "time": ir.Time()}


class ContainerError(SchemaError):
    """A ``.fsb`` file that is not a valid compiled schema: wrong magic or version, truncated, corrupt."""

    def __init__(self, name: str, code: str, message: str) -> None:
        self.code = code
        super().__init__([Diagnostic(code, f"`{name}`: {message}", None)])


class _Bad(Exception):
    """A structural problem inside the body (turned into a ContainerError with the file name)."""


# -- dump -----------------------------------------------------------------------------------------------------


def dump_container(schema: ir.Schema, program: Program) -> bytes:
    """The ``.fsb`` bytes of ``schema`` and its compiled ``program`` (deterministic: same input, same bytes)."""
    body: bytes = msgpack.packb([_schema(schema), _program(program)], use_bin_type=True)
    return _HEADER.pack(MAGIC, FORMAT_VERSION, len(body)) + body + blake3.blake3(body).digest()


def _type(t: ir.Type) -> list[Any]:
    return ir.type_list(t, str)


def _fields(fields: tuple[ir.Field, ...]) -> list[Any]:
    return [[f.name, f.doc, _type(f.type), *_marks(f)] for f in fields]


def _marks(item: ann.Item) -> list[Any]:
    """``[annotations]`` for an item that has any (``[["was", "a"], ["fallback"], ...]``, in the table's order),
    else nothing: an item without annotations is stored exactly as before they existed."""
    import fsf.ir.annotations as ann

    found = ann.annotations_of(item)
    return [[[a.name, *args] for a, args in found]] if found else []


def _schema(schema: ir.Schema) -> list[Any]:
    out: list[Any] = []
    for d in schema.decls:
        out.append(_DECLS[kind_of(d)](d))
    return out


# The stored list of each kind of declaration; a handler is reached only for its kind (hence Any).
_DECLS: dict[IrKind, Callable[[Any], list[Any]]] = {
    IrKind.SHAPE: lambda d: ["shape", d.name, d.doc, _fields(d.fields), *_marks(d)],
    IrKind.ENUM: lambda d: ["enum", d.name, d.doc, [[m.name, m.doc, *_marks(m)] for m in d.members], *_marks(d)],
    IrKind.UNION: lambda d: ["union", d.name, d.doc, [[v.name, v.doc, _fields(v.fields), *_marks(v)]
                                                      for v in d.variants], *_marks(d)],
}


def _program(program: Program) -> list[Any]:
    code = [[int(ins.op), *(list(a) if isinstance(a, tuple) else a for a in ins.args)] for ins in program.code]
    return [[list(e) for e in program.entries], code]


# -- load -----------------------------------------------------------------------------------------------------


def load_container(data: bytes, name: str) -> tuple[ir.Schema, Program]:
    """The IR and program stored in ``data`` (the bytes of file ``name``), or raise ContainerError."""
    if len(data) < _HEADER.size:
        if not MAGIC.startswith(data[:4]):
            raise ContainerError(name, "F501", "not a compiled FSF schema (wrong magic)")
        raise ContainerError(name, "F503", f"truncated: {len(data)} bytes, the header alone has {_HEADER.size}")
    magic, version, size = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ContainerError(name, "F501", "not a compiled FSF schema (wrong magic)")
    if version != FORMAT_VERSION:
        raise ContainerError(name, "F502", f"format version {version} is not supported (this fsf reads "
                                           f"version {FORMAT_VERSION}); recompile the schema")
    end = _HEADER.size + size
    if len(data) < end + _DIGEST_SIZE:
        raise ContainerError(name, "F503", f"truncated: {len(data)} bytes, expected {end + _DIGEST_SIZE}")
    if len(data) > end + _DIGEST_SIZE:
        raise ContainerError(name, "F504", f"{len(data) - end - _DIGEST_SIZE} trailing bytes after the checksum")
    body = data[_HEADER.size:end]
    if blake3.blake3(body).digest() != data[end:]:
        raise ContainerError(name, "F504", "corrupt: the checksum does not match the contents")
    try:
        top = msgpack.unpackb(body, raw=False, use_list=True, strict_map_key=True)
    except Exception as err:  # msgpack raises several unrelated types for malformed input
        raise ContainerError(name, "F504", f"corrupt: the body is not msgpack ({type(err).__name__})") from None
    try:
        schema_part, program_part = _items(top, 2, "body")
        schema = _read_schema(schema_part)
        program = _read_program(program_part, schema)
    except _Bad as err:
        raise ContainerError(name, "F504", f"corrupt: {err}") from None
    if program != compile_schema(schema):
        raise ContainerError(name, "F505", "the bytecode does not match the schema it was compiled from")
    return schema, program


def _items(x: Any, n: int, what: str) -> list[Any]:
    if type(x) is not list or len(x) != n:
        raise _Bad(f"{what} is not a list of {n} items")
    return x


def _marked(x: Any, n: int, what: str) -> tuple[list[Any], Any]:
    """The ``n`` items of an item's list and its annotation list (None when it has none: ``n`` items)."""
    if type(x) is not list or len(x) not in (n, n + 1):
        raise _Bad(f"{what} is not a list of {n} items")
    return x[:n], (x[n] if len(x) > n else None)


_I = TypeVar("_I", bound="ann.Item")


def _annotate(item: _I, x: Any) -> _I:
    """``item`` with the annotations of the stored list ``x`` (None: none), judged by the table of annotations."""
    if x is None:
        return item
    import fsf.ir.annotations as ann

    if type(x) is not list or not x:
        raise _Bad("an annotation list is empty or not a list")
    values: dict[str, Any] = {}
    last = -1
    for entry in x:
        if type(entry) is not list or not entry or not all(type(a) is str for a in entry):
            raise _Bad("an annotation is not a list of strings")
        name, *args = entry
        spec = ann.BY_NAME.get(name)
        if spec is None:
            raise _Bad(f"unknown annotation `{name}`")
        if ann.ORDER[name] <= last:
            raise _Bad("annotations are not in the canonical order, or one repeats")
        last = ann.ORDER[name]
        if ann.place_of(item) not in spec.places:
            raise _Bad(f"`{spec.spelled}` is not allowed on {ann.place_of(item).value}")
        count = {ann.Args.NAMES: len(args) >= 1, ann.Args.LITERAL: len(args) == 1, ann.Args.NONE: not args,
                 ann.Args.TEXT: len(args) == 1}[spec.args]
        if not count:
            raise _Bad(f"`{spec.spelled}` takes {spec.args.value}")
        if spec.args is ann.Args.LITERAL and ann.read_literal(args[0]) is None:
            raise _Bad(f"`{spec.spelled}` literal `{args[0]}` is not an FSF literal")
        values[spec.attribute] = ann.value_of(spec, tuple(args))
    return attrs.evolve(item, **values)


def _judge(schema: ir.Schema) -> None:
    """What the annotations say across items: every ``@default`` fits its field, one ``@fallback`` at most."""
    for d in schema.decls:
        items: tuple[ir.Member | ir.Variant, ...] = d.members if isinstance(d, ir.Enum) else (
            d.variants if isinstance(d, ir.Union_) else ())
        if sum(i.fallback for i in items) > 1:
            raise _Bad(f"`{d.name}` has more than one `@fallback`")
        fields = [(d.name, f) for f in d.fields] if isinstance(d, ir.Shape) else [
            (f"{d.name}.{v.name}", f) for v in d.variants for f in v.fields] if isinstance(d, ir.Union_) else []
        for owner, f in fields:
            if f.default is None:
                continue
            import fsf.ir.annotations as ann

            read = ann.read_literal(f.default.literal)
            assert read is not None  # _annotate checked it
            problem = ann.default_problem(f.type, *read, schema)
            if problem is not None:
                raise _Bad(f"`{owner}.{f.name}`: {problem.message}")


def _list(x: Any, what: str) -> list[Any]:
    if type(x) is not list:
        raise _Bad(f"{what} is not a list")
    return x


def _text(x: Any, what: str) -> str:
    if type(x) is not str:
        raise _Bad(f"{what} is not a string")
    return x


def _length(x: Any, what: str, optional: bool = False) -> int | None:
    if x is None and optional:
        return None
    if type(x) is not int or not 0 <= x <= _MAX_LEN:
        raise _Bad(f"{what} is not a length")
    return x


def _float(x: Any, what: str) -> float | None:
    if x is not None and (type(x) is not float or not math.isfinite(x)):
        raise _Bad(f"{what} is not a finite float")
    return x


def _read_type(x: Any, names: set[str], depth: int = 1) -> ir.Type:
    if depth > MAX_TYPE_DEPTH:
        raise _Bad(f"a type is nested more than {MAX_TYPE_DEPTH} levels deep")
    x = _list(x, "a type")
    tag = x[0] if x else None
    if tag in _SIMPLE and len(x) == 1:
        return _SIMPLE[tag]
    if tag in ("named", "ref"):
        target = _text(_items(x, 2, "a named type")[1], "a type name")
        if target not in names:
            raise _Bad(f"unknown type `{target}`")
        return ir.Named(target) if tag == "named" else ir.Ref(target)
    if tag == "opt":
        return ir.Optional(_read_type(_items(x, 2, "an optional")[1], names, depth + 1))
    if tag in ("arr", "map"):
        x = _items(x, 4 if tag == "arr" else 5, f"an `{tag}` type")
        lo, hi = _length(x[1], "a bound"), _length(x[2], "a bound")
        assert lo is not None and hi is not None
        if tag == "arr":
            return ir.Array(lo, hi, _read_type(x[3], names, depth + 1))
        return ir.Map(lo, hi, _read_type(x[3], names, depth + 1), _read_type(x[4], names, depth + 1))
    if tag == "int":
        _, kind, lo, hi = _items(x, 4, "an integer type")
        if kind not in ir.INT_RANGES or type(lo) is not int or type(hi) is not int:
            raise _Bad("malformed integer type")
        return ir.Int(kind, lo, hi)
    if tag == "float":
        _, width, lo, hi = _items(x, 4, "a float type")
        if width not in ir.FLOAT_WIDTHS.values() or type(width) is not int:
            raise _Bad("malformed float type")
        return ir.Float(width, _float(lo, "a bound"), _float(hi, "a bound"))
    if tag in ("str", "bytes"):
        _, lo, hi = _items(x, 3, f"a `{tag}` type")
        lo_, hi_ = _length(lo, "a bound"), _length(hi, "a bound", optional=True)
        assert lo_ is not None
        return ir.Str(lo_, hi_) if tag == "str" else ir.Bytes(lo_, hi_)
    raise _Bad("unknown type tag")


def _read_fields(x: Any, names: set[str]) -> tuple[ir.Field, ...]:
    out = []
    for f in _list(x, "fields"):
        (fname, doc, t), marks = _marked(f, 3, "a field")
        field = ir.Field(_text(fname, "a field name"), _read_type(t, names), _text(doc, "a doc comment"))
        out.append(_annotate(field, marks))
    return tuple(out)


def _read_schema(x: Any) -> ir.Schema:
    decls_raw = [_marked(d, 4, "a declaration") for d in _list(x, "the schema")]
    order = [_text(d[1], "a type name") for d, _ in decls_raw]
    if order != sorted(set(order)):
        raise _Bad("declarations are not sorted by name, or a name repeats")
    names = set(order)
    decls: list[ir.Decl] = []
    for (kind, dname, doc, body), marks in decls_raw:
        _text(doc, "a doc comment")
        decl: ir.Decl
        if kind == "shape":
            decl = ir.Shape(dname, _read_fields(body, names), doc)
        elif kind == "enum":
            members = []
            for m in _list(body, "enum members"):
                (mname, mdoc), mmarks = _marked(m, 2, "an enum member")
                members.append(_annotate(ir.Member(_text(mname, "a member"), _text(mdoc, "a doc comment")), mmarks))
            decl = ir.Enum(dname, tuple(members), doc)
        elif kind == "union":
            variants = []
            for v in _list(body, "variants"):
                (vname, vdoc, vfields), vmarks = _marked(v, 3, "a variant")
                variant = ir.Variant(_text(vname, "a variant name"), _read_fields(vfields, names),
                                     _text(vdoc, "a doc comment"))
                variants.append(_annotate(variant, vmarks))
            decl = ir.Union_(dname, tuple(variants), doc)
        else:
            raise _Bad("unknown declaration kind")
        decls.append(_annotate(decl, marks))
    schema = ir.Schema(tuple(decls))
    _judge(schema)
    return schema


def _operand(kind: Kind, x: Any, size: int) -> Operand:
    if kind is Kind.INT and type(x) is int:
        return x
    if kind is Kind.LEN or kind is Kind.MAXLEN:
        return _length(x, "an operand", optional=kind is Kind.MAXLEN)
    if kind is Kind.FLOAT:
        return _float(x, "an operand")
    if kind in (Kind.TEXT, Kind.TYPE) and type(x) is str:
        return x
    if kind is Kind.NAMES and type(x) is list and all(type(n) is str for n in x):
        return tuple(x)
    if kind is Kind.LABEL and type(x) is int and 0 <= x < size:
        return x
    raise _Bad(f"an operand is not a valid {kind.value}")


def _read_program(x: Any, schema: ir.Schema) -> Program:
    entries_raw, code_raw = _items(x, 2, "the program")
    code_raw = _list(code_raw, "the code")
    code = []
    for ins in code_raw:
        ins = _list(ins, "an instruction")
        op = BY_NUMBER.get(ins[0]) if ins and type(ins[0]) is int else None
        if op is None or len(ins) != 1 + len(op.operands):
            raise _Bad("an instruction has an unknown opcode or a wrong number of operands")
        code.append(Instr(op, tuple(_operand(k, a, len(code_raw)) for k, a in zip(op.operands, ins[1:], strict=True))))
    entries = []
    for e in _list(entries_raw, "the entries"):
        ename, pc = _items(e, 2, "an entry")
        if type(ename) is not str or type(pc) is not int:
            raise _Bad("malformed entry")
        entries.append((ename, pc))
    if [n for n, _ in entries] != list(schema.names):
        raise _Bad("the program's entries are not the schema's types")
    return Program(tuple(code), tuple(entries))
