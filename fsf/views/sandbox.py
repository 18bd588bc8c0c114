"""Views, the sandbox: template source + a per-render budget -> a Jinja environment that only emits escaped data.

Templates are code from users. They run in Jinja's immutable sandbox with strict undefined, a loader confined to
the template folders, caps on ``*``, ``**``, ``+`` and ``~``, a budget on loop steps, calls, nesting and output
size, and a whitelist of filters and methods. Only data reaches the output (:func:`_data`), and every
``{{ … }}`` is escaped for Markdown unless a filter marks it trusted (:func:`_finalize`).
"""

from __future__ import annotations

import functools
import os
import re
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import attrs
import jinja2
import jinja2.filters
import jinja2.nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from fsf.errors import ViewError
from fsf.fsv.jsonform import format_time
from fsf.views.escape import code_span, escape_inline, escape_paragraphs
from fsf.views.model import Blob, Instant, Record, Variant


@attrs.frozen
class Limits:
    """What one render may spend. The defaults leave a 512-task plan about a hundred times of headroom."""

    max_output: int = 8 * 1024 * 1024
    """Characters of output; also the cap on any string a template builds."""
    max_steps: int = 1_000_000
    """Loop iterations plus calls (macros, ``range``, methods)."""
    max_depth: int = 96
    """Calls nested inside calls (macro recursion)."""
    max_int_bits: int = 4096
    """Bits of any integer ``*`` or ``**`` produces."""
    max_items: int = 100_000
    """Items of any list or tuple ``*`` or ``+`` produces, and of any ``range``."""


_STR_METHODS = frozenset({
    "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha", "isascii", "isdecimal",
    "isdigit", "isidentifier", "islower", "isnumeric", "isspace", "istitle", "isupper", "lower", "lstrip",
    "partition", "removeprefix", "removesuffix", "rfind", "rindex", "rpartition", "rsplit", "rstrip", "split",
    "splitlines", "startswith", "strip", "swapcase", "title", "upper",
})
_NUMBER_ATTRS = frozenset({"real", "imag", "numerator", "denominator", "is_integer", "bit_length"})
_MAPPING_METHODS = frozenset({"items", "keys", "values", "get"})
_SEQUENCE_METHODS = frozenset({"index", "count"})

_KEPT_FILTERS = (
    "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "filesizeformat", "first", "float", "groupby",
    "int", "items", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "reverse",
    "round", "select", "selectattr", "sort", "string", "striptags", "sum", "title", "trim", "truncate", "unique",
    "upper", "urlencode", "wordcount",
)
"""Jinja's filters that cannot grow their output beyond their input; the others are replaced or left out."""
_LEFT_OUT_FILTERS = ("center", "format", "pprint", "random", "tojson", "urlize", "wordwrap", "xmlattr")
"""Left out: they pad without bound, are not deterministic, or emit HTML."""
_TEXT_FILTERS = frozenset({"capitalize", "lower", "string", "striptags", "title", "trim", "truncate", "upper",
                           "urlencode"})
"""The kept filters that turn their arguments into text: they take data only, as printing does (see `_data`)."""


class Budget:
    """The spendable resources of one render (created per render, never shared)."""

    __slots__ = ("depth", "limits", "steps")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = 0
        self.depth = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise ViewError(f"template limit: more than {self.limits.max_steps} loop steps and calls")


