"""A check's verdict in a notebook: the terminal's words as HTML, laid out the same on every run.

nbval compares a check cell's HTML with the stored one after ``notebooks/sanitize.cfg`` has
rewritten the duration; the layout must therefore not depend on how long grading took (a longer
number must not push a word onto the next line).
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from seamlab import course, notebook, paths, render
from seamlab.grading.results import GradeResult, MutantOutcome, TestOutcome

COURSE = course.load(paths.project_root())
SANITIZE = Path(__file__).resolve().parents[1] / "notebooks" / "sanitize.cfg"


def sanitized(text: str) -> str:
    rules = configparser.ConfigParser()
    rules.read(SANITIZE)
    for section in rules.sections():
        text = re.sub(rules[section]["regex"], rules[section]["replace"], text)
    return text


def passed_html(exercise: course.Exercise, duration: float) -> str:
    tests = [TestOutcome(nodeid=f"t::{i}", name=f"test_{i}", outcome="passed") for i in range(17)]
    mutants = [MutantOutcome(f"m{i}", "a fault", True) for i in range(8)]
    result = GradeResult(exercise=exercise.slug, target="t", verdict="passed", summary="",
                         tests=tests, mutants=mutants if exercise.is_write_tests else [],
                         score=exercise.points, max_score=exercise.points, duration=duration)
    console = notebook.verdict_console()
    last = exercise == COURSE.exercises[-1]
    render.grade_result(console, exercise, result, hints_revealed=0,
                        next_exercise=None if last else COURSE.exercises[-1])
    return notebook.html(console)


@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.id)
def test_a_passing_verdict_is_laid_out_the_same_however_long_grading_took(exercise):
    layouts = {sanitized(passed_html(exercise, seconds)) for seconds in (0.04, 3.2, 12.5, 250.0)}

    assert len(layouts) == 1, "\n---\n".join(sorted(layouts))
