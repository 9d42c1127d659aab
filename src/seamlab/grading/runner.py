"""Run pytest in a child process that cannot outlive, outwait or mislead the grader.

The child gets its own process group (so the whole tree can be killed), its own temporary
folder as cwd and TMPDIR (removed afterwards), a clean environment (no PYTHON*, PYTEST_*,
TEST_* or SEAMLAB_* leaking in from the caller), our own ini file instead of the learner's,
and a wall-clock limit. Results come back through the reporter's JSON file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seamlab.grading import protocol

INI_FILE = Path(__file__).resolve().with_name("pytest.ini")
TEMP_PREFIX = "seamlab-run-"
_SCRUBBED_PREFIXES = ("PYTHON", "PYTEST_", "TEST_", "SEAMLAB_", "COV_CORE_")


@dataclass
class RunSpec:
    """What to run: test paths, the folder whose code is under test, and the limits."""

    paths: list[Path]
    target: Path
    rootdir: Path
    per_test_timeout: float
    wall_timeout: float
    service_env: dict[str, str] = field(default_factory=dict)
    isolated: bool = True
    #: Hidden-test runs use our ini, no plugin autoload, and never read the learner's config.
    sealed: bool = True
    junit: Path | None = None


@dataclass
class ChildRun:
    returncode: int | None
    report: dict[str, Any] | None
    wall_timed_out: bool
    stdout_tail: str
    stderr_tail: str
    duration: float


def command(spec: RunSpec) -> list[str]:
    args = [sys.executable, "-I", "-B", "-m", "pytest", *map(str, spec.paths)]
    args += ["--rootdir", str(spec.rootdir), "-p", "no:cacheprovider", "-q"]
    if spec.sealed:
        args += ["-c", str(INI_FILE), "--confcutdir", str(spec.rootdir)]
    else:
        # The learner's own tests: their config applies; they may use respx's or anyio's fixtures.
        args += ["-p", "respx", "-p", "anyio"]
    args += ["-p", "seamlab.pytest_plugin"]
    args += ["-p", "seamlab.grading.reporter", "-p", "timeout",
             "--timeout", _seconds(spec.per_test_timeout)]
    if spec.junit is not None:
        args += ["--junitxml", str(spec.junit)]
    return args


def child_env(spec: RunSpec, report_path: Path, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    # Third-party plugins (nbval, jupyter...) cost seconds to import and are not needed.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.update(spec.service_env)
    env[protocol.REPORT_ENV] = str(report_path)
    env[protocol.TARGET_ENV] = str(spec.target)
    env[protocol.IMPORT_TIMEOUT_ENV] = _seconds(spec.per_test_timeout)
    env["TMPDIR"] = str(tmp)
    if spec.isolated:
        env["SEAMLAB_ISOLATED"] = "1"
    return env


#: Set by the instructor's autograder (``confine``): a factory ``(spec, workdir) -> context
#: manager`` whose value ``adopt``s the spec, ``wrap``s the command (own user, network, limits)
#: and is told when the child ``finished``. Process-wide, so the threads that grade mutants use
#: it too. None for `seamlab check`: a learner's own code on their own machine.
_confinement = None


@contextmanager
def confine(factory) -> Iterator[None]:
    """Run every child of this process under ``factory``'s confinement while active."""
    global _confinement
    previous, _confinement = _confinement, factory
    try:
        yield
    finally:
        _confinement = previous


def run(spec: RunSpec) -> ChildRun:
    """Run the child and always clean up: its process group, its temp folder."""
    workdir = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    tmp = workdir / "tmp"
    tmp.mkdir()
    report_path = workdir / "report.json"
    out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
    started = time.perf_counter()
    proc: subprocess.Popen[bytes] | None = None
    stack = ExitStack()
    try:
        box = stack.enter_context(_confinement(spec, workdir)) if _confinement else None
        if box is not None:
            spec = box.adopt(spec)
        argv, env, extra = command(spec), child_env(spec, report_path, tmp), {}
        if box is not None:
            argv, env, extra = box.wrap(argv, env)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            with _interrupts_deferred():
                proc = subprocess.Popen(
                    argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=err, start_new_session=True, **extra,
                )
            wall_timed_out = False
            try:
                proc.wait(timeout=spec.wall_timeout)
            except subprocess.TimeoutExpired:
                wall_timed_out = True
                _kill_group(proc)
                proc.wait()
        if box is not None:
            box.finished(proc.returncode)
        return ChildRun(
            returncode=proc.returncode,
            report=_read_report(report_path),
            wall_timed_out=wall_timed_out,
            stdout_tail=_tail(out_path),
            stderr_tail=_tail(err_path),
            duration=time.perf_counter() - started,
        )
    finally:
        # Also on KeyboardInterrupt: nothing the learner started may keep running.
        if proc is not None:
            _kill_group(proc)
            if proc.poll() is None:
                proc.wait()
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C back while the child is being started, and deliver it once ``proc`` exists.

    A Ctrl-C that landed inside ``Popen()`` (after the fork, before it returned; a wide window
    on a loaded machine) left a child nobody knew about, running on after the check.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        signal.raise_signal(signal.SIGINT)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_report(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _seconds(value: float) -> str:
    return f"{value:g}"
