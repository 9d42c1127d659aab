"""``grade()``: one isolated, bounded grade of an exercise against a folder.

The shared run (limits, phases, private state, the child pytest, the verdict of a run) is
``grading.job``'s; what the runs are and what they mean is the exercise's kind's
(``grading.kinds``: fix, write-tests, fix-and-write-tests), picked by ``kind`` in course.toml.
Phases (timed in ``GradeResult.phases``): check the services, then the kind's runs, each on a
private database cloned from the template and a leased Redis database, released in
``finally`` blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from seamlab.config import Settings
from seamlab.errors import ServiceUnavailable
from seamlab.grading import kinds, outcome, runner
from seamlab.grading.job import (
    DB_PREFIX,
    DEFAULT_MEMORY_MB,
    DEFAULT_TEST_TIMEOUT,
    Graded,
    Job,
    Phases,
    probe_before,
    services_for,
    wall_limit,
)
from seamlab.grading.kinds.fix import summarize
from seamlab.grading.results import GradeResult, TestOutcome

if TYPE_CHECKING:
    from seamlab.course import Exercise

__all__ = ["DB_PREFIX", "DEFAULT_MEMORY_MB", "DEFAULT_TEST_TIMEOUT", "grade", "iter_failures",
           "run_visible", "summarize"]


def grade(
    exercise: Exercise,
    target: Path | None = None,
    junit: Path | None = None,
    timeout: float | None = None,
    *,
    settings: Settings | None = None,
    wall_timeout: float | None = None,
) -> GradeResult:
    """Grade ``target`` (default: the learner's ``exercises/<slug>``) and return the result.

    ``timeout`` is the limit per test (and per test-module import), in seconds.
    ``wall_timeout`` bounds the whole child process (default: a generous multiple).
    """
    kind = kinds.for_exercise(exercise)
    job = Job.start(exercise, target, junit=junit, timeout=timeout, settings=settings,
                    wall_timeout=wall_timeout)
    if not job.target.is_dir():
        return job.finish(Graded(
            "learner_error", f"{job.slug}: your code raised an error. There is no folder "
            f"{job.target}. Fix: `seamlab reset {exercise.id}` restores the starter code."))
    try:
        probe_before(job.settings, services_for(exercise))
        job.phases.mark("services")
        graded = kind.grade(job)
    except ServiceUnavailable as error:
        graded = Graded("infra_error", summarize(job.slug, "infra_error", [], str(error)))
    return job.finish(graded)


def run_visible(exercise: Exercise, target: Path | None = None,
                timeout: float | None = None) -> GradeResult:
    """Run the learner's own (visible) unit tests in ``target/tests``, as the learner would.

    Their conftest.py and pytest configuration *are* used here: these are their tests.
    """
    import time

    started = time.perf_counter()
    target = Path(target or exercise.folder).resolve()
    per_test = timeout or DEFAULT_TEST_TIMEOUT
    phases = Phases()
    spec = runner.RunSpec(paths=[target / "tests"], target=target, rootdir=target,
                          per_test_timeout=per_test, wall_timeout=wall_limit(per_test, None),
                          isolated=False, sealed=False)
    child = runner.run(spec)
    phases.mark("child")
    decision = outcome.decide(child, spec.wall_timeout)
    return GradeResult(
        exercise=exercise.slug, target=str(target), verdict=decision.verdict,
        summary=summarize(exercise.slug, decision.verdict, decision.tests, decision.headline,
                          "visible"),
        tests=decision.tests, score=exercise.points if decision.verdict == "passed" else 0,
        max_score=exercise.points, duration=round(time.perf_counter() - started, 4),
        phases=phases.times)


def iter_failures(result: GradeResult) -> Iterator[TestOutcome]:
    return (t for t in result.tests if t.outcome != "passed")