class _Generator(CodeGenerator):
    """Jinja's code generator, plus a budget check around every ``for`` iterable and every ``~`` result, and a
    data check around every ``~`` operand (it becomes text, as a printed value does)."""

    def _wrap(self, node: jinja2.nodes.Node, hook: str) -> None:
        hooks: dict[int, str] = self.__dict__.setdefault("_fsf_hooks", {})
        hooks[id(node)] = hook

    def visit_For(self, node: jinja2.nodes.For, frame: Frame) -> None:
        self._wrap(node.iter, "fsf_iterate")
        super().visit_For(node, frame)

    def visit(self, node: jinja2.nodes.Node, *args: Any, **kwargs: Any) -> Any:
        hook = self.__dict__.get("_fsf_hooks", {}).get(id(node))
        if hook is not None:
            self.write(f"environment.{hook}(")
            result = super().visit(node, *args, **kwargs)
            self.write(")")
            return result
        return super().visit(node, *args, **kwargs)

    def _output_child_to_const(self, node: jinja2.nodes.Expr, frame: Frame, finalize: Any) -> str:
        """Jinja folds constant output at compile time, HTML-escaped and stringified whatever it is; here only
        template text is folded, and every ``{{ … }}`` runs through :func:`_finalize` as the docs promise (so
        ``{{ '*' }}`` is Markdown-escaped and ``{{ ''.upper }}`` refused with its line). The environment turns
        Jinja's other constant folding off for the same reason."""
        if not isinstance(node, jinja2.nodes.TemplateData):
            raise jinja2.nodes.Impossible()
        result: str = super()._output_child_to_const(node, frame, finalize)
        return result

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: Frame) -> None:
        for operand in node.nodes:
            self._wrap(operand, "fsf_text")
        self.write("environment.fsf_sized(")
        super().visit_Concat(node, frame)
        self.write(")")


