"""What a grading run returns: plain data that serialises to JSON and back.

The CLI renders it, the notebook API prints a stable summary of it, and the instructor
autograder stores it. Nothing here runs anything.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

VERDICTS = ("passed", "failed", "learner_error", "timed_out", "infra_error")
OUTCOMES = ("passed", "failed", "error", "timeout", "infra")


@dataclass(frozen=True)
class TestOutcome:
    """One hidden test (or one collection problem) as the learner should see it."""

    __test__ = False  # not a pytest test class, despite the name

    nodeid: str
    name: str
    outcome: str  # one of OUTCOMES
    seam: bool = False
    message: str = ""
    location: str | None = None  # "validation.py:12", relative to the learner's folder
    duration: float = 0.0

    @property
    def first_line(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


@dataclass(frozen=True)
class MutantOutcome:
    """One planted fault of a write-tests exercise, and whether the learner's tests caught it."""

    name: str
    description: str
    caught: bool
    #: For a fault that got through: which of the learner's tests ran against it, how they
    #: ended, and what a test must look at to catch it ('' for a caught fault).
    detail: str = ""


@dataclass
class GradeResult:
    exercise: str
    target: str
    verdict: str  # one of VERDICTS
    summary: str
    tests: list[TestOutcome] = field(default_factory=list)
    mutants: list[MutantOutcome] = field(default_factory=list)
    score: int = 0
    max_score: int = 0
    duration: float = 0.0
    #: Seconds spent in each phase (services, database, subprocess, cleanup): for profiling.
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def counts_against_learner(self) -> bool:
        """Infrastructure trouble is never the learner's fault."""
        return self.verdict != "infra_error"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        values = dict(data)
        values["tests"] = [TestOutcome(**t) for t in values.get("tests", [])]
        values["mutants"] = [MutantOutcome(**m) for m in values.get("mutants", [])]
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> GradeResult:
        return cls.from_dict(json.loads(text))
