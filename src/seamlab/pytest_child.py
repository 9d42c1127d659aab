"""The one way seamlab starts a child pytest: start, limits, kill of every descendant, results.

Used by the grader (``grading/runner.py``), the notebooks' helpers (``lab.py``) and the hidden
suites that run the learner's tests themselves. A caller says what to run (pytest arguments,
folder, environment, limits); this module owns the process:

- its own session and process group, ``stdin`` from ``/dev/null``, output to files;
- on Linux it dies with the thread that started it (``PR_SET_PDEATHSIG``), and this process
  becomes a subreaper, so that descendants that ``setsid()`` away are re-parented here rather
  than to init and can still be found;
- a wall-clock limit, an optional memory limit (``RLIMIT_AS``, inherited by everything the
  child starts), and pytest-timeout's per-test limit when asked;
- when it ends, however it ends, every descendant is killed: its process group, its process
  tree, and every process that still carries the run's token in its environment;
- results as data: exit code, tails of its output, and the JUnit report read by `read_junit`
  (the only JUnit reader of seamlab).
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from seamlab.child_process import (  # noqa: F401 - part of this module's interface
    TOKEN_ENV,
    ChildLost,
    ChildSpec,
    Finished,
    Limits,
    _preexec,
    _read,
    _tail,
    become_subreaper,
    carrying,
    carrying_env,
    descendants,
    kill_everything,
    pytest_argv,
)


@dataclass(frozen=True)
class JunitCase:
    """One ``<testcase>`` of a JUnit report."""

    name: str
    classname: str
    outcome: str  # "passed", "failed", "error", "skipped"
    message: str = ""
    duration: float = 0.0

    @property
    def nodeid(self) -> str:
        module = self.classname.replace(".", "/")
        return f"{module}.py::{self.name}" if module else self.name


class Running:
    """A started child: `wait` for it, or `kill` it and everything it started."""

    def __init__(self, spec: ChildSpec, argv: list[str] | None = None,
                 env: Mapping[str, str] | None = None, **popen_extra) -> None:
        self.spec = spec
        self.token = uuid.uuid4().hex
        out_dir = Path(spec.output_dir or spec.cwd)
        self.stdout_path = out_dir / "stdout.txt"
        self.stderr_path = self.stdout_path if spec.merge_output else out_dir / "stderr.txt"
        argv = argv or pytest_argv(spec)
        child_env = {**(env if env is not None else spec.env), TOKEN_ENV: self.token}
        become_subreaper()
        self.started = time.perf_counter()
        with open(self.stdout_path, "wb") as out:
            err = out if spec.merge_output else open(self.stderr_path, "wb")  # noqa: SIM115
            try:
                with _interrupts_deferred():
                    self.process = subprocess.Popen(
                        argv, cwd=spec.cwd, env=child_env, stdin=subprocess.DEVNULL, stdout=out,
                        stderr=err if err is not out else subprocess.STDOUT,
                        start_new_session=True,
                        # Only prctl and setrlimit run there: no lock, no allocation.
                        preexec_fn=_preexec(spec.limits),  # noqa: PLW1509
                        **popen_extra,
                    )  # fmt: skip
            finally:
                if err is not out:
                    err.close()
        self.timed_out = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait(self, timeout: float | None = None) -> Finished:
        limit = self.spec.limits.wall if timeout is None else timeout
        try:
            self.process.wait(timeout=max(0.0, self.started + limit - time.perf_counter()))
        except subprocess.TimeoutExpired:
            self.timed_out = True
        except BaseException:
            self.kill()
            raise
        killed = self.kill()
        return Finished(
            returncode=None if self.timed_out else self.process.returncode,
            timed_out=self.timed_out, duration=time.perf_counter() - self.started,
            stdout_path=self.stdout_path, stderr_path=self.stderr_path, killed=killed,
        )

    def kill(self) -> int:
        """Kill the child, its group, its tree and whatever carries its token; reap it."""
        killed = kill_everything(self.process.pid, self.token)
        if self.process.poll() is None:
            self.process.wait()
        return killed


#: How runs started: ``warm``/``cold`` counts and why the last warm start was refused.
started_as = {"warm": 0, "cold": 0, "refused": ""}


def start(spec: ChildSpec, argv: list[str] | None = None,
          env: Mapping[str, str] | None = None, **popen_extra) -> Running:
    if spec.warm and set(popen_extra) <= {"pass_fds"}:
        from seamlab import warm

        if warm.mode() is not None:
            try:
                with _interrupts_deferred():
                    running = warm.start(spec, argv or pytest_argv(spec),
                                         env if env is not None else spec.env,
                                         popen_extra.get("pass_fds", ()))
                started_as["warm"] += 1
                return running  # type: ignore[return-value]
            except warm.Refused as why:
                started_as["refused"] = str(why)
    started_as["cold"] += 1
    return Running(spec, argv, env, **popen_extra)


def run(spec: ChildSpec, argv: list[str] | None = None,
        env: Mapping[str, str] | None = None, **popen_extra) -> Finished:
    """Start, wait at most the wall limit, kill every descendant: always."""
    return start(spec, argv, env, **popen_extra).wait()


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (and SIGTERM, SIGHUP) back while the child is being started, and deliver it
    once the child exists.

    A Ctrl-C that landed inside ``Popen()`` (after the fork, before it returned; a wide window
    on a loaded machine) left a child nobody knew about, running on after the check.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    previous = {}
    for number in held:
        handler = signal.getsignal(number)
        if handler in (signal.SIG_IGN, None):
            continue
        previous[number] = signal.signal(number, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    for number in caught[:1]:
        signal.raise_signal(number)


# --- results -----------------------------------------------------------------------------------
def read_junit(path: Path) -> list[JunitCase] | None:
    """The test cases of a JUnit XML report; None when there is no readable report."""
    try:
        tree = ElementTree.parse(path)
    except (OSError, ElementTree.ParseError):
        return None
    cases = []
    for case in tree.iter("testcase"):
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                message = _first_line(child.get("message") or child.text or "")
                break
        try:
            duration = float(case.get("time") or 0.0)
        except ValueError:
            duration = 0.0
        cases.append(JunitCase(case.get("name", "?"), case.get("classname") or "", outcome,
                               message, duration))
    return cases


def scratch_dir(prefix: str = "seamlab-child-") -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
