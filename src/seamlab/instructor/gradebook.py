"""The gradebook: the model of a class's results, built only from the stored results.

Nothing here writes a file: ``instructor.outputs`` writes the CSV, the JSON, the feedback and
the report from a ``Gradebook``, and ``feedback``/``report`` render it. Deterministic on purpose
(sorted learners, exercises in course order, no timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seamlab.course import Course, Exercise
from seamlab.instructor import store


@dataclass
class Gradebook:
    course: Course
    exercises: list[Exercise]
    learners: list[str]
    cells: dict[tuple[str, str], store.Record]

    @property
    def max_total(self) -> int:
        return sum(ex.points for ex in self.exercises)

    def record(self, learner: str, slug: str) -> store.Record | None:
        return self.cells.get((learner, slug))

    def score(self, learner: str, slug: str) -> int:
        record = self.record(learner, slug)
        return record.result.score if record else 0

    def total(self, learner: str) -> int:
        return sum(self.score(learner, ex.slug) for ex in self.exercises)


def status(record: store.Record | None) -> str:
    """passed, failed, learner_error, timed_out, infra_error, missing, or pending."""
    if record is None:
        return "pending"
    if store.digest(None) == record.digest:
        return "missing"
    return record.result.verdict


def build(course: Course, out: Path) -> Gradebook:
    records = store.load_all(out)
    graded = {r.exercise for r in records}
    exercises = [ex for ex in course.exercises if ex.slug in graded]
    cells = {(r.learner, r.exercise): r for r in records}
    learners = sorted({r.learner for r in records})
    return Gradebook(course, exercises, learners, cells)
