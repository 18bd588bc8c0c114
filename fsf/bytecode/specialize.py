"""Specialise: bytecode program -> one straight-line Python validator per named type (the fast path).

Each routine becomes a generated Python function; nested arrays, maps, optionals and variants become nested
loops and ``if`` blocks. The source is compiled once with :func:`compile` and :func:`exec`. Every operand of the
program (names, bounds, member sets) reaches the code through the globals dict as ``_cN``; only identifiers
and slot numbers that the generator makes itself appear in the text, so no schema text can inject code. A
pseudo file name is registered in :mod:`linecache` so that tracebacks and debuggers show the generated source.

Each check is an inline test that accepts the common valid case at once; when it does not, the reference
VM's ``check_*`` function decides and words the message, so both executors share one meaning and one message
family. Paths are built only on failure: a failing check raises ``_Fail`` with its local path segments, and
every call site prepends its own segments while the exception passes through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fsf.bytecode import vm
from fsf.bytecode.opcodes import Instr, Op, Program
from fsf.limits import MAX_DEPTH
from fsf.pysource import Writer, load

Validator = Callable[[Any], None]

_MAX_INLINE_LOOPS = 6
"""Loops nested deeper than this inside one function are moved to a function of their own (CPython allows
20 statically nested blocks per function)."""


class _Fail(Exception):
    """A failed check inside generated code: the message and the path segments from the function's root."""

    def __init__(self, message: str, segments: list[Any]) -> None:
        super().__init__(message)
        self.message = message
        self.segments = segments

    def prefix(self, *segments: Any) -> None:
        self.segments[0:0] = segments


def _fail(message: str | None, *segments: Any) -> None:
    if message is not None:
        raise _Fail(message, list(segments))


_RUNTIME: dict[str, Any] = {
    "_Fail": _Fail,
    "_fail": _fail,
    "_check_bool": vm.check_bool,
    "_check_int": vm.check_int,
    "_check_float": vm.check_float,
    "_check_str": vm.check_str,
    "_check_bytes": vm.check_bytes,
    "_check_hash": vm.check_hash,
    "_check_time": vm.check_time,
    "_check_ref": vm.check_ref,
    "_check_enum": vm.check_enum,
    "_check_shape": vm.check_shape,
    "_check_union": vm.check_union,
    "_check_array": vm.check_array,
    "_check_map": vm.check_map,
    "_I64_MIN": vm.I64_MIN,
    "_I64_MAX": vm.I64_MAX,
    "_HASH_SIZE": vm.HASH_SIZE,
    "_utf8": str.encode,
}
"""Names every generated module may use (read-only; copied into each module's globals)."""


class _Slot:
    """One value on the (static) stack of a generated function: its variable and how it was reached."""

    __slots__ = ("segment", "shared", "var")

    def __init__(self, var: str, segment: str | None, shared: bool = False) -> None:
        self.var = var
        self.segment = segment
        self.shared = shared
        """A variant's dict: it shares its union's level (:data:`fsf.limits.MAX_DEPTH`)."""


class _Function:
    """The generation state of one generated function."""

    def __init__(self, name: str) -> None:
        self.out = Writer()
        self.name = name
        self.slots = [_Slot("v0", None)]
        self.loops = 0
        self.variant_seen: dict[int, bool] = {}

    @property
    def k(self) -> int:
        return len(self.slots) - 1

    @property
    def level(self) -> int:
        """How many levels below the function's argument the current value sits (its depth is ``d + level``)."""
        return self.k - sum(s.shared for s in self.slots)

    @property
    def cur(self) -> str:
        return self.slots[-1].var

    def segments(self) -> str:
        return "".join(f", {s.segment}" for s in self.slots[1:])

    def push(self, var: str, segment: str, shared: bool = False) -> None:
        self.slots.append(_Slot(var, segment, shared))


