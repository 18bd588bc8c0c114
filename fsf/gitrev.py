"""Git revisions: a schema file as it was at a commit -> :class:`fsf.Schema` (its imports read at the same commit),
and a folder's history -> the commits that changed its schemas.

The only module that runs git: ``git`` from ``PATH`` through :mod:`subprocess` with an argument list, never a
shell. Every revision and path that comes from a user is checked here before git sees it. Nothing is read from
the working tree: it only locates the repository and names the files (``docs/store.md``, "Values written before
the store existed").

Files read at a commit are named ``git:<12 hex digits of the commit>/<path from the repository's top>`` in
diagnostics (``git:3f2a1b9c0d1e/shapes/plan.fsf:4:12: error[F201]: ...``): ``git show <commit>:<path>`` shows
the text a diagnostic points into.

>>> schema = load_schema_at("shapes/plan.fsf", "HEAD~3")          # doctest: +SKIP
>>> [sha[:7] for sha in history(repo_top("shapes"), ["shapes"])]  # doctest: +SKIP
['3f2a1b9', ...]
"""

from __future__ import annotations

import errno
import os
import posixpath
import re
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import attrs

from fsf.api import compile_source
from fsf.errors import Diagnostic, FsfError, SchemaError, UsageError
from fsf.front.parse import too_large
from fsf.limits import MAX_SOURCE_BYTES
from fsf.load import Root
from fsf.schema import Schema

__all__ = ["Files", "GitError", "Version", "files_at", "history", "load_schema_at", "read_at", "repo_top", "resolve",
           "versions"]

SHORT = 12
"""Hex digits of a commit shown in file names and reports."""

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 and SHA-256 repositories
_REV_PUNCTUATION = frozenset("._/@{}^~+-")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ABSOLUTE = re.compile(r"[/\\]|[A-Za-z]:")
_GLOB = re.compile(r"([*?\[\]\\])")
_REGULAR = frozenset({"100644", "100755"})
_NOT_A_FILE = {"120000": "a symbolic link", "160000": "a submodule", "040000": "a folder"}
# Pathspec switches from the caller's environment would change what a path given to git means.
_PATHSPEC_ENV = ("GIT_LITERAL_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS", "GIT_ICASE_PATHSPECS")


class GitError(FsfError):
    """Git could not give what was asked, or the request was refused before git ran; a stable ``code``:

    ``not_a_repo`` (the path is in no git working tree), ``bad_revision`` (a revision or range refused or not a
    commit), ``bad_path`` (a path in the repository refused: absolute, not normalized, ``..``, ``\\``, a control
    character), ``no_such_path`` (the file is not in that commit, or the path is outside the repository),
    ``not_a_file`` (the tree entry is a symbolic link, a submodule or a folder), ``too_large`` (over the size
    limit), ``git_missing`` (no ``git`` to run), ``git_failed`` (git failed otherwise).
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{message} [{code}]")


# -- revisions and paths, judged before git runs ----------------------------------------------------------------


def _shown(text: str) -> str:
    """User text inside a message: what a terminal would not print is written as ``\\uXXXX``."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


def _odd(text: str) -> str | None:
    """Why ``text`` cannot be (part of) a revision, judged on its characters alone (None if it can)."""
    bad = _CONTROL.search(text)
    if bad is not None:
        return f"contains control character U+{ord(bad[0]):04X}"
    if ":" in text:
        return "contains `:` (a revision names a commit, not a file in it)"
    if any(c.isspace() for c in text):
        return "contains white space"
    odd = next((c for c in text if not (c.isalnum() or c in _REV_PUNCTUATION)), None)
    if odd is not None:
        return f"contains `{_shown(odd)}` (a revision has letters, digits and `._/@{{}}^~+-`)"
    return None


def _check_rev(rev: str) -> None:
    """Refuse a revision that could be read as an option, smuggle a path (``rev:path``), or hold anything but
    letters, digits and ``._/@{}^~+-``; one range operator (``..``) is not a revision either."""
    reason = None
    if not rev:
        reason = "is empty"
    elif rev.startswith("-"):
        reason = "starts with `-`"
    else:
        reason = _odd(rev) or ("contains `..` (a range, not a revision)" if ".." in rev else None)
    if reason is not None:
        raise GitError("bad_revision", f"revision `{_shown(rev)}` {reason}")


