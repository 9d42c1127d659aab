"""Planted faults: the one format (``src/seamlab/mutants/<slug>/*.py``) and how one is laid.

A planted fault is a copy of one module of the correct system with one realistic mistake::

    # mutates: users_repo.py
    # tests: tests/test_repository_layer.py        (optional: which of the learner's files)
    \"\"\"One line naming the mistake: shown to the learner when their tests miss it.

    Optional paragraphs after it: what a test should look at to catch it (shown too).
    \"\"\"

``# mutates`` names the module it replaces (relative to the system folder); ``# tests`` lists
the learner's test files that must catch it (default: all the exercise's ``tests``). Grading
with the faults is the write-tests kind's (``grading.kinds.write_tests``); this module only
reads and lays them, so it imports nothing of the grader.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seamlab.errors import SeamlabError

if TYPE_CHECKING:
    from seamlab.course import Exercise


class MutantError(SeamlabError):
    """A planted-fault file is malformed (an authoring mistake, caught by the invariants)."""


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    mutates: str  # path of the module it replaces, relative to the system folder
    path: Path
    #: The learner's test files run against it (empty: all of the exercise's ``tests``).
    tests: tuple[str, ...] = ()
    #: What a test must look at to catch it (the docstring after its first line), or ''.
    advice: str = ""

    def lay(self, system: Path) -> None:
        """Replace the module it names in ``system`` (a copy of the correct system)."""
        shutil.copyfile(self.path, system / self.mutates)


def load_mutants(exercise: Exercise) -> list[Mutant]:
    """Every ``*.py`` in the exercise's mutants folder, sorted by name."""
    folder = exercise.mutants_dir
    if not folder.is_dir():
        return []
    return [read_mutant(path) for path in sorted(folder.glob("*.py"))]


def read_mutant(path: Path) -> Mutant:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    first = lines[0] if lines else ""
    if not first.startswith("# mutates:"):
        raise MutantError(f"{path}: the first line must be '# mutates: <module>.py'.")
    mutates = first.split(":", 1)[1].strip()
    tests: tuple[str, ...] = ()
    if len(lines) > 1 and lines[1].startswith("# tests:"):
        tests = tuple(lines[1].split(":", 1)[1].split())
        if not tests:
            raise MutantError(f"{path}:2: '# tests:' names no test file.")
    try:
        docstring = ast.get_docstring(ast.parse(text)) or ""
    except SyntaxError as error:
        raise MutantError(f"{path}:{error.lineno}: not valid Python ({error.msg}).") from None
    if not docstring.strip():
        raise MutantError(f"{path}: needs a one-line docstring naming the mistake.")
    first_line, _, rest = docstring.strip().partition("\n")
    advice = " ".join(rest.split())
    return Mutant(name=path.stem, description=first_line.strip(), mutates=mutates, path=path,
                  tests=tests, advice=advice)
