"""CLI, start-up: an ordinary command line (the words after `fsf` or `fsv`) -> the command function and its
arguments, converted as typer would, without importing typer; anything else -> None, and typer parses it.

Importing typer costs about six empty interpreter start-ups, more than some commands' own work, and these
commands run once per file in git's textconv, in pre-commit hooks and in scripts. So :func:`fsf.cli.common.run`
asks :func:`parse` first. It reads a table of every command's parameters of the tool, :func:`table`
(``TOOL`` of ``fsf/cli/_argspec_fsf.py`` or ``fsf/cli/_argspec_fsv.py``: a command line loads only its own tool's),
generated from the typer apps (``python -m fsf.cli.gen_argspec --write``; a test fails when a committed file
is stale), so the typer declarations stay the one source of the interface.

The table: ``table(tool)`` is a group, ``{"help": (NAMES...), "commands": {NAME: group or command}}``; a command is
``{"target": "module:function", "help": (NAMES...), "params": (PARAM...)}``, ``params`` None when some parameter is
beyond this parser (typer then parses every use of that command). A PARAM, in the function's order:

- ``name`` (the keyword), ``kind`` (``"option"`` or ``"argument"``), ``required``, ``default`` (an enum's by its
  value), ``multiple`` (a list: a repeatable option, or an argument taking every remaining word);
- an option's ``opts`` (``--schema``, ``-s``) and ``flag`` (a bool that takes no value: present is True);
- the conversion (:func:`converter`): ``type`` ``str``, ``path``, ``bool``, ``int`` (with ``min`` and ``max``) or
  ``choice`` (``enum``: ``"module:Class"``, a member by its value).

:func:`parse` follows click's parser for what the table can say: long options with their value as the next word
or after ``=``, short options alone, bundled (``-xy``) or with the value attached (``-sX``), the last value of a
repeated option wins, a repeatable one collects, ``--`` ends the options, arguments and options in any order,
a lone ``-`` is an argument; then defaults, conversions, required parameters, and typer's ``None`` for an empty
list whose default is None. It declines (returns None) whatever it is not sure of: no command or an unknown
one, a group option (``--version``, completion), a help option anywhere, an unknown option, a missing or
surplus value, a value that does not convert, a missing required parameter, a completion request in the
environment (``_FSV_COMPLETE``), Windows (where typer expands wildcards). A differential test
(``tests/cli/test_fast_path.py``) runs generated command lines through both parsers: equal arguments, or this
one declines.

:func:`serve` runs the command as typer's main loop would: ``KeyboardInterrupt`` exits 130, ``EOFError`` prints
``Aborted!`` and exits 1, a broken pipe exits 1 quietly; a :class:`fsf.cli.common.BadParameter` is answered by
typer, which runs the command line again for its usage message.
"""

from __future__ import annotations

import enum
import errno
import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

Param = Mapping[str, Any]


class Call(NamedTuple):
    """A command line the fast path serves: the command function (``"module:function"``) and its arguments."""

    target: str
    kwargs: Mapping[str, Any]

    def function(self) -> Callable[..., Any]:
        module, _, attribute = self.target.partition(":")
        function: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
        return function


class _Decline(Exception):
    """Not a command line for the fast path (typer will parse it)."""


def parse(tool: str, argv: Sequence[str], environ: Mapping[str, str]) -> Call | None:
    """The call that ``argv`` (the words after ``tool``) makes, or None when typer should read it."""
    if sys.platform == "win32" or any(k.startswith("_") and k.endswith("_COMPLETE") for k in environ):
        return None
    node = table(tool)
    words = list(argv)
    while "commands" in node:
        if not words or words[0] not in node["commands"]:
            return None
        node = node["commands"][words.pop(0)]
    params = node["params"]
    if params is None or any(word in node["help"] for word in words):
        return None
    try:
        return Call(node["target"], _values(params, _scan(params, words)))
    except _Decline:
        return None


def table(tool: str) -> Param:
    """The generated table of ``tool`` (``"fsf"`` or ``"fsv"``): its top group."""
    node: Param = importlib.import_module(f"fsf.cli._argspec_{tool}").TOOL
    return node


