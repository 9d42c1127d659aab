"""`seamlab check` output is product copy: it must read well at any terminal width."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from seamlab import course, paths, render
from seamlab.grading.results import GradeResult, MutantOutcome, TestOutcome

COURSE = course.load(paths.project_root())
LONG = (
    "The form said 3 April 1990 (03/04/1990), but the row in Postgres says 1990-03-04: the day "
    "and month were swapped on the way in. Expected: the member is stored with that birth date."
)


def rendered(result: GradeResult, exercise: course.Exercise, width: int) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False)
    render.grade_result(console, exercise, result, hints_revealed=0)
    return buffer.getvalue()


@pytest.mark.parametrize("width", [60, 80, 200])
def test_failure_output_has_no_trailing_spaces_at_any_width(width):
    exercise = COURSE.exercise("01")
    result = GradeResult(
        exercise=exercise.slug, target="t", verdict="failed", summary="", max_score=10,
        tests=[TestOutcome(nodeid="a::b", name="test_a_date_like_03_04_keeps_its_day",
                           outcome="failed", seam=True, message=LONG,
                           location="validation.py:12")],
    )

    text = rendered(result, exercise, width)

    assert "day and month were swapped" in " ".join(text.split())
    assert "seamlab hint 01" in text
    assert [line for line in text.splitlines() if line != line.rstrip()] == []
    assert max(len(line) for line in text.splitlines()) <= width


def test_write_tests_output_names_every_fault_the_tests_let_through():
    exercise = next(e for e in COURSE.exercises if e.kind == "write-tests")
    result = GradeResult(
        exercise=exercise.slug, target="t", verdict="failed", summary="", max_score=10, score=5,
        mutants=[MutantOutcome("echo", "The password is echoed in the response", False),
                 MutantOutcome("case", "The duplicate check is case-sensitive", True)],
    )

    text = " ".join(rendered(result, exercise, 100).split())

    assert "The password is echoed in the response" in text
    assert "1 of 2" in text