def _check_sha(sha: str) -> None:
    if not _SHA.fullmatch(sha):
        raise GitError("bad_revision", f"`{_shown(sha)}` is not a full commit id (40 or 64 lowercase hex digits)")


def _check_path(relpath: str, *, folder: bool = False) -> str:
    """A path in the repository (from its top, ``/`` between folders), refused unless relative, normalized and
    inside; a ``folder`` may be ``''`` or ``.`` (the top), returned as ``''``."""
    if folder and relpath in ("", "."):
        return ""
    reason = None
    bad = _CONTROL.search(relpath)
    if not relpath:
        reason = "is empty"
    elif bad is not None:
        reason = f"contains control character U+{ord(bad[0]):04X}"
    elif "\\" in relpath:
        reason = "contains `\\` (folders are separated by `/`)"
    elif _ABSOLUTE.match(relpath):
        reason = "is absolute (a path in the repository is relative to its top)"
    elif relpath == ".." or relpath.startswith("../") or "/../" in relpath or relpath.endswith("/.."):
        reason = "leaves the repository (`..`)"
    elif posixpath.normpath(relpath) != relpath:
        reason = "is not normalized (no `.`, empty or trailing parts)"
    if reason is not None:
        raise GitError("bad_path", f"path `{_shown(relpath)}` {reason}")
    return relpath


# -- running git --------------------------------------------------------------------------------------------------


