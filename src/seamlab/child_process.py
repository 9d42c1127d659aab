"""What a child run is and how it ends: its spec and limits, its result, its descendants, the kill.

Shared by the two ways a child pytest starts (`seamlab.pytest_child`, cold; `seamlab.warm`, a
fork of a pre-imported server), so that neither imports the other to learn them.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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


def pytest_argv(spec: ChildSpec) -> list[str]:
    args = list(spec.args)
    if spec.limits.per_test is not None:
        if "timeout" not in args and "pytest_timeout" not in args:
            args += ["-p", "timeout"]
        args += ["--timeout", f"{spec.limits.per_test:g}"]
    return [sys.executable, *spec.python_flags, "-m", "pytest", *args]


class ChildLost(ServiceUnavailable):
    """The process that held the child (the warm server) went away during the run."""


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
