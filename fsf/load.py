"""Load: schema files on disk -> AST modules (a file and everything it imports), and atomic writes.

This and the CLI are the only modules that touch the file system.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import attrs

from fsf.errors import Diagnostic, Note, SchemaError, Source, UsageError
from fsf.front import ast
from fsf.front.parse import MAX_SOURCE_BYTES, parse, too_large

Reader = Callable[[str], str]

# A drive (`C:`) or a path from the top of one (`/`, `\`, `//server`): absolute on some platform, so refused on
# every platform, and a schema means the same everywhere.
_ABSOLUTE = re.compile(r"[/\\]|(?P<drive>[A-Za-z]:)")
# `\` separates folders on Windows only, and control characters (NUL included) name no portable file.
_FORBIDDEN = re.compile(r"[\\\x00-\x1f\x7f]")
_ROOT_HINT = "a schema imports only files inside its root; widen it with `--root DIR` (`root=` in Python)"


@attrs.frozen
class Root:
    """The folder every file of a schema must be in: its name as the user gave it, and its real path.

    The real path (``os.path.realpath``, every symbolic link resolved) is computed once, by :meth:`at`. A root
    made by :meth:`in_tree` judges names alone (``links=False``): for a tree that is not the file system.
    """

    name: str
    real: str
    links: bool = True

    @classmethod
    def at(cls, folder: str) -> Root:
        """The root at ``folder`` ('' is the working folder, shown as ``.``)."""
        folder = folder or "."
        return cls(folder, os.path.realpath(folder))

    @classmethod
    def in_tree(cls, name: str, folder: str) -> Root:
        """The root at ``folder`` of a tree without symbolic links to follow (a git commit), shown as ``name``:
        paths are compared as normalized names and the file system is never looked at."""
        return cls(name, os.path.normpath(folder), links=False)

    def holds(self, path: str) -> bool:
        """Whether ``path``, with every symbolic link (of files and of folders) resolved, is inside the root.

        Only ``lstat``/``readlink`` are used: nothing is opened (and nothing is looked at without ``links``).
        """
        real = os.path.realpath(path) if self.links else os.path.normpath(path)
        try:
            return os.path.commonpath([self.real, real]) == self.real
        except ValueError:  # on Windows, a path on another drive
            return False


def schema_root(filename: str, root: str | os.PathLike[str] | None = None) -> Root:
    """The root of the schema file ``filename``: its folder, or ``root`` if given, which must hold that folder.

    Raises :class:`UsageError` if ``root`` is not a folder or the folder of ``filename`` is outside it; nothing
    is opened.
    """
    folder = os.path.dirname(filename)
    if root is None:
        return Root.at(folder)
    wide = Root.at(os.fspath(root))
    if not os.path.isdir(wide.real):
        raise UsageError(f"root `{wide.name}` is not a folder")
    if not wide.holds(folder or "."):
        raise UsageError(f"schema `{filename}` is outside the root `{wide.name}`")
    return wide


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


def load_modules(entry: Source, read: Reader = read_text, *,
                 root: Root | None = None) -> tuple[list[ast.Module], list[Diagnostic]]:
    """Parse ``entry`` and every file it imports (once each). Returns the modules and every problem found.

    Every import must stay inside ``root`` (default: the folder of ``entry``); one that leaves it, or is
    absolute, or holds a character no portable path has, is a diagnostic and ``read`` is never called for it.
    Names are resolved on the file system (relative to the working folder) for that check, whatever ``read``
    does with them.
    """
    root = root or Root.at(os.path.dirname(entry.name))
    problems: list[Diagnostic] = []
    modules: dict[str, ast.Module | None] = {}
    edges: dict[str, list[tuple[ast.Import, str]]] = {}
    pending = [entry]
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
            refused = _refused(imp) or (None if root.holds(target) else Diagnostic(
                "F304", f"import `{imp.path}` leaves the schema root `{root.name}`", imp.span,
                "outside the schema root", hint=_ROOT_HINT))
            if refused is not None:
                problems.append(refused)
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
            except (OSError, UnicodeDecodeError) as err:
                problems.append(Diagnostic("F301", f"cannot read imported file `{imp.path}`: {_reason(err)}",
                                           imp.span))
            modules[_key(target)] = None
            edges[_key(target)] = []
    problems.extend(_cycles(_key(entry.name), edges))
    return [m for m in modules.values() if m is not None], problems


def _refused(imp: ast.Import) -> Diagnostic | None:
    """The F303 or F305 for an import path that is absolute or not portable, judged on its text alone."""
    absolute = _ABSOLUTE.match(imp.path)
    if absolute:
        return Diagnostic("F303", "import paths are relative to the importing file", imp.span,
                          "drive letter" if absolute["drive"] else "absolute path")
    bad = _FORBIDDEN.search(imp.path)
    if bad is None:
        return None
    if bad[0] == "\\":
        return Diagnostic("F305", f"import path `{imp.path}` contains `\\`", imp.span, "not a folder separator",
                          hint="separate folders with `/`, on every platform")
    return Diagnostic("F305", f"import path `{imp.path}` contains control character U+{ord(bad[0]):04X}",
                      imp.span, "not allowed in an import path")


def _key(name: str) -> str:
    return os.path.normpath(name)


def _reason(err: Exception) -> str:
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 (byte {err.start})"
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
    import tempfile  # only when a file is written
    from pathlib import Path

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
