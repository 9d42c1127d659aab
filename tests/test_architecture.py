"""The package's shape: no module of seamlab imports one that imports it back.

The import graph is read from the source with ``ast`` (nothing is imported): every
``import``/``from ... import`` anywhere in a module counts, at module level, inside a
function, or under ``if TYPE_CHECKING:``. ``from seamlab.grading import outcome`` is an edge to
the module ``seamlab.grading.outcome``; ``from seamlab.grading import grade`` (a name, not a
module) is an edge to the package ``seamlab.grading``. The exercises' hidden tests and planted
faults are not modules of the package (they are imported by file name inside a run).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "seamlab"


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """``{"seamlab.grading.engine": path, ...}`` for every module inside a real package."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        folder = path.parent
        if not all((parent / "__init__.py").is_file()
                   for parent in [folder, *folder.parents] if parent.is_relative_to(root)):
            continue  # src/seamlab/hidden/NN-slug/..., src/seamlab/mutants/...: not modules
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The seamlab modules ``name`` imports, wherever in the file the import statement is."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    edges: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                edges.add(_nearest(alias.name, known))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                full = f"{base}.{alias.name}"
                edges.add(full if full in known else _nearest(base, known))
    edges.discard("")
    edges.discard(name)
    return edges


def _nearest(dotted: str, known: set[str]) -> str:
    """``seamlab.grading.engine.grade`` -> the longest prefix that is a module ('' if none)."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return ""


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, group) for group in groups]


def _one_cycle(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """The shortest way from the group's first module back to itself, inside the group."""
    start = min(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    return sorted(group)


def test_the_import_graph_of_seamlab_has_no_cycle():
    found = cycles(import_graph())

    assert found == [], "import cycles (a module imports one that imports it back):\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in found)


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import(tmp_path):
    package = tmp_path / "seamlab"
    (package / "grading").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "grading" / "__init__.py").write_text("")
    (package / "grading" / "engine.py").write_text("from seamlab.grading import outcome\n")
    (package / "grading" / "outcome.py").write_text(
        "def later():\n    from . import engine\n")
    (package / "grading" / "alone.py").write_text("import seamlab.grading.outcome\n")
    found = modules(package)
    graph = {name: imports_of(name, path, set(found)) for name, path in found.items()}

    assert cycles(graph) == [["seamlab.grading.engine", "seamlab.grading.outcome",
                              "seamlab.grading.engine"]]
