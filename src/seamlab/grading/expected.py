"""The hidden tests an exercise has, known to the grader without importing anything.

Read from the test files' syntax (``test_*.py``, top-level ``test_*`` functions and
``Test*`` classes' ``test_*`` methods, as the grader's pytest.ini collects them), so learner
code never runs to produce the list. A passing report must name exactly these tests.
"""

from __future__ import annotations

import ast
from pathlib import Path


def hidden_tests(folder: Path) -> list[str] | None:
    """``["test_a.py::test_x", "test_a.py::TestB::test_y", ...]``; None when unreadable."""
    names: list[str] = []
    try:
        files = sorted(Path(folder).glob("test_*.py"))
        for path in files:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            off = _switched_off(tree)
            for node in tree.body:
                if _is_test(node, "test_") and node.name not in off:
                    names.append(f"{path.name}::{node.name}")
                elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                    names += [f"{path.name}::{node.name}::{item.name}" for item in node.body
                              if _is_test(item, "test_")]
    except (OSError, SyntaxError, ValueError):
        return None
    return names


def _is_test(node: ast.AST, prefix: str) -> bool:
    return (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith(prefix))


def _switched_off(tree: ast.Module) -> set[str]:
    """Names set ``name.__test__ = False`` at module level: helpers pytest does not collect."""
    off = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and node.value.value is False:
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "__test__" \
                        and isinstance(target.value, ast.Name):
                    off.add(target.value.id)
    return off
