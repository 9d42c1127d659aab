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

import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from seamlab.errors import ServiceUnavailable

#: Every child carries ``SEAMLAB_RUN_TOKEN=<token>``: processes that escaped the tree are
#: found by it (their environment is inherited, even across setsid and a double fork).
TOKEN_ENV = "SEAMLAB_RUN_TOKEN"
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Limits:
    wall: float = 60.0
    #: pytest-timeout's limit per test (``--timeout``), None for none.
    per_test: float | None = None
    #: Address-space limit of the child and all it starts, in MB; None for none.
    memory_mb: int | None = None


@dataclass
class ChildSpec:
    """``python [flags] -m pytest <args>`` in ``cwd`` with exactly ``env``."""

    args: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    limits: Limits = field(default_factory=Limits)
    python_flags: Sequence[str] = ("-I", "-B")
    #: Where output goes: the folder for ``stdout.txt`` / ``stderr.txt`` (default: ``cwd``).
    output_dir: Path | None = None
    #: Output and errors in one file (``stdout.txt``), as a terminal would show them.
    merge_output: bool = True
    #: Another command in front of the interpreter (a jail), with Popen extras (pass_fds...).
    wrap: object | None = None
    pass_fds: Sequence[int] = ()
    #: May start as a fork of the warm server (`seamlab.warm`) when one is in use; the run is
    #: cold whenever the warm path refuses it, with the same results.
    warm: bool = False
    #: Folders whose modules the run imports (learner code, tests): a warm start is refused
    #: when one of their module names is one the warm server has already imported.
    import_roots: Sequence[Path] = ()


@dataclass
class Finished:
    returncode: int | None  # None when the wall limit stopped it
    timed_out: bool
    duration: float
    stdout_path: Path
    stderr_path: Path
    killed: int = 0  # descendants that were still running and were killed

    @property
    def output(self) -> str:
        return _read(self.stdout_path)

    def tail(self, limit: int = 4000, stream: str = "stdout") -> str:
        return _tail(self.stdout_path if stream == "stdout" else self.stderr_path, limit)


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


def pytest_argv(spec: ChildSpec) -> list[str]:
    args = list(spec.args)
    if spec.limits.per_test is not None:
        if "timeout" not in args and "pytest_timeout" not in args:
            args += ["-p", "timeout"]
        args += ["--timeout", f"{spec.limits.per_test:g}"]
    return [sys.executable, *spec.python_flags, "-m", "pytest", *args]


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


class ChildLost(ServiceUnavailable):
    """The process that held the child (the warm server) went away during the run."""


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


# --- limits and kills --------------------------------------------------------------------------
def _libc():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except (OSError, AttributeError):
        return None


_LIBC = _libc() if sys.platform.startswith("linux") else None
_subreaper_lock = threading.Lock()
_is_subreaper = False


def become_subreaper() -> None:
    """Linux: orphans of our children are re-parented to this process, not to init."""
    global _is_subreaper
    with _subreaper_lock:
        if _is_subreaper or _LIBC is None:
            return
        _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        _is_subreaper = True


def _preexec(limits: Limits):
    memory = limits.memory_mb
    libc = _LIBC

    def prepare() -> None:  # runs in the forked child, before exec: no allocation-heavy work
        if libc is not None:
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if memory:
            size = memory * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return prepare


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux ``/proc``; empty elsewhere)."""
    if not os.path.isdir("/proc"):
        return set()
    tree = _children_map()
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def carrying(token: str) -> set[int]:
    """Processes (that we may read) whose environment holds ``TOKEN_ENV=token``."""
    return carrying_env(TOKEN_ENV, token)


def carrying_env(name: str, value: str) -> set[int]:
    """Processes (that we may read) whose environment holds ``name=value``."""
    marker = f"{name}={value}".encode()
    found: set[int] = set()
    if not os.path.isdir("/proc"):
        return found
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as fh:
                if marker in fh.read().split(b"\0"):
                    found.add(int(entry.name))
        except OSError:
            continue
    return found


def kill_everything(pid: int, token: str | None = None) -> int:
    """SIGKILL ``pid``'s group, tree and token carriers until none is left; returns how many
    processes other than ``pid`` were killed. Re-parented orphans are reaped here."""
    killed: set[int] = set()
    for _ in range(5):
        _signal_group(pid)
        victims = descendants(pid) | (carrying(token) if token else set())
        victims.discard(os.getpid())
        if not victims:
            break
        for victim in victims:
            _signal_group(victim)
            try:
                os.kill(victim, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            killed.add(victim)
        time.sleep(0.01)
    for victim in killed - {pid}:
        # An orphan that was re-parented to us (subreaper) is our zombie now.
        try:
            os.waitpid(victim, os.WNOHANG)
        except (ChildProcessError, OSError):
            pass
    return len(killed - {pid})


def _signal_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


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


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
