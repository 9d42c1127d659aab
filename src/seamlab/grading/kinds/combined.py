"""``kind = "fix-and-write-tests"``: repair the code and write the tests that would have caught
the mistakes; each part is graded by its own kind, in its own runs.

The hidden tests run against the learner's code (``fix``), and the learner's test files against
the correct system and the planted faults (``write-tests``). The verdict is the more serious of
the two; the points are all or nothing, as for a fix. The two parts run side by side. ``tests`` holds the hidden tests first,
then the learner's own (their node ids start with one of the exercise's ``tests`` files).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

from seamlab.grading.job import Graded, Job, Phases, most_serious
from seamlab.grading.kinds.fix import Fix
from seamlab.grading.kinds.write_tests import WriteTests


class FixAndWriteTests:
    name = "fix-and-write-tests"

    def __init__(self) -> None:
        self.parts = (Fix(), WriteTests(junit=False))  # the JUnit report: the hidden tests'

    def grade(self, job: Job) -> Graded:
        """Both parts at once (their runs are independent, each on its own private state),
        each timed on its own; their phases are added up after."""
        jobs = [dataclasses.replace(job, phases=Phases()) for _ in self.parts]
        with ThreadPoolExecutor(max_workers=len(self.parts),
                                thread_name_prefix="seamlab-part") as pool:
            fixed, tested = pool.map(lambda pair: pair[0].grade(pair[1]), zip(self.parts, jobs))
        for part in jobs:
            job.phases.add(part.phases)
        verdict = most_serious(fixed.verdict, tested.verdict)
        return Graded(verdict, join(job.slug, fixed.summary, tested.summary),
                      [*fixed.tests, *tested.tests], tested.mutants,
                      score=job.exercise.points if verdict == "passed" else 0)


def join(slug: str, first: str, second: str) -> str:
    """``"02-x: all 3 hidden tests pass." + "02-x: your tests ..."`` -> one line, one slug."""
    rest = second.removeprefix(f"{slug}: ").strip()
    first = first.strip()
    if first and first[-1] not in ".!?":
        first += "."
    return f"{first} {rest[:1].upper()}{rest[1:]}".strip()
