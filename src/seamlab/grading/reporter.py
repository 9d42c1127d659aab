"""pytest plugin loaded into the grading subprocess (``-p seamlab.grading.reporter``).

It records, for every hidden test, what the learner needs to know: the outcome, the assertion
message the hidden test wrote for them, the deepest place in *their* folder where an error came
from (``validation.py:12``), and whether the test pins the seam. Results are appended as JSON
lines to the descriptor numbered in ``SEAMLAB_REPORT_FD`` (a file the grader created and
opened O_APPEND; its folder is the grader's) after every test, so a run that dies half way
still says how far it got. The grader never trusts this file alone (see ``outcome.py``).

It also bounds the time spent importing each test module: an infinite loop at import time in
the learner's code happens during collection, where pytest-timeout does not reach.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from seamlab.errors import ServiceUnavailable
from seamlab.grading.protocol import IMPORT_TIMEOUT_ENV, MEMORY_ENV, REPORT_FD_ENV, TARGET_ENV

TIMEOUT_PREFIX = "Timeout (>"

_recorder_key = pytest.StashKey["_Recorder"]()


class ImportTookTooLong(BaseException):
    """Raised by SIGALRM when importing a test module (and the learner code it imports) hangs."""


class _Recorder:
    def __init__(self, fd: int, target: Path | None) -> None:
        self.fd = fd
        self.target = target
        self.tests: dict[str, dict[str, Any]] = {}
        self.current: str | None = None
        self.collected = 0
        self.finished = False
        self.exitstatus: int | None = None
        #: The test whose timeout stopped the run; the tests after it are not run.
        self.stopped_by: str | None = None

    def record_not_run(self, items: list[pytest.Item]) -> None:
        for item in items:
            if item.nodeid not in self.tests:
                self.tests[item.nodeid] = {
                    "nodeid": item.nodeid, "name": item.name, "outcome": "timeout",
                    "seam": item.get_closest_marker("seam") is not None, "location": None,
                    "duration": 0.0,
                    "message": f"Not run: {self.stopped_by} timed out before it, and a hang "
                    "in your code would make every test after it wait out its limit too.",
                }

    # --- classification ----------------------------------------------------------------
    def classify(self, excinfo: pytest.ExceptionInfo[BaseException], when: str) -> dict[str, Any]:
        chain = _chain(excinfo.value)
        service = next((e for e in chain if isinstance(e, ServiceUnavailable)), None)
        if service is not None:
            return {"outcome": "infra", "message": str(service), "location": None}
        root = _root_cause(excinfo.value)
        location = self.learner_location(root)
        message = _message(excinfo.value)
        if isinstance(root, ImportTookTooLong) or message.startswith(TIMEOUT_PREFIX):
            if isinstance(root, ImportTookTooLong):
                seconds = root.args[1] if len(root.args) > 1 else None
            else:
                seconds = message[len(TIMEOUT_PREFIX):].split("s)")[0]
            where = f" It was still running at {location}." if location else ""
            what = f"took longer than {float(seconds):g} s" if seconds else "did not finish"
            return {
                "outcome": "timeout",
                "message": f"This {'import' if when == 'collect' else 'test'} {what}: an "
                f"infinite loop, or a call that waits forever?{where}",
                "location": location,
            }
        if isinstance(root, MemoryError):
            limit = os.environ.get(MEMORY_ENV)
            amount = f"more than {limit} MB" if limit else "more memory than allowed"
            where = f" at {location}" if location else ""
            return {"outcome": "error", "location": location,
                    "message": f"Your code used {amount}{where} (MemoryError: the run's memory "
                    "limit). A list or string growing without end, or one far bigger than "
                    "needed?"}
        if when == "call" and isinstance(root, (AssertionError, pytest.fail.Exception)):
            return {"outcome": "failed", "message": message, "location": location}
        if isinstance(root, SyntaxError) and not isinstance(root, ImportError):
            detail = f"{type(root).__name__}: {root.msg}"
            return {"outcome": "error", "message": detail, "location": location}
        if root is not excinfo.value or not isinstance(root, (AssertionError, pytest.fail.Exception)):
            message = f"{type(root).__name__}: {root}"
        return {"outcome": "error", "message": message + _advice(message), "location": location}

    def learner_location(self, error: BaseException) -> str | None:
        """file:line of the deepest traceback entry inside the learner's folder."""
        if self.target is None:
            return None
        for exc in _chain(error):
            if isinstance(exc, SyntaxError) and exc.filename:
                rel = self._relative(exc.filename)
                if rel:
                    return f"{rel}:{exc.lineno}"
            found = None
            tb = exc.__traceback__
            while tb is not None:
                rel = self._relative(tb.tb_frame.f_code.co_filename)
                if rel:
                    found = f"{rel}:{tb.tb_lineno}"
                tb = tb.tb_next
            if found:
                return found
        return None

    def _relative(self, filename: str) -> str | None:
        try:
            path = Path(filename).resolve()
        except (OSError, ValueError):
            return None
        assert self.target is not None
        if path == self.target or self.target not in path.parents:
            return None
        return path.relative_to(self.target).as_posix()

    # --- recording -----------------------------------------------------------------------
    def record_phase(self, item: pytest.Item, report: pytest.TestReport,
                     excinfo: pytest.ExceptionInfo[BaseException] | None) -> None:
        entry = self.tests.setdefault(item.nodeid, {
            "nodeid": item.nodeid,
            "name": item.name,
            "outcome": "passed",
            "seam": item.get_closest_marker("seam") is not None,
            "message": "",
            "location": None,
            "duration": 0.0,
        })
        entry["duration"] = round(entry["duration"] + report.duration, 4)
        if report.skipped and entry["outcome"] == "passed":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            entry.update(outcome="infra", message=f"Not run: {reason}")
        elif report.failed and excinfo is not None and entry["outcome"] == "passed":
            entry.update(self.classify(excinfo, report.when))

    def record_collect_error(self, nodeid: str, excinfo: pytest.ExceptionInfo[BaseException]):
        verdict = self.classify(excinfo, "collect")
        name = f"importing {nodeid.rsplit('/', 1)[-1] or 'the tests'}"
        self.tests[nodeid or "<collect>"] = {"nodeid": nodeid, "name": name, "seam": False,
                                             "duration": 0.0, **verdict}

    def record_exit_at_import(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        value = excinfo.value
        location = self.learner_location(value)
        where = f" at {location}" if location else ""
        if isinstance(value, SystemExit):
            message = (f"Your code called sys.exit({value.code!r}){where} while it was being "
                       "imported, which stops the test run. Remove the call from module level.")
        else:
            message = f"{type(value).__name__}: {value}{where}"
        self.tests["<session>"] = {"nodeid": "<session>", "name": "running the tests",
                                   "outcome": "error", "seam": False, "message": message,
                                   "location": location, "duration": 0.0}

    def write(self) -> None:
        data = {
            "version": 1,
            "finished": self.finished,
            "exitstatus": self.exitstatus,
            "collected": self.collected,
            "current": self.current,
            "tests": list(self.tests.values()),
        }
        line = (json.dumps(data) + "\n").encode("utf-8")
        try:
            os.write(self.fd, line)  # one write, O_APPEND: a snapshot is whole or absent
        except OSError:
            pass


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        exc = todo.pop(0)
        if exc is None or any(exc is s for s in seen):
            continue
        seen.append(exc)
        todo.append(exc.__cause__)  # type: ignore[arg-type]
        if not exc.__suppress_context__:  # `raise ... from None` hides the context on purpose
            todo.append(exc.__context__)  # type: ignore[arg-type]
    return seen


def _advice(message: str) -> str:
    """A next step for errors that the grading sandbox itself causes on purpose."""
    lowered = message.lower()
    if "no permissions to run the" in lowered:
        return (" (a grading run may only touch its own Redis database: FLUSHALL, SWAPDB, "
                "MOVE and server commands are refused; use FLUSHDB)")
    if "must be owner of database" in lowered or "permission denied to" in lowered:
        return " (a grading run may only change its own database)"
    return ""


def _root_cause(error: BaseException) -> BaseException:
    """pytest wraps import problems in CollectError; the learner wants the original."""
    if isinstance(error, pytest.Collector.CollectError) and error.__cause__ is not None:
        return error.__cause__
    return error


def _message(error: BaseException) -> str:
    if isinstance(error, pytest.fail.Exception):
        return str(error.msg)
    return str(error)


def _recorder(config: pytest.Config) -> _Recorder | None:
    return config.stash.get(_recorder_key, None)


# --- hooks -------------------------------------------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    # Popped so that learner code does not stumble on it (it is not a secret: see SECURITY.md).
    fd_text = os.environ.pop(REPORT_FD_ENV, None)
    if not fd_text or not fd_text.isdigit():
        return
    fd = int(fd_text)
    try:
        os.set_inheritable(fd, False)  # nested runs the hidden tests start do not get it
    except OSError:
        return
    target_text = os.environ.get(TARGET_ENV)
    target = Path(target_text).resolve() if target_text else None
    if target is not None and str(target) not in sys.path:
        sys.path.insert(0, str(target))
    config.addinivalue_line("markers", "seam: the test that pins the exercise's seam")
    recorder = _Recorder(fd, target)
    config.stash[_recorder_key] = recorder
    recorder.write()


class _BudgetedModule(pytest.Module):
    """A test module whose import (and the learner code it imports) has a time budget.

    The alarm covers the import alone: armed around the whole collect report it also fired
    while pytest was formatting an import error (slowly, beside a fork bomb's spinning
    children), escaped pytest as an internal error, and was reported as a crash instead of a
    timeout.
    """

    def _getobj(self):
        budget = float(os.environ.get(IMPORT_TIMEOUT_ENV, "0") or 0)
        if budget <= 0:
            return super()._getobj()

        def on_alarm(signum, frame):
            raise ImportTookTooLong(f"importing {self.name} took too long", f"{budget:g}")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            return super()._getobj()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector):
    if _recorder(parent.config) is None:
        return None
    return _BudgetedModule.from_parent(parent, path=module_path)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    recorder = _recorder(collector.config)
    if recorder is not None:
        call = report.__dict__.get("call")
        if report.failed and call is not None and call.excinfo is not None:
            recorder.record_collect_error(report.nodeid, call.excinfo)
            recorder.write()
    return report


