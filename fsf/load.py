"""Load: schema files on disk -> AST modules (a file and everything it imports), and atomic writes.

This and the CLI are the only modules that touch the file system.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from fsf import ast
from fsf.errors import Diagnostic, Note, SchemaError, Source
from fsf.parse import MAX_SOURCE_BYTES, parse, too_large

Reader = Callable[[str], str]


def read_text(path: str) -> str:
    """Read a schema file as UTF-8 (the default reader); a file over the size limit is refused unread (F001)."""
    with open(path, "rb") as fh:
        data = fh.read(MAX_SOURCE_BYTES + 1)
        if len(data) > MAX_SOURCE_BYTES:
            size = max(os.fstat(fh.fileno()).st_size, len(data))
            raise SchemaError([too_large(path, size, data[:200].decode("utf-8", "replace"))])
    return data.decode("utf-8")


def read_source(path: str) -> str:
    """:func:`read_text` for a file named by the user: a file that cannot be read is an F000 diagnostic."""
    try:
        return read_text(path)
    except (OSError, UnicodeDecodeError) as err:
        raise SchemaError([Diagnostic("F000", f"cannot read schema `{path}`: {_reason(err)}", None)]) from None


def load_modules(root: Source, read: Reader = read_text) -> tuple[list[ast.Module], list[Diagnostic]]:
    """Parse ``root`` and every file it imports (once each). Returns the modules and every problem found."""
    problems: list[Diagnostic] = []
    modules: dict[str, ast.Module | None] = {}
    edges: dict[str, list[tuple[ast.Import, str]]] = {}
    pending = [root]
    while pending:
        source = pending.pop()
        key = _key(source.name)
        if key in modules:
            continue
        try:
            module: ast.Module | None = parse(source)
        except SchemaError as err:
            problems.extend(err.diagnostics)
            module = None
        modules[key] = module
        edges[key] = []
        if module is None:
            continue
        for imp in module.imports:
            target = os.path.normpath(os.path.join(os.path.dirname(source.name), imp.path))
            if os.path.isabs(imp.path):
                problems.append(Diagnostic("F303", "import paths are relative to the importing file", imp.span,
                                           "absolute path"))
                continue
            edges[key].append((imp, _key(target)))
            if _key(target) in modules:
                continue
            try:
                pending.append(Source(target, read(target)))
                continue
            except SchemaError as err:
                problems.extend(err.diagnostics)
            except FileNotFoundError:
                problems.append(Diagnostic("F301", f"cannot find imported file `{imp.path}`", imp.span,
                                           f"looked for `{target}`"))
            except (OSError, UnicodeDecodeError, ValueError) as err:  # ValueError: a NUL in the path
                problems.append(Diagnostic("F301", f"cannot read imported file `{imp.path}`: {_reason(err)}",
                                           imp.span))
            modules[_key(target)] = None
            edges[_key(target)] = []
    problems.extend(_cycles(_key(root.name), edges))
    return [m for m in modules.values() if m is not None], problems


def _key(name: str) -> str:
    return os.path.normpath(name)


def _reason(err: Exception) -> str:
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 (byte {err.start})"
    if isinstance(err, ValueError):
        return "not a valid path"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return type(err).__name__


def _cycles(root: str, edges: dict[str, list[tuple[ast.Import, str]]]) -> list[Diagnostic]:
    """An F302 for each import that closes a cycle, found by an iterative depth-first walk."""
    found: list[Diagnostic] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []
    work: list[tuple[str, int]] = [(root, 0)]
    while work:
        node, i = work.pop()
        if i == 0:
            state[node] = 1
            path.append(node)
        out = edges.get(node, [])
        if i < len(out):
            work.append((node, i + 1))
            imp, target = out[i]
            if state.get(target) == 1:
                loop = [*path[path.index(target):], target]
                found.append(Diagnostic("F302", "import cycle: " + " -> ".join(f"`{p}`" for p in loop), imp.span,
                                        "this import closes the cycle",
                                        (Note(None, "files share one name space; import each file once, "
                                              "from the files that need it"),)))
            elif target not in state:
                work.append((target, 0))
            continue
        state[node] = 2
        path.pop()
    return found


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        # mkstemp makes the file private (0600); keep the mode of the file being replaced, or the usual one.
        try:
            mode = os.stat(target).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