def _git(top: str | os.PathLike[str], *args: str, literal: bool = False) -> subprocess.CompletedProcess[bytes]:
    """Run ``git -C top ARGS`` (no shell, no terminal prompt, pathspecs literal when ``literal``)."""
    env = {k: v for k, v in os.environ.items() if k not in _PATHSPEC_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    if literal:
        env["GIT_LITERAL_PATHSPECS"] = "1"
    try:
        return subprocess.run(["git", "-C", os.fspath(top), *args], stdin=subprocess.DEVNULL,
                              capture_output=True, env=env, check=False)
    except OSError as err:  # FileNotFoundError, PermissionError: no git to run
        raise GitError("git_missing", f"cannot run git: {(err.strerror or str(err)).lower()}; "
                       "is git installed and on PATH?") from None


def _said(done: subprocess.CompletedProcess[bytes]) -> str:
    """Git's first line on stderr, without its ``fatal:``/``error:`` tag."""
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    first = lines[0] if lines else f"exit status {done.returncode}"
    for tag in ("fatal: ", "error: "):
        first = first.removeprefix(tag)
    return _shown(first)


def _failed(top: str | os.PathLike[str], what: str, done: subprocess.CompletedProcess[bytes]) -> GitError:
    return GitError("git_failed", f"git {what} failed in `{os.fspath(top)}`: {_said(done)}")


def repo_top(path: str | os.PathLike[str]) -> Path:
    """The top folder of the git working tree that holds ``path`` (a file or a folder, which need not exist any
    more: the nearest folder above it that does is asked)."""
    folder = os.path.abspath(path)
    if not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    done = _git(folder, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise GitError("not_a_repo", f"`{_shown(os.fspath(path))}` is not in a git working tree: {_said(done)}")
    return Path(os.path.realpath(os.fsdecode(done.stdout.rstrip(b"\n"))))


def resolve(top: str | os.PathLike[str], rev: str) -> str:
    """The full id of the commit that ``rev`` names in the repository at ``top`` (``bad_revision`` if it names
    none, or is refused before git runs: see :func:`_check_rev`)."""
    _check_rev(rev)
    done = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    sha = done.stdout.decode("ascii", "replace").strip()
    if done.returncode != 0 or not _SHA.fullmatch(sha):
        raise GitError("bad_revision", f"`{_shown(rev)}` is not a commit in `{os.fspath(top)}`")
    return sha


@attrs.frozen
class _Entry:
    """A tree entry: its mode (``100644``, ``120000``: a symbolic link, ...), object id and size."""

    mode: str
    oid: str
    size: int

    @property
    def regular(self) -> bool:
        return self.mode in _REGULAR

    @property
    def kind(self) -> str:
        return _NOT_A_FILE.get(self.mode, f"an entry of mode {self.mode}")


def _entry(top: str | os.PathLike[str], sha: str, relpath: str) -> _Entry | None:
    """The tree entry at ``relpath`` in commit ``sha`` (None if there is none). Git never follows a symbolic
    link inside a tree (``a/b`` under a link ``a`` is no entry), so neither does this."""
    _check_sha(sha)
    _check_path(relpath)
    done = _git(top, "ls-tree", "-z", "-l", "--full-tree", sha, "--", relpath, literal=True)
    if done.returncode != 0:
        raise _failed(top, "ls-tree", done)
    for line in done.stdout.split(b"\0"):
        meta, _, name = line.partition(b"\t")
        if meta and os.fsdecode(name) == relpath:
            mode, _kind, oid, size = meta.decode("ascii").split()
            return _Entry(mode, oid, int(size) if size.isdigit() else 0)
    return None


def _blob(top: str | os.PathLike[str], sha: str, relpath: str) -> _Entry | None:
    """:func:`_entry`, ``not_a_file`` unless it is a regular file."""
    entry = _entry(top, sha, relpath)
    if entry is not None and not entry.regular:
        raise GitError("not_a_file", f"`{_shown(relpath)}` is {entry.kind} at commit {sha[:SHORT]}, "
                       "not a regular file")
    return entry


def _cat(top: str | os.PathLike[str], blob: _Entry) -> bytes:
    done = _git(top, "cat-file", "blob", blob.oid)
    if done.returncode != 0:
        raise _failed(top, "cat-file", done)
    return done.stdout


def read_at(top: str | os.PathLike[str], sha: str, relpath: str, *, limit: int = MAX_SOURCE_BYTES) -> bytes | None:
    """The bytes of the regular file ``relpath`` (from the repository's top, ``/`` between folders) in commit
    ``sha`` (a full id, :func:`resolve`), or None if the commit has no such entry.

    The path is refused before git runs unless relative, normalized and inside (``bad_path``); a symbolic link,
    submodule or folder there is ``not_a_file``; a file over ``limit`` bytes is ``too_large`` and is not read.
    """
    blob = _blob(top, sha, relpath)
    if blob is None:
        return None
    if blob.size > limit:
        raise GitError("too_large", f"`{_shown(relpath)}` is {blob.size} bytes at commit {sha[:SHORT]}; "
                       f"the limit is {limit}")
    return _cat(top, blob)


def _check_range(rev_range: str | None) -> tuple[str | None, str | None]:
    """The two sides (start, end) of ``A..B``, ``A..`` (end None: ``HEAD``) or ``B`` (start None), each refused
    like a revision before git runs on any."""
    if rev_range is None:
        return None, None
    odd = _odd(rev_range)
    if odd is not None:
        raise GitError("bad_revision", f"range `{_shown(rev_range)}` {odd}")
    if "..." in rev_range:
        raise GitError("bad_revision", f"range `{_shown(rev_range)}`: give `A..B`, `A..` or `B`, not `A...B`")
    start, dots, end = rev_range.partition("..")
    if not dots:
        _check_rev(rev_range)
        return None, rev_range
    if not start:
        raise GitError("bad_revision", f"range `{_shown(rev_range)}` has no start: give `A..B` or `A..`")
    _check_rev(start)
    if end:
        _check_rev(end)
    return start, end or None


def _log(top: str | os.PathLike[str], folders: Iterable[str], rev_range: str | None) -> list[tuple[str, str]]:
    """(commit, subject) of every commit, oldest first, that changed a ``.fsf`` file under ``folders``."""
    folders = [_check_path(f, folder=True) for f in folders]
    start, end = _check_range(rev_range)
    head = resolve(top, end or "HEAD")
    span = f"{resolve(top, start)}..{head}" if start else head
    specs = [":(top,glob)" + (_GLOB.sub(r"\\\1", f) + "/" if f else "") + "**/*.fsf" for f in folders]
    done = _git(top, "-c", "log.follow=false", "log", "--format=%H %s", "--reverse", "--topo-order",
                "--no-show-signature", span, "--", *specs)
    if done.returncode != 0:
        raise _failed(top, "log", done)
    out = []
    for line in done.stdout.decode("utf-8", "replace").splitlines():
        sha, _, subject = line.partition(" ")
        out.append((sha, subject))
    return out


def history(top: str | os.PathLike[str], paths: Sequence[str], rev_range: str | None = None) -> list[str]:
    """The commits, oldest first, that changed any ``.fsf`` file in the folders ``paths`` (from the repository's
    top; ``''`` or ``.`` is all of it), within ``rev_range``: ``A..B``, ``A..`` (to ``HEAD``) or ``B`` (every
    commit reachable from it; the default is ``HEAD``), each side checked like a revision (:func:`resolve`).

    Imports stay inside a schema's root, so the commits that changed a schema or a file it imports are among
    those of its root folder.
    """
    return [sha for sha, _ in _log(top, paths, rev_range)]


# -- schemas at a commit ---------------------------------------------------------------------------------------


@attrs.frozen
class _Where:
    """A schema file named in the working tree, located in its repository."""

    name: str  # as the user named it
    top: Path
    rel: str  # from the repository's top
    root_name: str  # the root as the user named it
    root_rel: str  # from the repository's top ('' for the top)


def _from_top(top: Path, path: str, *, folder: bool) -> str:
    """The path from the repository's top of ``path`` (named in the working tree); folders above a file are
    resolved like git resolves them, the file itself is a name (it is read at a commit, never here)."""
    absolute = os.path.abspath(path)
    if folder:
        real = os.path.realpath(absolute)
    else:
        real = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
    rel = os.path.relpath(real, top)
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        what = "root" if folder else "schema"
        raise GitError("no_such_path", f"{what} `{_shown(path)}` is outside the repository `{top}` "
                       "(files are read from its commits)")
    rel = rel.replace(os.sep, "/")
    return _check_path(rel, folder=folder)


def _locate(path: str | os.PathLike[str], root: str | os.PathLike[str] | None) -> _Where:
    name = os.fspath(path)
    top = repo_top(name)
    rel = _from_top(top, name, folder=False)
    folder = posixpath.dirname(rel)
    if root is None:
        return _Where(name, top, rel, os.path.dirname(name) or ".", folder)
    root_rel = _from_top(top, os.fspath(root), folder=True)
    if root_rel and folder != root_rel and not folder.startswith(root_rel + "/"):
        raise UsageError(f"schema `{name}` is outside the root `{os.fspath(root)}`")
    return _Where(name, top, rel, os.fspath(root), root_rel)


@attrs.frozen
class _Tree:
    """The files of one commit under the names diagnostics show (``git:<short>/<path>``), and a reader for the
    loader that reads them from git alone."""

    top: Path
    sha: str

    @property
    def prefix(self) -> str:
        return f"git:{self.sha[:SHORT]}"

    def name(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if rel else self.prefix

    def read(self, name: str) -> str:
        """The text of the file the loader names ``name`` (a :data:`fsf.load.Reader`): FileNotFoundError if the
        commit has none, OSError for an entry that is not a regular file, F001 if too large."""
        rel = name.replace(os.sep, "/").removeprefix(self.prefix + "/")
        if rel == name or not rel:  # never another tree: the root confinement keeps names under the prefix
            raise FileNotFoundError(errno.ENOENT, "not in this commit", name)
        blob = _entry(self.top, self.sha, rel)
        if blob is None:
            raise FileNotFoundError(errno.ENOENT, "not in this commit", name)
        if not blob.regular:  # the loader's F301: "cannot read imported file `...`: <this>"
            raise OSError(errno.EINVAL, f"{blob.kind} at this commit, not a regular file")
        if blob.size > MAX_SOURCE_BYTES:
            raise SchemaError([too_large(name, blob.size, "")])
        return _cat(self.top, blob).decode("utf-8")


def _load(where: _Where, sha: str) -> Schema:
    tree = _Tree(where.top, sha)
    name = tree.name(where.rel)
    blob = _blob(where.top, sha, where.rel)
    if blob is None:
        raise GitError("no_such_path", f"`{_shown(where.rel)}` is not in commit {sha[:SHORT]}")
    if blob.size > MAX_SOURCE_BYTES:
        raise SchemaError([too_large(name, blob.size, "")])
    try:
        text = _cat(where.top, blob).decode("utf-8")
    except UnicodeDecodeError as err:
        raise SchemaError([Diagnostic("F000", f"cannot read schema `{name}`: not UTF-8 (byte {err.start})",
                                      None)]) from None
    root = Root.in_tree(where.root_name, tree.name(where.root_rel))
    return compile_source(text, name, read=tree.read, root=root)


def load_schema_at(path: str | os.PathLike[str], rev: str, *, root: str | os.PathLike[str] | None = None) -> Schema:
    """The schema file ``path`` (named in the working tree, where it need not exist any more) as it was at commit
    ``rev``, its imports read at the same commit and confined to ``root`` (default: the schema's folder) exactly
    as :func:`fsf.load_schema` confines them (F304); nothing is read from the working tree.

    Diagnostics name files ``git:<12 hex digits>/<path from the top>``. A file not in the commit is
    ``no_such_path``; see :class:`GitError` for the other codes.
    """
    _check_rev(rev)  # before git runs at all
    where = _locate(path, root)
    return _load(where, resolve(where.top, rev))


@attrs.frozen(eq=False)
class Version:
    """One commit of a schema's history: its id and subject, and the schema then (None when it did not check or
    was not there: ``problem`` says why, a :class:`fsf.SchemaError` or a :class:`GitError`)."""

    sha: str
    subject: str
    schema: Schema | None
    problem: FsfError | None


def versions(path: str | os.PathLike[str], rev_range: str | None = None, *,
             root: str | os.PathLike[str] | None = None) -> Iterator[Version]:
    """Every commit that changed the schema file ``path`` or a ``.fsf`` file in its root folder (see
    :func:`history`), oldest first, with the schema at that commit (:func:`load_schema_at`).

    The repository, the root and the range are checked now (errors raised by this call); each version is
    loaded as the iterator reaches it, and a version that does not check is a :class:`Version` with its problem.
    """
    _check_range(rev_range)  # before git runs at all
    where = _locate(path, root)
    return _versions(where, _log(where.top, [where.root_rel], rev_range))


def _versions(where: _Where, commits: list[tuple[str, str]]) -> Iterator[Version]:
    for sha, subject in commits:
        try:
            yield Version(sha, subject, _load(where, sha), None)
        except (SchemaError, GitError) as err:
            if isinstance(err, GitError) and err.code in ("git_missing", "git_failed"):
                raise
            yield Version(sha, subject, None, err)


# -- the files under a path at a commit ---------------------------------------------------------------------------


@attrs.frozen
class Files:
    """The regular files under a path at one commit: the repository's ``top``, the commit ``sha`` and each file's
    path from the top (``paths``, sorted); :func:`read_at` reads one (``read_at(f.top, f.sha, f.paths[0])``)."""

    top: Path
    sha: str
    paths: tuple[str, ...]


def files_at(path: str | os.PathLike[str], rev: str, *, suffix: str = "") -> Files:
    """The regular files whose names end with ``suffix`` at commit ``rev`` under ``path``: a folder (every file
    below it) or a file, named in the working tree, where it need not exist any more (``.`` at the top: the whole
    tree). Symbolic links, submodules and other entries that are not regular files are left out, as git never
    follows a link inside a tree.

    >>> [p for p in files_at("audit", "HEAD", suffix=".fsv").paths]   # doctest: +SKIP
    ['audit/1.fsv', 'audit/2.fsv']
    """
    _check_rev(rev)  # before git runs at all
    name = os.fspath(path)
    top = repo_top(name)
    rel = _from_top(top, name, folder=True)
    sha = resolve(top, rev)
    done = _git(top, "ls-tree", "-r", "-z", "--full-tree", sha, *(("--", rel) if rel else ()), literal=True)
    if done.returncode != 0:
        raise _failed(top, "ls-tree", done)
    found = []
    for line in done.stdout.split(b"\0"):
        meta, _, raw = line.partition(b"\t")
        entry = os.fsdecode(raw)
        inside = not rel or entry == rel or entry.startswith(rel + "/")
        if meta and inside and entry.endswith(suffix) and meta.split(b" ", 1)[0].decode("ascii") in _REGULAR:
            found.append(entry)
    return Files(top, sha, tuple(sorted(found)))
