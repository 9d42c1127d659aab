"""``seamlab.check("01")`` for notebooks: grade an exercise and print a short, stable summary.

The summary has no durations, database names, ports of private state or ids, so the same code
prints the same text on every run and nbval can compare a cell's output with the stored one.

``SEAMLAB_TARGET`` chooses what is graded: ``exercises`` (default, the learner's work),
``solutions`` (our CI: the notebooks must pass against the reference solutions), or a path.
"""

from __future__ import annotations

import os
from pathlib import Path

from seamlab.grading.results import GradeResult

TARGET_ENV = "SEAMLAB_TARGET"


def resolve_target(exercise, target: str | Path | None = None) -> Path:
    """The folder to grade: ``target``, else ``$SEAMLAB_TARGET``, else ``exercises/<slug>``."""
    choice = str(target) if target is not None else os.environ.get(TARGET_ENV, "exercises")
    if choice in ("", "exercises"):
        return exercise.folder
    if choice == "solutions":
        return exercise.solution_folder
    path = Path(choice).expanduser()
    # A folder holding every exercise (like exercises/) or one exercise's folder.
    return path / exercise.slug if (path / exercise.slug).is_dir() else path


def render(result: GradeResult) -> str:
    """The stable text printed in a notebook (also useful anywhere a short report fits)."""
    slug = result.exercise
    if result.mutants:
        caught = sum(m.caught for m in result.mutants)
        lines = [f"{slug}: your tests catch {caught}/{len(result.mutants)} planted faults."]
        lines += [f"  - missed: {m.description}" for m in result.mutants if not m.caught]
        return "\n".join(lines)
    if result.verdict in ("passed", "failed") and result.tests:
        passing = sum(t.outcome == "passed" for t in result.tests)
        total = len(result.tests)
        if result.verdict == "passed":
            return f"{slug}: {passing}/{total} hidden tests pass — seam repaired."
        lines = [f"{slug}: {passing}/{total} hidden tests pass."]
        lines += [f"  - {t.name}: {t.first_line}" for t in result.tests if t.outcome != "passed"]
        return "\n".join(lines)
    return result.summary


def check(ref: str, target: str | Path | None = None) -> bool:
    """Grade exercise ``ref`` ("01", "1" or the slug), print the summary, return passed."""
    from seamlab import course
    from seamlab.grading import grade

    exercise = course.load().exercise(str(ref))
    result = grade(exercise, target=resolve_target(exercise, target))
    print(render(result))
    return result.passed
