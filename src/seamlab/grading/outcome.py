"""Turn what a child run left behind into a verdict, without trusting the JSON alone.

A learner's code can end the process (``os._exit(0)`` at import), loop forever, or crash the
interpreter. Each leaves a recognisable trace: no report, an unfinished report, a wall-clock
kill. Only a report the reporter marked ``finished`` can say "passed".
"""

from __future__ import annotations

from dataclasses import dataclass

from seamlab.grading.results import TestOutcome
from seamlab.grading.runner import ChildRun

# Most serious first: the verdict is the first that applies.
_VERDICT_OF_OUTCOME = (("infra", "infra_error"), ("timeout", "timed_out"),
                       ("error", "learner_error"), ("failed", "failed"))


@dataclass
class Decision:
    verdict: str
    tests: list[TestOutcome]
    #: The one thing to tell the learner first (message of the most serious outcome).
    headline: str
    #: The run finished cleanly but collected no test at all.
    no_tests: bool = False


def decide(run: ChildRun, wall_timeout: float) -> Decision:
    report = run.report
    tests = [TestOutcome(**t) for t in (report or {}).get("tests", [])]
    current = (report or {}).get("current")

    if run.wall_timed_out:
        what = f"the test {_short(current)}" if current else "importing your code"
        message = (f"The whole check was stopped after {wall_timeout:g} s: {what} did not "
                   "finish (an infinite loop that catches every exception, or a call that "
                   "never returns?).")
        tests = _mark(tests, current, "timeout", message)
        return Decision("timed_out", tests, message)

    if report is None:
        if run.returncode == 0 or "while loading conftest" in run.stderr_tail:
            message = ("Your code stopped the test run before it started (sys.exit or "
                       "os._exit at import time?). " + _last_line(run.stderr_tail))
            return Decision("learner_error", tests, message.strip())
        message = (f"The grading subprocess failed to start (exit code {run.returncode}): "
                   f"{_last_line(run.stderr_tail) or 'no output'}. Fix: reinstall seamlab "
                   "(pip install -e .) and run `seamlab doctor`.")
        return Decision("infra_error", tests, message)

    if not report.get("finished"):
        when = f"during {_short(current)}" if current else "while your code was being imported"
        code = run.returncode
        how = (f"killed by signal {-code}" if code is not None and code < 0
               else f"exit code {code}")
        message = (f"Your code stopped the test run {when} ({how}): a sys.exit() or "
                   "os._exit() call, or a crash of the interpreter?")
        tests = _mark(tests, current, "error", message)
        if not current and not any(t.outcome != "passed" for t in tests):
            tests.append(TestOutcome(nodeid="<session>", name="running the tests",
                                     outcome="error", message=message))
        return Decision("learner_error", tests, message)

    for outcome, verdict in _VERDICT_OF_OUTCOME:
        first = next((t for t in tests if t.outcome == outcome), None)
        if first is not None:
            return Decision(verdict, tests, first.message)
    if not tests:
        return Decision("infra_error", tests,
                        "No hidden tests were found for this exercise. Fix: reinstall seamlab.",
                        no_tests=True)
    problem = disagreement(run, report, tests)
    if problem:
        message = ("The test results were tampered with, so this run scores 0: " + problem
                   + ". Your code must not write the grader's report or change pytest's "
                   "results.")
        tests = [*tests, TestOutcome(nodeid="<report>", name="checking the test report",
                                     outcome="error", message=message)]
        return Decision("learner_error", tests, message)
    return Decision("passed", tests, "")


def base_name(nodeid: str) -> str:
    """``test_x.py::test_y[case]`` -> ``test_x.py::test_y``: what a parametrised test is."""
    return nodeid.split("[", 1)[0]


def disagreement(run: ChildRun, report: dict, tests: list[TestOutcome]) -> str:
    """Why a report that says "all passed" is not to be believed ('' when it is).

    The report travels on a channel the child cannot replace, but code in the child's process
    can still write to it; so a passing report must also agree with what pytest itself
    says (its exit status, its JUnit report) and with the tests the parent knows exist.
    """
    if run.returncode != 0:
        return f"the report says every test passed, but pytest exited with {run.returncode}"
    if report.get("exitstatus") != 0:
        return f"the report says every test passed, but also exit status {report.get('exitstatus')}"
    if run.junit is None:
        return "pytest's own JUnit report is missing"
    junit = {(case.name, case.outcome) for case in run.junit}
    if len(run.junit) != len(tests) or junit != {(t.name, "passed") for t in tests}:
        counts = f"{len(run.junit)} in pytest's JUnit report, {len(tests)} in the report"
        return f"the report and pytest's JUnit report list different tests ({counts})"
    if run.expected is not None:
        reported = sorted({base_name(t.nodeid) for t in tests})
        expected = sorted(set(run.expected))
        if reported != expected:
            missing = [name for name in expected if name not in reported]
            extra = [name for name in reported if name not in expected]
            detail = "; ".join(filter(None, [
                f"missing {', '.join(missing[:3])}" if missing else "",
                f"unknown {', '.join(extra[:3])}" if extra else ""]))
            return f"the report does not list the exercise's hidden tests ({detail})"
    return ""


def _mark(tests: list[TestOutcome], nodeid: str | None, outcome: str,
          message: str) -> list[TestOutcome]:
    """The test that was running when the child died gets the blame, not a silent pass."""
    if not nodeid:
        return tests
    known = [t for t in tests if t.nodeid == nodeid]
    rest = [t for t in tests if t.nodeid != nodeid]
    if known and known[0].outcome != "passed":
        return tests
    seam = known[0].seam if known else False
    return [*rest, TestOutcome(nodeid=nodeid, name=_short(nodeid), outcome=outcome,
                               seam=seam, message=message)]


def _short(nodeid: str | None) -> str:
    return (nodeid or "").rsplit("::", 1)[-1]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
