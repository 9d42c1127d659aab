"""``kind = "fix"``: the exercise's hidden tests run against the learner's code.

One isolated run of ``src/seamlab/hidden/<slug>/`` with the learner's folder as the code under
test; every hidden test must pass. Points: all or nothing.
"""

from __future__ import annotations

from seamlab.errors import ServiceUnavailable
from seamlab.grading.expected import hidden_tests
from seamlab.grading.job import Graded, Job
from seamlab.grading.results import TestOutcome


class Fix:
    name = "fix"

    def grade(self, job: Job) -> Graded:
        hidden = job.exercise.hidden_dir
        spec = job.spec([hidden], job.target, hidden, expected=hidden_tests(hidden),
                        junit=job.junit)
        decision = job.run(spec)
        if decision.verdict in ("learner_error", "failed") and _has_errors(decision.tests):
            # A service that went away mid-run makes the learner's code raise: not their fault.
            try:
                job.probe(timeout=0.5)
            except ServiceUnavailable as error:
                return Graded("infra_error", summarize(job.slug, "infra_error", decision.tests,
                                                       str(error)), decision.tests)
        verdict = decision.verdict
        return Graded(verdict, summarize(job.slug, verdict, decision.tests, decision.headline),
                      decision.tests, score=job.exercise.points if verdict == "passed" else 0)


def _has_errors(tests: list[TestOutcome]) -> bool:
    return any(t.outcome == "error" for t in tests)


def summarize(slug: str, verdict: str, tests: list[TestOutcome], headline: str,
              noun: str = "hidden") -> str:
    """One line for humans; no durations, ports of private state or ids, so it is stable."""
    first = headline.strip().splitlines()[0] if headline.strip() else ""
    total = len(tests)
    if verdict == "passed":
        return f"{slug}: all {total} {noun} tests pass."
    if verdict == "failed":
        failing = [t for t in tests if t.outcome == "failed"]
        return (f"{slug}: {len(failing)} of {total} {noun} tests fail. "
                f"{failing[0].name}: {failing[0].first_line}")
    if verdict == "learner_error":
        culprit = next((t for t in tests if t.outcome == "error"), None)
        where = f" at {culprit.location}" if culprit and culprit.location else ""
        return f"{slug}: your code raised an error{where}. {first}"
    if verdict == "timed_out":
        return f"{slug}: timed out. {first}"
    return f"{slug}: could not grade (not counted against you). {first}"
