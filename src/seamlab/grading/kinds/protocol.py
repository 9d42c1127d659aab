"""What a kind of exercise is to the grader: one strategy for deciding a folder's grade.

The shared run (limits, phases, private state, the child pytest, the verdict of one run) is the
``Job``'s (``grading.job``); a kind only says which runs to make and what they mean.
"""

from __future__ import annotations

from typing import Protocol

from seamlab.grading.job import Graded, Job


class Kind(Protocol):
    #: The name ``kind = "..."`` gives it in course.toml.
    name: str

    def grade(self, job: Job) -> Graded:
        """Grade ``job.target``. May raise ServiceUnavailable (the engine makes that an
        infra_error: never counted against the learner)."""
        ...