class _Generator:
    def __init__(self, program: Program, max_depth: int) -> None:
        self.program = program
        self.max_depth = max_depth
        self.consts: dict[str, Any] = {}
        self.functions: list[_Function] = []
        self.routine_names = {name: f"_t{i}" for i, (name, _) in enumerate(program.entries)}

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def source(self) -> str:
        return "\n".join(line for f in self.functions for line in f.out.lines) + "\n"

    # -- functions ------------------------------------------------------------------------------------------

    def routine(self, name: str) -> None:
        span = self.program.routine(name)
        fn = self._open(self.routine_names[name])
        end = self.block(fn, span.start, span.stop - 1)
        _expect(self.program.code[end], Op.RET, end)
        fn.out.depth -= 1

    def _open(self, name: str) -> _Function:
        fn = _Function(name)
        self.functions.append(fn)
        fn.out.line(f"def {name}(v0, d):")
        fn.out.depth += 1
        return fn

    def call(self, fn: _Function, target: str) -> None:
        """Call generated function ``target`` on the current value, adding this function's path on failure."""
        if fn.k == 0:
            fn.out.line(f"{target}({fn.cur}, d)")
            return
        out = fn.out
        out.line("try:")
        with out.indent():
            out.line(f"{target}({fn.cur}, {f'd + {fn.level}' if fn.level else 'd'})")
        out.line("except _Fail as _e:")
        with out.indent():
            out.line(f"_e.prefix({', '.join(s.segment for s in fn.slots[1:] if s.segment)})")
            out.line("raise")

    # -- instructions ---------------------------------------------------------------------------------------

    def block(self, fn: _Function, pc: int, end: int) -> int:
        """Emit instructions ``pc`` up to ``end`` (exclusive) into ``fn``; returns ``end``."""
        code = self.program.code
        while pc < end:
            ins = code[pc]
            op, a = ins.op, ins.args
            if op in (Op.ARRAY, Op.MAP) and fn.loops >= _MAX_INLINE_LOOPS:
                loop_end = _label(code[pc + 1], pc + 1)
                sub = self._open(f"_o{len(self.functions)}")
                self.block(sub, pc, loop_end)
                sub.out.depth -= 1
                self.call(fn, sub.name)
                pc = loop_end
                continue
            pc += 1
            if op is Op.FIELD:
                var = f"v{fn.k + 1}"
                seg = self.const(a[0])
                fn.out.line(f"{var} = {fn.cur}[{seg}]")
                fn.push(var, seg)
            elif op is Op.OPT_FIELD:
                var = f"v{fn.k + 1}"
                seg = self.const(a[0])
                fn.out.line(f"{var} = {fn.cur}.get({seg})")
                fn.out.line(f"if {var} is not None:")
                fn.push(var, seg)
                with fn.out.indent():
                    pc = self.block(fn, pc, _label(ins, pc - 1))
            elif op is Op.SKIP_NONE:
                fn.out.line(f"if {fn.cur} is not None:")
                with fn.out.indent():
                    pc = self.block(fn, pc, _label(ins, pc - 1))
            elif op is Op.POP:
                fn.slots.pop()
            elif op in (Op.NEXT, Op.NEXT_KEY):
                pc = self.loop(fn, ins, pc)
            elif op is Op.VALUE:
                fn.push(f"vv{fn.k + 1}", f"(kk{fn.k + 1},)")
            elif op is Op.VARIANT:
                pc = self.variant(fn, ins, pc)
            elif op is Op.CALL:
                self.call_type(fn, str(a[0]))
            else:
                self.check(fn, ins, pc - 1)
        return end

    def loop(self, fn: _Function, ins: Instr, pc: int) -> int:
        """``NEXT end`` or ``NEXT_KEY end`` at ``pc - 1``: a loop whose back edge is the JUMP before ``end``."""
        end = _label(ins, pc - 1)
        _expect(self.program.code[end - 1], Op.JUMP, end - 1)
        n = fn.k + 1
        if ins.op is Op.NEXT:
            fn.out.line(f"for i{n}, v{n} in enumerate({fn.cur}):")
            fn.push(f"v{n}", f"i{n}")
        else:
            fn.out.line(f"for kk{n}, vv{n} in {fn.cur}.items():")
            fn.push(f"kk{n}", f"(kk{n},)")
        fn.loops += 1
        with fn.out.indent():
            self.block(fn, pc, end - 1)
        fn.loops -= 1
        return end

    def variant(self, fn: _Function, ins: Instr, pc: int) -> int:
        """``VARIANT name other`` at ``pc - 1``: the payload block ends with ``POP; JUMP end`` before ``other``."""
        other = _label(ins, pc - 1)
        _expect(self.program.code[other - 1], Op.JUMP, other - 1)
        k = fn.k
        keyword = "elif" if fn.variant_seen.get(k) else "if"
        fn.variant_seen[k] = True
        seg = self.const(ins.args[0])
        fn.out.line(f"{keyword} t{k} == {seg}:")
        with fn.out.indent():
            fn.out.line(f"v{k + 1} = p{k}")
            fn.push(f"v{k + 1}", seg, shared=True)
            self.block(fn, pc, other - 1)
        return other

    def call_type(self, fn: _Function, name: str) -> None:
        span = self.program.routine(name)
        first = self.program.code[span.start]
        if len(span) == 2 and first.op is Op.ENUM:  # an enum is a single check: inline it
            self.check(fn, first)
        else:
            self.call(fn, self.routine_names[name])

    def check(self, fn: _Function, ins: Instr, at: int = -1) -> None:
        """One check instruction (at index ``at``, for a union): an inline test that accepts at once, else the
        VM's check decides."""
        op, a, v = ins.op, ins.args, fn.cur
        c = [self.const(x) for x in a]
        tests: list[str]
        deep = f"d + {fn.level}" if fn.level else "d"
        if op is Op.BOOL:
            tests, slow = [f"type({v}) is bool"], f"_check_bool({v})"
        elif op is Op.INT:
            tests, slow = [f"type({v}) is int", f"{c[1]} <= {v} <= {c[2]}"], f"_check_int({v}, {c[0]}, {c[1]}, {c[2]})"
        elif op is Op.FLOAT:
            slow = f"_check_float({v}, {c[0]}, {c[1]}, {c[2]})"
            # A bounded f64 needs no finiteness test: a NaN or an infinity fails the finite bounds.
            if a[0] != 64:
                tests = []
            elif a[1] is not None and a[2] is not None:
                tests = [f"type({v}) is float", f"{c[1]} <= {v} <= {c[2]}"]
            else:
                tests = [f"type({v}) is float", f"{v} - {v} == 0.0"]
                tests += [f"{c[1]} <= {v}"] if a[1] is not None else []
                tests += [f"{v} <= {c[2]}"] if a[2] is not None else []
        elif op in (Op.STR, Op.BYTES):
            kind = "str" if op is Op.STR else "bytes"
            # Non-ASCII text is encoded to prove it is UTF-8; a lone surrogate raises UnicodeEncodeError, and the
            # entry function then lets the VM decide and word the message.
            tests = [f"type({v}) is {kind}"] + ([f"({v}.isascii() or _utf8({v}))"] if op is Op.STR else [])
            tests += [f"{c[0]} <= len({v})"] if a[0] else []
            tests += [f"len({v}) <= {c[1]}"] if a[1] is not None else []
            slow = f"_check_{kind}({v}, {c[0]}, {c[1]})"
        elif op is Op.HASH:
            tests, slow = [f"type({v}) is bytes", f"len({v}) == _HASH_SIZE"], f"_check_hash({v})"
        elif op is Op.TIME:
            tests, slow = [f"type({v}) is int", f"_I64_MIN <= {v} <= _I64_MAX"], f"_check_time({v})"
        elif op is Op.REF:
            tests, slow = [], f"_check_ref({v}, {c[0]})"
        elif op is Op.ENUM:
            members = self.const(frozenset(a[1]))  # type: ignore[arg-type]
            tests, slow = [f"type({v}) is str", f"{v} in {members}"], f"_check_enum({v}, {c[0]}, {c[1]})"
        elif op is Op.SHAPE:
            names, required = self.const(frozenset(a[1])), self.const(frozenset(a[2]))  # type: ignore[arg-type]
            tests = [f"type({v}) is dict", self._depth_ok(fn), f"{v}.keys() <= {names}"]
            tests += [f"{required} <= {v}.keys()"] if a[2] else []
            slow = f"_check_shape({v}, {c[0]}, {c[1]}, {c[2]}, {deep}, {self.const(self.max_depth)})"
        elif op is Op.UNION:
            variants = self.const(frozenset(a[1]))  # type: ignore[arg-type]
            tests = [f"type({v}) is dict", self._depth_ok(fn), f"len({v}) == 1", f"next(iter({v})) in {variants}"]
            units = self.const(vm.unit_variants(self.program.code, at))
            slow = f"_check_union({v}, {c[0]}, {c[1]}, {deep}, {self.const(self.max_depth)}, {units})"
        elif op in (Op.ARRAY, Op.MAP):
            kind = "list" if op is Op.ARRAY else "dict"
            tests = [f"type({v}) is {kind}", self._depth_ok(fn), f"{c[0]} <= len({v}) <= {c[1]}"]
            slow = f"_check_{'array' if op is Op.ARRAY else 'map'}({v}, {c[0]}, {c[1]}, {deep}, " \
                   f"{self.const(self.max_depth)})"
        else:
            raise ValueError(f"instruction {op.name} cannot appear here")
        if tests:
            fn.out.line(f"if not ({' and '.join(tests)}):")
            with fn.out.indent():
                fn.out.line(f"_fail({slow}{fn.segments()})")
        else:
            fn.out.line(f"_fail({slow}{fn.segments()})")
        if op is Op.UNION:
            fn.variant_seen[fn.k] = False
            fn.out.line(f"(t{fn.k}, p{fn.k}), = {v}.items()")

    def _depth_ok(self, fn: _Function) -> str:
        return f"d <= {self.const(self.max_depth - fn.level)}"


