"""Views, the sandbox: template source + a per-render budget -> a Jinja environment that only emits escaped data.

Templates are code from users. They run in Jinja's immutable sandbox with strict undefined, a loader confined to
the template folders, caps on ``*``, ``**``, ``+`` and ``~``, a budget on loop steps, calls, nesting and output
size, and a whitelist of filters and methods. Only data reaches the output (:func:`_data`), and every
``{{ … }}`` is escaped for Markdown unless a filter marks it trusted (:func:`_emit`).
"""

from __future__ import annotations

import functools
import os
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

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
    "int", "items", "last", "length", "list", "lower", "max", "min", "reject", "rejectattr", "reverse",
    "round", "select", "selectattr", "sort", "string", "striptags", "sum", "title", "trim", "truncate", "unique",
    "upper", "urlencode", "wordcount",
)
"""Jinja's filters that cannot grow their output beyond their input; the others are replaced (``map`` by a
faster equal, see `Environment._map`) or left out."""
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

    def step(self, n: int = 1) -> None:
        """Spend ``n`` steps (a loop over a sequence spends its length when it starts)."""
        self.steps += n
        if self.steps > self.limits.max_steps:
            self.exhausted()

    def exhausted(self) -> NoReturn:
        raise ViewError(f"template limit: more than {self.limits.max_steps} loop steps and calls")


