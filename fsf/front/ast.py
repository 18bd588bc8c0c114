"""AST: the syntax of one .fsf file, as written, with spans (excluded from equality).

Built by :mod:`fsf.front.parse`; judged by :mod:`fsf.front.check`. Nothing here resolves a name or a bound.
"""

from __future__ import annotations

import attrs

from fsf.errors import Source, Span
from fsf.ir.annotations import Literal


def _span() -> Span | None:
    return attrs.field(default=None, eq=False, repr=False)  # type: ignore[no-any-return]


@attrs.frozen
class Name:
    text: str
    span: Span | None = _span()


@attrs.frozen
class Number:
    """A bound literal exactly as written (judged by the checker, so huge literals cost nothing here)."""

    text: str
    span: Span | None = _span()


@attrs.frozen
class Bounds:
    lo: Number
    hi: Number
    span: Span | None = _span()


@attrs.frozen
class NamedType:
    """A primitive (``str``, ``u8``...) or a declared type, with optional bounds."""

    name: Name
    bounds: Bounds | None
    span: Span | None = _span()


@attrs.frozen
class ArrayType:
    bounds: Bounds | None
    item: TypeExpr
    span: Span | None = _span()


@attrs.frozen
class MapType:
    bounds: Bounds | None
    key: TypeExpr
    value: TypeExpr
    span: Span | None = _span()


@attrs.frozen
class RefType:
    target: Name
    span: Span | None = _span()


@attrs.frozen
class OptionalType:
    inner: TypeExpr
    span: Span | None = _span()


TypeExpr = NamedType | ArrayType | MapType | RefType | OptionalType


@attrs.frozen
class Argument:
    """An annotation's argument as written: a string (``text`` is its value, escapes resolved), a number or a
    name (``text`` as written), ``[]`` or ``{}``."""

    kind: Literal
    text: str
    span: Span | None = _span()


@attrs.frozen
class Annotation:
    """``@name`` or ``@name(arguments)`` before an item; ``name.text`` is without the ``@`` and ``name.span``
    covers ``@name``. ``args`` is None when there are no parentheses. Judged by the checker, not here."""

    name: Name
    args: tuple[Argument, ...] | None
    span: Span | None = _span()


Annotations = tuple[Annotation, ...]


@attrs.frozen
class Field:
    name: Name
    type: TypeExpr
    doc: str = ""
    annotations: Annotations = ()


@attrs.frozen
class Member:
    name: Name
    doc: str = ""
    annotations: Annotations = ()


@attrs.frozen
class Variant:
    name: Name
    fields: tuple[Field, ...]
    doc: str = ""
    annotations: Annotations = ()


@attrs.frozen
class ShapeDecl:
    name: Name
    fields: tuple[Field, ...]
    doc: str = ""
    annotations: Annotations = ()


@attrs.frozen
class EnumDecl:
    name: Name
    members: tuple[Member, ...]
    doc: str = ""
    annotations: Annotations = ()


@attrs.frozen
class UnionDecl:
    name: Name
    variants: tuple[Variant, ...]
    doc: str = ""
    annotations: Annotations = ()


@attrs.frozen
class Import:
    path: str
    span: Span | None = _span()


Decl = ShapeDecl | EnumDecl | UnionDecl
Item = Field | Member | Variant | ShapeDecl | EnumDecl | UnionDecl
"""Anything that can carry annotations."""


@attrs.frozen
class Comment:
    """A ``//`` or ``///`` comment, kept so that ``fsf fmt`` loses none."""

    text: str
    offset: int
    line: int
    own_line: bool


@attrs.frozen
class Module:
    """One parsed file: its imports and declarations in source order."""

    source: Source = attrs.field(eq=False, repr=False)
    imports: tuple[Import, ...]
    decls: tuple[Decl, ...]
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False, repr=False)