def _scan(params: Sequence[Param], words: list[str]) -> dict[str, Any]:
    """The raw values on the command line by parameter name (click's ``_OptionParser`` for the table's kinds)."""
    options: dict[str, Param] = {opt: p for p in params if p["kind"] == "option" for opt in p["opts"]}
    raw: dict[str, Any] = {}
    loose: list[str] = []

    def store(param: Param, value: Any) -> None:
        if param["multiple"]:
            raw.setdefault(param["name"], []).append(value)
        else:
            raw[param["name"]] = value

    def take(param: Param, attached: str | None) -> None:
        if param["flag"]:
            if attached is not None:
                raise _Decline  # `--flag=x`
            store(param, True)
            return
        if attached is None:
            if not words:
                raise _Decline  # an option without its value
            attached = words.pop(0)
        store(param, attached)

    while words:
        word = words.pop(0)
        if word == "--":
            break
        if not word.startswith("-") or word == "-":
            loose.append(word)
            continue
        name, eq, value = word.partition("=")
        if _is_long(name) and name in options:
            take(options[name], value if eq else None)
        elif word.startswith("--"):
            raise _Decline  # an unknown long option
        else:  # short options, bundled, the last perhaps with its value attached (`-sX`, `-s=X` is `=X`)
            for i, char in enumerate(word[1:], start=2):
                param = options.get("-" + char)
                if param is None:
                    raise _Decline
                if not param["flag"]:
                    take(param, word[i:] or None)
                    break
                take(param, None)
    _arguments(params, loose + words, raw)
    return raw


def _arguments(params: Sequence[Param], loose: list[str], raw: dict[str, Any]) -> None:
    """The words that are not options, given to the arguments as click's ``_unpack_args`` does: one word each in
    order, except that one argument may take every word left over, the arguments after it taking theirs from the
    end."""
    arguments = [p for p in params if p["kind"] == "argument"]
    stars = [i for i, p in enumerate(arguments) if p["multiple"]]
    if len(stars) > 1:
        raise _Decline
    if not stars:
        if len(loose) > len(arguments):
            raise _Decline  # surplus arguments
        raw.update((p["name"], word) for p, word in zip(arguments, loose, strict=False))
        return
    star = stars[0]
    raw.update((p["name"], word) for p, word in zip(arguments[:star], loose[:star], strict=False))
    rest = loose[star:]
    back = rest[max(len(rest) - (len(arguments) - star - 1), 0):]
    raw.update((p["name"], word) for p, word in zip(reversed(arguments[star + 1:]), reversed(back), strict=False))
    if len(rest) > len(back):
        raw[arguments[star]["name"]] = rest[:len(rest) - len(back)]


def _is_long(option: str) -> bool:
    """Whether click files ``option`` as a long option (``--x``, or a single dash and more than one letter)."""
    return option.startswith("--") or len(option) > 2