def _label(ins: Instr, pc: int) -> int:
    target = ins.args[-1]
    if type(target) is not int:
        raise ValueError(f"instruction {pc} ({ins.op.name}) has no label")
    return target


def _expect(ins: Instr, op: Op, pc: int) -> None:
    if ins.op is not op:
        raise ValueError(f"instruction {pc} is {ins.op.name}, expected {op.name}: the program is not structured")


def generate(program: Program, max_depth: int = MAX_DEPTH) -> tuple[str, dict[str, Any]]:
    """The generated source of ``program`` and the constants it reads (``_cN`` -> value)."""
    vm.check_max_depth(max_depth)
    gen = _Generator(program, max_depth)
    for name, _ in program.entries:
        gen.routine(name)
    return gen.source(), gen.consts


def specialize(program: Program, max_depth: int = MAX_DEPTH) -> Mapping[str, Validator]:
    """One validator per named type of ``program``, each raising ValidationError exactly as :func:`fsf.bytecode.vm.run`.

    >>> from fsf import compile_source
    >>> specialize(compile_source("shape T { n: u8 }").program)["T"]({"n": 3})
    """
    source, consts = generate(program, max_depth)
    namespace = load(source, "fsf-specialized", {**_RUNTIME, **consts})
    return {name: _entry(namespace[fname], program, name, max_depth) for name, fname in
            ((n, f"_t{i}") for i, (n, _) in enumerate(program.entries))}


def _entry(fn: Callable[[Any, int], None], program: Program, name: str, max_depth: int) -> Validator:
    def validate(value: Any) -> None:
        try:
            fn(value, 1)
        except _Fail as fail:
            raise vm.failure(fail.message, fail.segments) from None
        except (RecursionError, UnicodeEncodeError):
            # The caller's own stack was nearly full (the VM needs no Python recursion), or a str holds a lone
            # surrogate: the VM decides the same, with the same message.
            vm.run(program, name, value, max_depth)

    validate.__name__ = validate.__qualname__ = f"validate_{name}"
    return validate
