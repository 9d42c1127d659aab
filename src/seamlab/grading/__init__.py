"""The grading engine: isolated, bounded runs of hidden tests, results as data.

    from seamlab.grading import grade
    result = grade(exercise)                 # exercises/<slug>, or target=Path(...)
    result.verdict, result.summary, result.tests, result.to_json()

See docs/AUTHORING.md for the contract with the pytest plugin and the exercises.
"""

from seamlab.grading.engine import grade, run_visible
from seamlab.grading.results import GradeResult, MutantOutcome, TestOutcome

__all__ = ["GradeResult", "MutantOutcome", "TestOutcome", "grade", "run_visible"]
