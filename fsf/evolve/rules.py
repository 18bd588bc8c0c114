"""Rules: the one table of the ways a value of a writer's type can fail to read as a reader's type.

Read-time resolution (:mod:`fsf.evolve.plan`) names one of these in every :class:`fsf.errors.IncompatibleError`,
and ``fsf breaking`` reports the same ids; ``docs/evolution.md`` and ``docs/breaking.md`` list them.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Rule:
    """One way to break readers: a stable id, what it means and how to make the change safe."""

    id: str
    summary: str
    hint: str
    per_value: bool
    """True if only some values break (the rule is checked on each value); False if the schemas decide alone."""


RULES: tuple[Rule, ...] = (
    Rule("ROOT_TYPE_MISSING", "the reader has no type of the value's root type name (nor a `@was` of it)",
         "keep the type, or name its old name with `@was(\"Old\")` on the declaration", per_value=False),
    Rule("TYPE_CHANGED", "a field, item or root holds another kind of type than before (or a type of another "
                         "name without `@was`)",
         "keep the old type, add a new field instead, or name a renamed type's old name with `@was`",
         per_value=False),
    Rule("FIELD_ADDED_REQUIRED", "the reader has a required field without `@default` that the writer lacks",
         "make the field optional (`?`) or give it a `@default(...)`", per_value=False),
    Rule("FIELD_OPTIONAL_TO_REQUIRED", "a field optional in the writer is required in the reader, and this value "
                                       "lacks it",
         "keep it optional, or give it a `@default(...)`", per_value=True),
    Rule("ENUM_MEMBER_REMOVED_NO_FALLBACK", "the value holds an enum member the reader lacks, and the reader's "
                                            "enum has no `@fallback`",
         "keep the member, name it with `@was` on its new name, or mark one member `@fallback`", per_value=True),
    Rule("VARIANT_REMOVED_NO_FALLBACK", "the value holds a union variant the reader lacks, and the reader's union "
                                        "has no `@fallback` unit variant",
         "keep the variant, name it with `@was` on its new name, or mark a unit variant `@fallback`",
         per_value=True),
    Rule("RANGE_NARROWED", "a number of the value is outside the reader's narrower range",
         "keep the range at least as wide as before", per_value=True),
    Rule("LENGTH_NARROWED", "a string or byte string of the value is longer or shorter than the reader allows",
         "keep the length bounds at least as wide as before", per_value=True),
    Rule("COUNT_NARROWED", "an array or map of the value has more or fewer items than the reader allows",
         "keep the count bounds at least as wide as before", per_value=True),
    Rule("PRECISION_LOST", "a number of the value has no exact spelling in the reader's type (an `f64` that is "
                           "not an `f32`, an integer beyond 2^53 as a float)",
         "keep the wider type", per_value=True),
)

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}
