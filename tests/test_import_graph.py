"""The import graph of ``fsf/``: stages point one way (front -> IR -> back ends -> façade -> api/load -> cli).

The graph is read from the source (every ``import`` statement, at module level, inside functions and under
``TYPE_CHECKING``), not from what happens to be imported at run time, so a lazy import cannot hide a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fsf"
BACK_ENDS = ("fsf.bytecode", "fsf.fsv", "fsf.views", "fsf.codegen", "fsf.evolve", "fsf.ir", "fsf.front")
FACADE = ("fsf.schema", "fsf.api", "fsf.store", "fsf.cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ``fsf`` that importing ``name`` loads last (a name inside a module counts as the module)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module of ``fsf`` that ``module`` imports anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from fsf.x import y` loads fsf.x.y when y is a submodule, else a name of fsf.x.
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            if target == "fsf" or not target.startswith("fsf."):
                continue
            resolved = _resolve(target, modules)
            if resolved is not None and resolved != module:
                found.add(resolved)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: _imports(m, p, modules) for m, p in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (its modules in order, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if root in state:
            continue
        path = [root]
        stack = [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_graph_is_read() -> None:
    graph = _graph()
    assert "fsf.schema" in graph["fsf.api"]
    assert "fsf.ir" in graph["fsf.ir.ids"]


def test_fsf_has_no_import_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_no_stage_imports_the_facade() -> None:
    bad = sorted(f"{m} imports {t}" for m, targets in _graph().items() if _under(m, BACK_ENDS)
                 for t in targets if _under(t, FACADE))
    assert not bad, "\n".join(bad)