class _Generator(CodeGenerator):
    """Jinja's code generator, plus a budget check around every ``for`` iterable and every ``~`` result, a data
    check around every ``~`` operand (it becomes text, as a printed value does), and every ``{{ … }}`` written
    through :func:`_emit` alone."""

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

    def visit_Output(self, node: jinja2.nodes.Output, frame: Frame) -> None:
        """One chunk per run of template text and ``{{ … }}`` (Jinja yields each piece on its own): the pieces are
        collected as Jinja collects a macro's output, then joined and yielded once, so the render loop (and its
        output budget) sees a handful of chunks per loop step instead of one per piece."""
        if frame.buffer is not None or frame.require_output_check or len(node.nodes) < 2:
            super().visit_Output(node, frame)
            return
        self.writeline("_fsf_out = []")
        frame.buffer = "_fsf_out"
        try:
            super().visit_Output(node, frame)
        finally:
            frame.buffer = None
        self.writeline("yield ''.join(_fsf_out)")

    def _output_child_pre(self, node: jinja2.nodes.Expr, frame: Frame, finalize: Any) -> None:
        """Jinja writes ``escape(environment.finalize(x))``, where ``finalize`` (:func:`_finalize`) already returns
        trusted text and ``escape`` only re-wraps it; one call writes the same text, as a plain ``str`` (a macro,
        ``set`` or ``filter`` block that collects output marks the joined text trusted itself, as before)."""
        self.write("environment.fsf_emit(")

    def _output_child_post(self, node: jinja2.nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write(")")

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
        self.fsf_emit: Callable[[Any], str] = _emit  # what every `{{ … }}` writes (see `_Generator`)
        self.globals.clear()
        self.globals.update(range=self._range, dict=dict, cycler=jinja2.utils.Cycler,
                            joiner=jinja2.utils.Joiner, namespace=jinja2.utils.Namespace)
        self.filters = {
            **_SHARED_FILTERS,
            "join": self._join, "replace": self._replace, "indent": self._indent, "batch": self._batch,
            "slice": self._slice, "map": self._map,
        }

    # -- budget hooks called from generated code

    def fsf_iterate(self, iterable: Any) -> Iterable[Any]:
        """``iterable`` with one budget step per item: a sequence spends its length at once and is iterated as it
        is; anything else (a generator, ``map``, ``reversed``) is charged item by item as it yields."""
        if type(iterable) in _SIZED:
            self.fsf_budget.step(len(iterable))
            return cast(Iterable[Any], iterable)
        return self._stepped(iterable)

    def _stepped(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = self.fsf_budget
        limit = budget.limits.max_steps
        for item in iterable:
            budget.steps += 1
            if budget.steps > limit:
                budget.exhausted()
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
        if type(obj) is Record:  # the hot path: fields are plain data (a name with `_` is the sandbox's to refuse)
            fields = obj._fields
            if attribute in fields and attribute[0] != "_":
                return fields[attribute]
            if not attribute.startswith("_"):
                return self._no_field(obj, attribute)
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

    @jinja2.pass_context
    def _map(self, context: jinja2.runtime.Context, value: Iterable[Any], *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Jinja's ``map``, with a plain filter looked up once instead of once per item (Jinja's ``call_filter``
        path); ``map(attribute=…)``, a filter that takes the context or environment, and an unknown name are
        Jinja's own, errors included."""
        func = self.filters.get(args[0]) if args and type(args[0]) is str else None
        if func is None or getattr(func, "jinja_pass_arg", None) is not None:
            return cast(Iterator[Any], jinja2.filters.sync_do_map(context, value, *args, **kwargs))
        return _mapped(func, value, args[1:], kwargs)

    def _join(self, items: Iterable[Any], separator: str = "", attribute: str | int | None = None) -> Markup:
        if attribute is not None:
            items = map(jinja2.filters.make_attrgetter(self, attribute), items)
        # The separator and each item are checked and escaped as printed values.
        sep = escape_inline(separator) if type(separator) is str else _emit(separator)
        parts: list[str] = []
        append = parts.append
        size, cap, extra = 0, self.fsf_budget.limits.max_output, len(sep)
        for item in self.fsf_iterate(items):
            part = escape_inline(item) if type(item) is str else _emit(item)
            size += len(part) + extra
            if size > cap:
                raise ViewError(f"template limit: `join` result above {cap} characters")
            append(part)
        return _trusted(str.join(sep, parts))  # `str.join`: a trusted separator's own join would escape the parts

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


def _mapped(func: Callable[..., Any], value: Iterable[Any], args: tuple[Any, ...],
            kwargs: dict[str, Any]) -> Iterator[Any]:
    for item in value:  # a generator, as Jinja's: nothing (not even `iter(value)`) runs before the first item
        yield func(item, *args, **kwargs)


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
_SIZED = frozenset({tuple, list, dict, str, range})
"""What a loop charges its length up front (see `Environment.fsf_iterate`): sized, and fixed while it runs."""


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


def _emit(value: Any) -> str:
    """What a ``{{ … }}`` writes: trusted Markup as it is, data escaped for Markdown, anything else refused."""
    if type(value) is str:
        return escape_inline(value)
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return escape_inline(repr(value))
    return escape_inline(str(_data(value)))


def _finalize(value: Any) -> Markup:
    """:func:`_emit` as trusted Markup (the environment's ``finalize``, and the ``md`` filter)."""
    return value if isinstance(value, Markup) else _trusted(_emit(value))


_trusted: Callable[[str], Markup] = functools.partial(str.__new__, Markup)
"""``text`` marked trusted: ``Markup(text)`` for a plain ``str``, without its Python-level constructor."""


def _raw(value: Any) -> Markup:
    """Opt out of escaping: the value is trusted Markdown (but it must still be data)."""
    return value if isinstance(value, Markup) else _trusted(str(_data(value)))


def _md(value: Any) -> Markup:
    return _finalize(value)


def _code(value: Any, in_table: bool = True) -> Markup:
    return _trusted(code_span(value if type(value) is str else str(_data(value)), in_table))


def _paragraphs(value: Any) -> Markup:
    return value if isinstance(value, Markup) else _trusted(escape_paragraphs(str(_data(value))))


def _heading(level: Any) -> Markup:
    return Markup("#" * max(1, min(6, int(level))))


def _time_filter(value: Any) -> str:
    return format_time(value.ns if isinstance(value, Instant) else int(value))


_SHARED_FILTERS: Mapping[str, Callable[..., Any]] = types.MappingProxyType({
    **{name: _checked(jinja2.filters.FILTERS[name]) if name in _TEXT_FILTERS else jinja2.filters.FILTERS[name]
       for name in _KEPT_FILTERS},
    "raw": _raw, "safe": _raw, "md": _md, "e": _md, "escape": _md, "forceescape": _md, "code": _code,
    "paragraphs": _paragraphs, "heading": _heading, "time": _time_filter,
    **{name: _unavailable(name) for name in _LEFT_OUT_FILTERS},
})
"""The filters that need no environment, built once (each environment adds the budgeted ones)."""


class ConfinedLoader(jinja2.FileSystemLoader):
    """Templates by relative name from the given folders only: no ``..``, no absolute names, no symlink out."""

    def __init__(self, folders: Sequence[Path]) -> None:
        super().__init__([str(f) for f in folders], encoding="utf-8", followlinks=False)
        self.loaded: list[str] = []

    @functools.cached_property
    def _roots(self) -> list[str]:
        """The folders resolved, once, when a template first includes another (most renders never do)."""
        return [os.path.realpath(f) for f in self.searchpath]

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

