"""Evolution: read a value written with one type (W) as another type (R) by the rules of ``docs/evolution.md``.

:mod:`fsf.evolve.plan` matches W and R (fields, members and variants by name, then ``@was``) into steps,
:mod:`fsf.evolve.run` turns the steps into one function over the codec's Python form, and :mod:`fsf.evolve.rules`
names every way a value can fail to read. The bytes are always decoded strictly as W first (by W's own codec);
resolution never changes them, nor their content id.
"""

from __future__ import annotations

from fsf.errors import IncompatibleError
from fsf.evolve.plan import Side, build, certain_failure, match_root
from fsf.evolve.run import Convert, compile_plan
from fsf.fsv.format import HEADER_SIZE

__all__ = ["Convert", "Side", "match_root", "resolver"]


def resolver(w: Side, wname: str, r: Side, rname: str) -> Convert:
    """The function that reads valid W ``wname`` values (Python form) as R ``rname`` values; raises
    :class:`fsf.errors.IncompatibleError` at once when no W value can be read (its rule at path ``$``)."""
    plan = build(w, wname, r, rname)
    writer, reader = w.label(wname), r.label(rname)
    certain = certain_failure(plan)
    if certain is not None:
        raise IncompatibleError(certain.rule, certain.message, path="$", writer=writer, reader=reader,
                                location=certain.location, site=certain.site.reader, offset=HEADER_SIZE)
    return compile_plan(plan, writer, reader)

