"""Run pytest in a child process that cannot outlive, outwait or mislead the grader.

The child gets its own process group (so the whole tree can be killed), its own temporary
folder as cwd and TMPDIR (removed afterwards), a clean environment (no PYTHON*, PYTEST_*,
TEST_* or SEAMLAB_* leaking in from the caller), our own ini file instead of the learner's,
and a wall-clock limit. The process itself is `seamlab.pytest_child`'s; results come back
through the reporter's JSON lines on an inherited descriptor (see `run`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seamlab import pytest_child
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
    #: Names of the tests the parent knows the run must report (None: not known).
    expected: list[str] | None = None
    #: Address-space limit of the child and all it starts, in MB (None: unlimited).
    memory_mb: int | None = None


@dataclass
class ChildRun:
    returncode: int | None
    report: dict[str, Any] | None
    wall_timed_out: bool
    stdout_tail: str
    stderr_tail: str
    duration: float
    junit: list[pytest_child.JunitCase] | None = None
    expected: list[str] | None = None
    memory_mb: int | None = None


def command(spec: RunSpec, junit: str | None = None) -> list[str]:
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
    if junit is not None:
        args += ["--junitxml", junit]
    return args


def child_env(spec: RunSpec, report_fd: int, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    # Third-party plugins (nbval, jupyter...) cost seconds to import and are not needed.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.update(spec.service_env)
    env[protocol.REPORT_FD_ENV] = str(report_fd)
    env[protocol.TARGET_ENV] = str(spec.target)
    env[protocol.IMPORT_TIMEOUT_ENV] = _seconds(spec.per_test_timeout)
    env["TMPDIR"] = str(tmp)
    if spec.memory_mb:
        env[protocol.MEMORY_ENV] = str(spec.memory_mb)
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
    """Run the child (through `seamlab.pytest_child`) and always clean up: every process it
    started, its temp folder.

    The results come back on channels the child cannot create or replace by name: the
    report is a file the parent creates in a folder of its own (mode 0700, outside the run's
    folder) and hands over as an inherited descriptor opened O_APPEND; the JUnit report is a
    second such file, which pytest reaches through ``/proc/self/fd``.
    """
    workdir = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
    tmp = workdir / "tmp"
    tmp.mkdir()
    channel = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-results-"))
    report_path, junit_path = channel / "report.jsonl", channel / "junit.xml"
    report_fd = os.open(report_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
    junit_fd = os.open(junit_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    started = time.perf_counter()
    stack = ExitStack()
    try:
        box = stack.enter_context(_confinement(spec, workdir)) if _confinement else None
        if box is not None:
            spec = box.adopt(spec)
            # The run's user reaches the JUnit file only through its inherited descriptor.
            os.fchmod(junit_fd, 0o666)
        env = child_env(spec, report_fd, tmp)
        argv = command(spec, f"/proc/self/fd/{junit_fd}")
        extra: dict[str, Any] = {}
        if box is not None:
            argv, env, extra = box.wrap(argv, env)
            confined = getattr(getattr(getattr(box, "policy", None), "limits", None),
                               "memory_mb", None)
            if confined:  # the sandbox's own, tighter limit is the one the child meets
                env[protocol.MEMORY_ENV] = str(confined)
        fds = tuple(extra.pop("pass_fds", ())) + (report_fd, junit_fd)
        child_spec = pytest_child.ChildSpec(
            args=[], cwd=workdir, env=env, limits=pytest_child.Limits(
                wall=spec.wall_timeout, memory_mb=spec.memory_mb),
            output_dir=workdir, merge_output=False,
            warm=spec.sealed and box is None, import_roots=(spec.target, *spec.paths))
        finished = pytest_child.run(child_spec, argv=argv, env=env, pass_fds=fds, **extra)
        if box is not None:
            box.finished(finished.returncode)
            note = getattr(getattr(box, "policy", None), "note", None)
            if finished.killed and note is not None:
                note(f"{finished.killed} process(es) your code left running were killed after "
                     "the run (background processes, or a fork bomb?).")
        if spec.junit is not None:
            with suppress(OSError):
                shutil.copyfile(junit_path, spec.junit)
        return ChildRun(
            returncode=finished.returncode,
            report=read_report(report_path),
            wall_timed_out=finished.timed_out,
            stdout_tail=finished.tail(stream="stdout"),
            stderr_tail=finished.tail(stream="stderr"),
            duration=time.perf_counter() - started,
            junit=pytest_child.read_junit(junit_path),
            expected=spec.expected,
            memory_mb=spec.memory_mb,
        )
    finally:
        os.close(report_fd)
        os.close(junit_fd)
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(channel, ignore_errors=True)


def sweep_stale_folders() -> list[Path]:
    """Remove run folders ``seamlab-run-<pid>-*`` of processes that are gone (killed with
    SIGKILL, or a machine that lost power): returns what was removed."""
    from seamlab.isolation import pid_alive

    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        pid = folder.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)) and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def read_report(path: Path) -> dict[str, Any] | None:
    """The last complete snapshot the reporter appended (one JSON object per line)."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return None


def _seconds(value: float) -> str:
    return f"{value:g}"