def _values(params: Sequence[Param], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Each parameter's value: given, else its default; converted; required ones present; a list's empty value
    None where its default is None (typer's rule)."""
    out = {}
    for param in params:
        value: Any = raw.get(param["name"])
        if value is None:
            value = param["default"]
        if not (param["type"] == "bool" and isinstance(value, bool)):
            value = _coerce(param, value)
        empty = value is None or (param["multiple"] and value in ((), []))
        if param["required"] and empty:
            raise _Decline
        if param["multiple"] and value is not None:
            value = None if param["default"] is None and len(value) == 0 else list(value)
        out[param["name"]] = value
    return out


def _coerce(param: Param, value: Any) -> Any:
    """:class:`fsf.cli.app._Plain`'s ``coerce``: None (or an empty tuple for a list) stays, each value converts."""
    if value is None:
        return () if param["multiple"] else None
    convert = converter(param)
    try:
        if not param["multiple"]:
            return convert(value)
        if isinstance(value, str):
            raise _Decline
        return [convert(v) for v in value]
    except ValueError:
        raise _Decline from None


def serve(call: Call) -> bool:
    """Run ``call`` as typer's main loop would; False (nothing done) when the command found a wrong command line
    (:class:`fsf.cli.common.BadParameter`), which typer must report."""
    from fsf.cli.common import BadParameter, echo

    function = call.function()
    try:
        function(**call.kwargs)
    except BadParameter:
        return False
    except EOFError:
        echo(err=True)
        echo("Aborted!", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as err:
        if err.errno != errno.EPIPE:
            raise
        sys.stdout = _Quiet(sys.stdout)
        sys.stderr = _Quiet(sys.stderr)
        sys.exit(1)
    return True


class _Quiet:
    """A stream whose flush ignores a broken pipe (click's ``PacifyFlushWrapper``): the interpreter flushes the
    standard streams at exit, and a reader that went away must not turn that into a traceback."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as err:
            if err.errno != errno.EPIPE:
                raise

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.wrapped, attribute)


# -- conversions (shared with typer: fsf.cli.app._Plain) -------------------------------------------------------


def type_spec(descriptor: Any) -> dict[str, Any] | None:
    """The plain conversion of a parameter (its typer type descriptor: read, typer is not imported here), as the
    table records it and :class:`fsf.cli.app._Plain` converts with it:
    ``{"type": "str" | "path" | "bool" | "int" | "choice"}`` with ``min``/``max`` for an int and ``enum``
    (``"module:Class"``) for a choice; None when typer must convert it itself."""
    annotation, info = descriptor.annotation, descriptor.parameter_info
    if getattr(annotation, "__origin__", None) is list:
        annotation = annotation.__args__[0]
    if getattr(info, "parser", None) is not None:
        return None
    if annotation is str:
        return {"type": "str"}
    if annotation is bool:
        return {"type": "bool"}
    if annotation is Path and not any(getattr(info, flag, False) for flag in
                                      ("exists", "writable", "resolve_path", "allow_dash", "path_type")) \
            and getattr(info, "file_okay", True) and getattr(info, "dir_okay", True):
        return {"type": "path"}
    if annotation is int and not getattr(info, "clamp", False):
        return {"type": "int", "min": getattr(info, "min", None), "max": getattr(info, "max", None)}
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum) and getattr(info, "case_sensitive", True):
        return {"type": "choice", "enum": f"{annotation.__module__}:{annotation.__qualname__}"}
    return None


def converter(spec: Param) -> Callable[[Any], Any]:
    """The conversion of command-line text that ``spec`` (a table entry's ``type``, ``min``, ``max``, ``enum``)
    names; a wrong value raises ``ValueError`` with the message typer prints after ``Invalid value for …:``."""
    kind = spec["type"]
    if kind == "str":
        return str
    if kind == "path":
        return _path
    if kind == "bool":
        return _boolean
    if kind == "int":
        return _integer(spec.get("min"), spec.get("max"))
    if kind == "choice":
        module, _, name = spec["enum"].partition(":")
        return _choice(getattr(importlib.import_module(module), name))
    raise ValueError(f"no conversion `{kind}`")


def _path(value: Any) -> Path:
    return value if isinstance(value, Path) else Path(value)


_TRUE, _FALSE = frozenset(("1", "true", "t", "yes", "y", "on")), frozenset(("0", "false", "f", "no", "n", "off", ""))


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"`{value}` is not a boolean")


def _integer(low: float | None, high: float | None) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        try:
            n = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"`{value}` is not an integer") from None
        if low is not None and n < low:
            raise ValueError(f"`{value}` is less than the minimum {low}")
        if high is not None and n > high:
            raise ValueError(f"`{value}` is more than the maximum {high}")
        return n

    return convert


def _choice(kind: type[enum.Enum]) -> Callable[[Any], enum.Enum]:
    def convert(value: Any) -> enum.Enum:
        if isinstance(value, kind):
            return value
        for member in kind:
            if member.value == value:
                return member
        raise ValueError(f"`{value}` is not one of " + ", ".join(f"`{m.value}`" for m in kind))

    return convert