def pytest_collection_finish(session: pytest.Session) -> None:
    recorder = _recorder(session.config)
    if recorder is not None:
        recorder.collected = len(session.items)
        recorder.write()


def pytest_runtest_logstart(nodeid: str, location) -> None:
    # Config is not passed to this hook; the recorder is reached through the plugin manager.
    recorder = _active
    if recorder is not None:
        recorder.current = nodeid
        recorder.write()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    recorder = _recorder(item.config)
    if recorder is not None:
        recorder.record_phase(item, report, call.excinfo)
        if recorder.tests[item.nodeid]["outcome"] == "timeout" and not recorder.stopped_by:
            # A hang rarely stays in one test: the rest would each wait out their own limit.
            recorder.stopped_by = item.name
            item.session.shouldstop = f"{item.name} timed out"
    return report


def pytest_runtest_logfinish(nodeid: str, location) -> None:
    recorder = _active
    if recorder is not None:
        recorder.current = None
        recorder.write()


def pytest_internalerror(excrepr, excinfo) -> None:
    recorder = _active
    if recorder is not None:
        recorder.record_exit_at_import(excinfo)
        recorder.write()


def pytest_sessionstart(session: pytest.Session) -> None:
    global _active
    _active = _recorder(session.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    recorder = _recorder(session.config)
    if recorder is not None:
        if recorder.stopped_by:
            recorder.record_not_run(session.items)
        recorder.finished = True
        recorder.exitstatus = int(exitstatus)
        recorder.write()


_active: _Recorder | None = None