class Environment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with the view filters, whitelisted methods and the per-render budget."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, loader: jinja2.BaseLoader, budget: Budget) -> None:
        super().__init__(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, finalize=_finalize,
                         trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False,
                         cache_size=0, optimized=False)
        self.fsf_budget = budget
        self.globals.clear()
        self.globals.update(range=self._range, dict=dict, cycler=jinja2.utils.Cycler,
                            joiner=jinja2.utils.Joiner, namespace=jinja2.utils.Namespace)
        builtin = jinja2.filters.FILTERS
        self.filters = {name: _checked(builtin[name]) if name in _TEXT_FILTERS else builtin[name]
                        for name in _KEPT_FILTERS}
        self.filters.update(
            raw=_raw, safe=_raw, md=_md, e=_md, escape=_md, forceescape=_md, code=_code, paragraphs=_paragraphs,
            join=self._join, replace=self._replace, indent=self._indent, batch=self._batch, slice=self._slice,
            heading=_heading, time=_time_filter,
        )
        self.filters.update({name: _unavailable(name) for name in _LEFT_OUT_FILTERS})

    # -- budget hooks called from generated code

    def fsf_iterate(self, iterable: Any) -> Iterator[Any]:
        step = self.fsf_budget.step
        for item in iterable:
            step()
            yield item

    @staticmethod
    def fsf_text(value: Any) -> Any:
        return _data(value)

    def fsf_sized(self, text: Any) -> Any:
        if hasattr(text, "__len__") and len(text) > self.fsf_budget.limits.max_output:
            raise ViewError(f"template limit: a string above {self.fsf_budget.limits.max_output} characters")
        return text

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = __self.fsf_budget
        budget.step()
        budget.depth += 1
        try:
            if budget.depth > budget.limits.max_depth:
                raise ViewError(f"template limit: calls nested deeper than {budget.limits.max_depth} "
                                "(runaway recursion?)")
            return super().call(__context, __obj, *args, **kwargs)
        finally:
            budget.depth -= 1

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        limits = self.fsf_budget.limits
        if operator == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            if right * (abs(left).bit_length() - 1) > limits.max_int_bits:
                raise ViewError(f"template limit: `**` result above {limits.max_int_bits} bits")
        elif operator == "*" and _is_int(left) and _is_int(right):
            if left.bit_length() + right.bit_length() > limits.max_int_bits:
                raise ViewError(f"template limit: `*` result above {limits.max_int_bits} bits")
        elif operator == "*" and (_is_int(left) or _is_int(right)):
            seq, n = (right, left) if _is_int(left) else (left, right)
            if hasattr(seq, "__len__") and n > 0:
                cap = limits.max_output if isinstance(seq, str) else limits.max_items
                if len(seq) * n > cap:
                    raise ViewError(f"template limit: repetition longer than {cap}")
        elif operator == "%" and isinstance(left, str):
            raise ViewError("unsafe template: `%` formatting of strings is not available; use `~`")
        result = self.binop_table[operator](left, right)
        if operator == "+" and isinstance(result, (str, list, tuple)):
            cap = limits.max_output if isinstance(result, str) else limits.max_items
            if len(result) > cap:
                raise ViewError(f"template limit: `+` result longer than {cap}")
        return result

    # -- what templates may touch

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is Record and not attribute.startswith("_"):  # the hot path: fields are plain data
            fields = obj._fields
            return fields[attribute] if attribute in fields else self._no_field(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Record) and argument not in obj._fields:
            return self._no_field(obj, argument)
        return super().getitem(obj, argument)

    def _no_field(self, record: Record, name: Any) -> Any:
        fields = ", ".join(f"`{f}`" for f in record._fields) or "none"
        return self.undefined(f"`{record._type}` has no field `{name}`; its fields are {fields}", name=str(name))

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, (str, bytes)):
            return attr in _STR_METHODS
        if isinstance(obj, (int, float)):
            return attr in _NUMBER_ATTRS
        if isinstance(obj, dict):
            return attr in _MAPPING_METHODS
        if isinstance(obj, (list, tuple)):
            return attr in _SEQUENCE_METHODS
        return True

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if isinstance(value, (types.MethodType, types.BuiltinMethodType)) and isinstance(
                getattr(value, "__self__", None), str) and value.__name__ in ("format", "format_map"):
            return _no_format
        return None

    # -- replaced globals and filters

    def _range(self, *args: int) -> range:
        rng = range(*args)
        if len(rng) > self.fsf_budget.limits.max_items:
            raise ViewError(f"template limit: `range` of more than {self.fsf_budget.limits.max_items} items")
        return rng

    def _join(self, items: Iterable[Any], separator: str = "", attribute: str | int | None = None) -> Markup:
        if attribute is not None:
            items = map(jinja2.filters.make_attrgetter(self, attribute), items)
        sep = _md(separator)  # and each item through _finalize: both are checked as printed values
        parts: list[str] = []
        size, cap = 0, self.fsf_budget.limits.max_output
        for item in self.fsf_iterate(items):
            part = _finalize(item)
            size += len(part) + len(sep)
            if size > cap:
                raise ViewError(f"template limit: `join` result above {cap} characters")
            parts.append(part)
        return Markup(sep.join(parts))

    def _replace(self, text: Any, old: str, new: str, count: int | None = None) -> Any:
        s, old, new = str(_data(text)), str(_data(old)), str(_data(new))
        hits = s.count(old) if count is None or count < 0 else min(count, s.count(old))
        if len(s) + hits * (len(new) - len(old)) > self.fsf_budget.limits.max_output:
            raise ViewError(f"template limit: `replace` result above {self.fsf_budget.limits.max_output} characters")
        result = s.replace(old, new, -1 if count is None else count)
        return Markup(result) if isinstance(text, Markup) else result

    def _indent(self, text: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> Any:
        if (isinstance(width, int) and width > 64) or (isinstance(width, str) and len(width) > 64):
            raise ViewError("template limit: `indent` wider than 64")
        return jinja2.filters.do_indent(_data(text), _data(width), first, blank)

    def _batch(self, value: Iterable[Any], linecount: int, fill_with: Any = None) -> Iterator[list[Any]]:
        if linecount > self.fsf_budget.limits.max_items:
            raise ViewError(f"template limit: `batch` of more than {self.fsf_budget.limits.max_items}")
        return jinja2.filters.do_batch(value, linecount, fill_with)

    def _slice(self, value: Any, slices: int, fill_with: Any = None) -> Iterator[list[Any]]:
        if slices > self.fsf_budget.limits.max_items:
            raise ViewError(f"template limit: `slice` into more than {self.fsf_budget.limits.max_items}")
        return iter(jinja2.filters.do_slice(value, slices, fill_with))


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _unavailable(name: str) -> Callable[..., NoReturn]:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise SecurityError(f"the `{name}` filter is not available in views")

    return refuse


def _no_format(*args: Any, **kwargs: Any) -> NoReturn:
    raise SecurityError("`str.format` is not available in views; use `~` and filters")


_PRINTABLE = frozenset({str, Markup, int, float, bool, type(None), Record, Variant, Instant, Blob})
"""The types of the view model's values (see `view_value`) and of text: what may become output."""


def _data(value: Any) -> Any:
    """``value`` itself if it is data that may become output: text, a number, a boolean, none, a record, variant,
    instant or blob, or a list, tuple or dict of those. Anything else (a function, method, class, generator,
    ``range``, ``cycler``, ``loop``, …) would print its repr, with a memory address: a ViewError."""
    if type(value) in _PRINTABLE:
        return value
    pending = [value]
    while pending:  # a loop, not recursion: a template can nest lists deeper than the stack
        item = pending.pop()
        kind = type(item)
        if kind in _PRINTABLE:
            continue
        if kind is dict:
            pending.extend(item)
            pending.extend(item.values())
        elif kind is list or kind is tuple:
            pending.extend(item)
        elif isinstance(item, jinja2.Undefined):
            str(item)  # a missing field: StrictUndefined raises its own message, naming the fields
        else:
            raise ViewError(f"unsafe template: cannot print a `{kind.__name__}` (only text, numbers, booleans, "
                            "none, values of the schema, and lists and dicts of them)")
    return value


def _checked(text_filter: Callable[..., Any]) -> Callable[..., Any]:
    """A builtin filter that turns its arguments into text, refusing non-data arguments as printing does."""
    skip = 1 if getattr(text_filter, "jinja_pass_arg", None) is not None else 0  # the environment or context

    @functools.wraps(text_filter)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for arg in (*args[skip:], *kwargs.values()):
            _data(arg)
        return text_filter(*args, **kwargs)

    return checked


def _finalize(value: Any) -> Markup:
    """Every ``{{ … }}`` ends here: trusted Markup passes, data is escaped for Markdown, anything else refused."""
    if isinstance(value, Markup):
        return value
    if type(value) is str:
        return Markup(escape_inline(value))
    if value is None:
        return Markup("")
    if isinstance(value, bool):
        return Markup("true" if value else "false")
    if isinstance(value, float):
        return Markup(escape_inline(repr(value)))
    return Markup(escape_inline(str(_data(value))))


def _raw(value: Any) -> Markup:
    """Opt out of escaping: the value is trusted Markdown (but it must still be data)."""
    return value if isinstance(value, Markup) else Markup(str(_data(value)))


def _md(value: Any) -> Markup:
    return _finalize(value)


def _code(value: Any, in_table: bool = True) -> Markup:
    return Markup(code_span(str(_data(value)), in_table))


def _paragraphs(value: Any) -> Markup:
    return value if isinstance(value, Markup) else Markup(escape_paragraphs(str(_data(value))))


def _heading(level: Any) -> Markup:
    return Markup("#" * max(1, min(6, int(level))))


def _time_filter(value: Any) -> str:
    return format_time(value.ns if isinstance(value, Instant) else int(value))


class ConfinedLoader(jinja2.FileSystemLoader):
    """Templates by relative name from the given folders only: no ``..``, no absolute names, no symlink out."""

    def __init__(self, folders: Sequence[Path]) -> None:
        super().__init__([str(f) for f in folders], encoding="utf-8", followlinks=False)
        self._roots = [os.path.realpath(f) for f in folders]
        self.loaded: list[str] = []

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = template.replace("\\", "/").split("/")
        if (not template or "\0" in template or "\\" in template or template.startswith("/")
                or re.match(r"^[A-Za-z]:", template) or ".." in pieces):
            raise ViewError(f"unsafe template: template name `{template}` is not a relative name inside the "
                            "template folders (no `..`, no absolute names)")
        source, filename, uptodate = super().get_source(environment, template)
        real = os.path.realpath(filename)
        if not any(real.startswith(root + os.sep) for root in self._roots):
            raise ViewError(f"unsafe template: `{template}` resolves outside the template folders")
        self.loaded.append(filename)
        return source, filename, uptodate

