"""Merge: an IR schema + three decoded values of one type (base, ours, theirs) -> the merged value, or its conflicts.

A three-way merge of the Python form (``docs/fsv.md``, "Python form"), field by field, pure (no files, no
codec): what only one side changed is taken from that side, what both changed the same way is taken once, and
what both changed differently is merged inside when it is a shape, a union of one variant, an optional that both
hold, a map or an array of items with an ``id`` field, else it is a :class:`Conflict` at its value path. The
rules, the path syntax and the report are in ``docs/git.md`` ("Merging").

>>> got = merge(schema.ir, "ForgePlan", base, ours, theirs)        # doctest: +SKIP
>>> got.value if isinstance(got, Merged) else report(schema.ir, got)  # doctest: +SKIP

- **Arrays of shapes with an ``id`` field** (a scalar or enum, not optional, unique on every side), such as a
  ForgePlan's tasks and batches, are matched by id: ours' items in ours' order, then theirs' new items in theirs'
  order; an item removed on one side and unchanged on the other is removed; an item both sides changed is merged
  inside. Paths name items by id: ``$.tasks[id=T3].status``.
- **Other arrays** are one value: changed on one side -> that side; on both, differently -> a conflict at the
  array (``$.tasks[id=T3].dependsOn``); no item of one is ever named by its position.
- **Maps** by key, like arrays with ids; the result in canonical key order.
- **Append-only** (``append_only=True``): values may only be added (an item with a new id or key, an optional
  that was absent, items at the end of an array without ids, kept from both sides, ours first); any change or
  removal of a value that the base holds, on either side or both, is a conflict of kind ``append-only``.
- The merged value is validated as the type (the reference validator); an array or map whose merge left it
  outside its count bounds is a conflict of kind ``invalid`` at its path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final, cast

import attrs

from fsf import ir
from fsf.bytecode.vm import check_array, check_map, run
from fsf.errors import ValidationError
from fsf.ir.kinds import LEAVES, Kind, decl_kind, is_named_kind
from fsf.limits import MAX_DEPTH

if TYPE_CHECKING:
    from fsf.bytecode.opcodes import Program

__all__ = ["ABSENT", "Conflict", "Conflicts", "Merged", "merge", "report"]

KINDS: Final = ("conflict", "append-only", "invalid")
"""The kinds of :class:`Conflict`: both sides changed a value differently; an append-only merge met a change or
removal of an existing value; the merge made the value invalid (an array or map outside its count bounds)."""


class _Absent:
    """The marker of a value a side does not hold (an array item or a map entry it lacks, or no base); one
    object, compared by identity (copies and pickles of it are :data:`ABSENT` itself)."""

    def __repr__(self) -> str:
        return "ABSENT"

    def __reduce__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
"""What :class:`Conflict` holds for a side that does not have the value (an item or entry it lacks, or the base
of a file both sides added). An absent optional is ``None``, as in the Python form."""


@attrs.frozen
class Conflict:
    """A value the merge could not decide: its value ``path``, the ``base``, ``ours`` and ``theirs`` values there
    (:data:`ABSENT` where a side lacks it), the ``kind`` (one of :data:`KINDS`), why (``message``) and the IR type
    of the value (None for an ``invalid`` found only by the final validation)."""

    path: str
    base: Any
    ours: Any
    theirs: Any
    kind: str = "conflict"
    message: str = ""
    type: ir.Type | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Merged:
    """A clean merge: the merged value, valid as the type, in the Python form."""

    value: Any


@attrs.frozen
class Conflicts:
    """A merge that needs a person: every conflict found, in value order."""

    conflicts: tuple[Conflict, ...]

    def __iter__(self) -> Iterator[Conflict]:
        return iter(self.conflicts)

    def __len__(self) -> int:
        return len(self.conflicts)


def merge(schema: ir.Schema, name: str, base: Any, ours: Any, theirs: Any, *, append_only: bool = False,
          program: Program | None = None) -> Merged | Conflicts:
    """Merge three valid values of the named type ``name`` of ``schema``: ``base`` (their common ancestor, or
    None when there is none: both sides added the value), ``ours`` and ``theirs``.

    Returns :class:`Merged` with a value valid as ``name``, or :class:`Conflicts` listing every conflict. The
    value is validated with ``program`` (the schema's compiled program; compiled from ``schema`` if not given).

    >>> merge(s.ir, "T", {"a": 1, "b": 1}, {"a": 2, "b": 1}, {"a": 1, "b": 3})   # doctest: +SKIP
    Merged(value={'a': 2, 'b': 3})
    """
    merger = _Merger(schema, append_only)
    value = merger.node(ir.Named(name), ABSENT if base is None else base, ours, theirs, _ROOT)
    if merger.conflicts:
        return Conflicts(tuple(merger.conflicts))
    if program is None:
        from fsf.bytecode.compile import compile_schema

        program = compile_schema(schema)
    try:
        run(program, name, value, MAX_DEPTH)
    except ValidationError as err:  # every rule the merge could break is checked where it merges; a safety net
        return Conflicts((Conflict(err.path, ABSENT, ABSENT, ABSENT, "invalid", err.message),))
    return Merged(value)


# -- value paths, formatted only for a conflict ------------------------------------------------------------------

_At = tuple[Any, Any, Any]
"""Where a value is: (the parent's _At, or None at the root; this step: a field's text, or a function that
spells a key or an id; the key or id, or None). Spelt out only for a conflict."""
_ROOT: _At = (None, "$", None)
_BARE_ID = re.compile(r"[A-Za-z0-9_.:+-]+")


def _path(at: _At) -> str:
    steps = []
    node: _At | None = at
    while node is not None:
        parent, step, key = node
        steps.append(step if type(step) is str else step(key))
        node = parent
    return "".join(reversed(steps))


def _text(value: Any) -> str:
    """A key or id in a path: text JSON-quoted (what a terminal would not print as ``\\uXXXX``), numbers as they
    are, bytes as hex."""
    if type(value) is str:
        quoted = json.dumps(value, ensure_ascii=False)
        return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in quoted)
    if type(value) is bytes:
        return value.hex()
    return json.dumps(value)


def _key_step(key: Any) -> str:
    return f"[{_text(key)}]"


def _id_step(value: Any) -> str:
    """``[id=T3]``; an id that is not plain letters, digits and ``_.:+-`` is quoted: ``[id="a b"]``."""
    bare = type(value) is str and _BARE_ID.fullmatch(value) is not None
    return f"[id={value if bare else _text(value)}]"


# -- the merge -------------------------------------------------------------------------------------------------


def _has_id(schema: ir.Schema, item: ir.Type) -> bool:
    """Items of this type are matched by their ``id`` field: a shape with a required scalar or enum ``id``."""
    if decl_kind(schema, item) is not Kind.SHAPE:
        return False
    decl = cast(ir.Shape, schema[cast(ir.Named, item).name])
    field = next((f for f in decl.fields if f.name == "id"), None)
    if field is None:
        return False
    return decl_kind(schema, field.type) in LEAVES or is_named_kind(schema, field.type, Kind.ENUM)


def _by_id(items: Any) -> dict[Any, Any] | None:
    """The items of a side by id (an absent side has none), or None when two items share an id."""
    if items is ABSENT:
        return {}
    found = {item["id"]: item for item in items}
    return found if len(found) == len(items) else None


def _sub(value: Any, key: Any) -> Any:
    return ABSENT if value is ABSENT else value[key]


def _tag(value: Any) -> Any:
    return ABSENT if value is ABSENT else next(iter(value))


@attrs.define
class _Merger:
    schema: ir.Schema
    append_only: bool
    conflicts: list[Conflict] = attrs.Factory(list)

    def node(self, t: ir.Type, b: Any, o: Any, th: Any, at: _At) -> Any:
        """The merged value at ``at`` (:data:`ABSENT`: not in the result); a conflict is recorded and ours kept,
        so that the merge goes on and finds every conflict."""
        if self.append_only:
            return self._append(t, b, o, th, at)
        if o == th:
            return o
        if b == o:
            return th
        if b == th:
            return o
        return self._both(t, b, o, th, at)

    def _conflict(self, t: ir.Type | None, b: Any, o: Any, th: Any, at: _At, kind: str, message: str) -> Any:
        self.conflicts.append(Conflict(_path(at), b, o, th, kind, message, t))
        return o

    def _both(self, t: ir.Type, b: Any, o: Any, th: Any, at: _At) -> Any:
        """Both sides changed the value, differently: merge inside where the kind allows it."""
        if o is ABSENT or th is ABSENT:
            why = "removed on our side, changed on theirs" if o is ABSENT else "changed on our side, removed on theirs"
            return self._conflict(t, b, o, th, at, "conflict", why)
        kind = decl_kind(self.schema, t)
        if kind is Kind.SHAPE:
            return self._fields(cast(ir.Shape, self.schema[cast(ir.Named, t).name]).fields, b, o, th, at)
        if kind is Kind.UNION and _tag(o) == _tag(th) and (b is ABSENT or _tag(b) == _tag(o)):
            return self._variant(cast(ir.Named, t), b, o, th, at)
        if kind is Kind.OPTIONAL and o is not None and th is not None:
            return self.node(cast(ir.Optional, t).inner, ABSENT if b is None else b, o, th, at)
        if kind is Kind.MAP:
            return self._map(cast(ir.Map, t), b, o, th, at)
        if kind is Kind.ARRAY and _has_id(self.schema, cast(ir.Array, t).item):
            merged = self._keyed(cast(ir.Array, t), b, o, th, at)
            if merged is not None:
                return merged
        why = "added differently on both sides" if b is ABSENT else "changed differently on both sides"
        return self._conflict(t, b, o, th, at, "conflict", why)

    def _fields(self, fields: Iterable[ir.Field], b: Any, o: Any, th: Any, at: _At) -> dict[str, Any]:
        return {f.name: self.node(f.type, _sub(b, f.name), o[f.name], th[f.name], (at, "." + f.name, None))
                for f in fields}

    def _variant(self, t: ir.Named, b: Any, o: Any, th: Any, at: _At) -> dict[str, Any]:
        tag = _tag(o)
        decl = cast(ir.Union_, self.schema[t.name])
        variant = next(v for v in decl.variants if v.name == tag)
        return {tag: self._fields(variant.fields, _sub(b, tag), o[tag], th[tag], (at, "." + tag, None))}

    def _entries(self, item: ir.Type, b: dict[Any, Any], o: dict[Any, Any], th: dict[Any, Any], at: _At,
                 step: Callable[[Any], str]) -> dict[Any, Any]:
        """Entries matched by key: ours' keys in ours' order, then theirs' new keys in theirs' order; keys only
        the base has are visited too (an append-only merge refuses their removal)."""
        keys = [*o, *(k for k in th if k not in o), *(k for k in b if k not in o and k not in th)]
        out = {}
        for key in keys:
            got = self.node(item, b.get(key, ABSENT), o.get(key, ABSENT), th.get(key, ABSENT), (at, step, key))
            if got is not ABSENT:
                out[key] = got
        return out

    def _keyed(self, t: ir.Array, b: Any, o: Any, th: Any, at: _At) -> Any:
        """An array of items with ids merged by id (None when ids repeat on a side: merged as one value)."""
        sides = _by_id(b), _by_id(o), _by_id(th)
        if sides[0] is None or sides[1] is None or sides[2] is None:
            return None
        before = len(self.conflicts)
        merged = list(self._entries(t.item, sides[0], sides[1], sides[2], at, _id_step).values())
        return self._counted(t, merged, b, o, th, at, before)

    def _map(self, t: ir.Map, b: Any, o: Any, th: Any, at: _At) -> Any:
        before = len(self.conflicts)
        merged = self._entries(t.value, {} if b is ABSENT else b, o, th, at, _key_step)
        if is_named_kind(self.schema, t.key, Kind.ENUM):
            index = {m.name: i for i, m in enumerate(cast(ir.Enum, self.schema[cast(ir.Named, t.key).name]).members)}
            order = sorted(merged, key=index.__getitem__)
        else:
            order = sorted(merged)
        return self._counted(t, {k: merged[k] for k in order}, b, o, th, at, before)

    def _counted(self, t: ir.Array | ir.Map, merged: Any, b: Any, o: Any, th: Any, at: _At,
                 before: int | None = None) -> Any:
        """``merged``, or a conflict of kind ``invalid`` when the merge left it outside the type's count bounds
        (the validator's own message). Not when one of its items conflicted (conflicts since ``before``): its
        count is then not known."""
        if before is not None and len(self.conflicts) > before:
            return merged
        check = check_array if type(t) is ir.Array else check_map
        problem = check(merged, t.lo, t.hi, 1, MAX_DEPTH)  # depth is not the merge's to change: count only
        if problem is not None:
            return self._conflict(t, b, o, th, at, "invalid", f"the merged value is invalid: {problem}")
        return merged

    # -- append-only ------------------------------------------------------------------------------------------

    def _append(self, t: ir.Type, b: Any, o: Any, th: Any, at: _At) -> Any:
        """Values may only be added: every value of the base must be on both sides as it was."""
        if b is ABSENT:  # new on a side: merged as usual (below it everything is new too)
            if o == th or th is ABSENT:
                return o
            if o is ABSENT:
                return th
            return self._both(t, b, o, th, at)
        if o == b and th == b:
            return b
        if o is ABSENT or th is ABSENT:
            return self._refused(t, b, o, th, at, "removed")
        kind = decl_kind(self.schema, t)
        if kind is Kind.SHAPE:
            return self._fields(cast(ir.Shape, self.schema[cast(ir.Named, t).name]).fields, b, o, th, at)
        if kind is Kind.UNION and _tag(b) == _tag(o) == _tag(th):
            return self._variant(cast(ir.Named, t), b, o, th, at)
        if kind is Kind.OPTIONAL:
            if b is None:  # absent in the base: setting it adds a value
                got = self._append(cast(ir.Optional, t).inner, ABSENT, ABSENT if o is None else o,
                                   ABSENT if th is None else th, at)
                return None if got is ABSENT else got
            if o is not None and th is not None:
                return self._append(cast(ir.Optional, t).inner, b, o, th, at)
            return self._refused(t, b, o, th, at, "removed")
        if kind is Kind.MAP:
            return self._map(cast(ir.Map, t), b, o, th, at)
        if kind is Kind.ARRAY:
            array = cast(ir.Array, t)
            if _has_id(self.schema, array.item):
                merged = self._keyed(array, b, o, th, at)
                if merged is not None:
                    return merged
            return self._log(array, b, o, th, at)
        return self._refused(t, b, o, th, at, "changed")

    def _log(self, t: ir.Array, b: list[Any], o: list[Any], th: list[Any], at: _At) -> Any:
        """An array without ids in an append-only merge: each side may only add items at its end; both sides'
        new items are kept, ours first (once, if both added the same)."""
        grown = [side[: len(b)] == b for side in (o, th)]
        if not all(grown):
            return self._refused(t, b, o, th, at, "changed", " (an append-only array may only grow at its end)",
                                 sides=(not grown[0], not grown[1]))
        merged = o if o == th else [*o, *th[len(b):]]
        return self._counted(t, merged, b, o, th, at)

    def _refused(self, t: ir.Type, b: Any, o: Any, th: Any, at: _At, what: str, detail: str = "", *,
                 sides: tuple[bool, bool] | None = None) -> Any:
        ours, theirs = sides if sides is not None else (o != b, th != b)
        where = "both sides" if ours and theirs else "our side" if ours else "their side"
        self._conflict(t, b, o, th, at, "append-only", f"an existing value was {what} on {where}{detail}")
        return b


# -- the report ---------------------------------------------------------------------------------------------------


def report(schema: ir.Schema, conflicts: Iterable[Conflict]) -> list[str]:
    """The lines of a readable report: each conflict's path, kind and reason, then the base, ours and theirs
    values there in ``fsv show``'s text form (``(absent)`` for a side that lacks it)::

        conflict at `$.tasks[id=T3].status`: changed differently on both sides
          base:
            "todo"
          ours:
            "done"
          theirs:
            "blocked"
    """
    from fsf.views.show import show_lines

    lines = []
    for c in conflicts:
        lines.append(f"{c.kind} at `{c.path}`: {c.message}")
        if c.base is ABSENT and c.ours is ABSENT and c.theirs is ABSENT:
            continue
        for label, value in (("base", c.base), ("ours", c.ours), ("theirs", c.theirs)):
            if value is ABSENT or c.type is None:
                lines.append(f"  {label}: (absent)")
            else:
                lines.append(f"  {label}:")
                lines.extend(show_lines(schema, c.type, value, 4))
    return lines
