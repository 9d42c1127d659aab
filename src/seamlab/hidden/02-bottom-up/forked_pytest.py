"""Child pytest runs without paying for a fresh interpreter each time: fork them from a warm one.

A new ``python -m pytest`` spends about a second of CPU importing pytest, SQLAlchemy, FastAPI,
httpx and seamlab's plugin before its first test, and exercise 02 starts four such runs (the
correct layers, and one per planted fault). So one helper process, the zygote, imports those
libraries once and then forks a child per run. The child is what a fresh ``python -I -B -m
pytest`` would be: its own folder, environment, output file and process group, a new pytest
session, pytest's exit code as its own.

The zygote is a clean interpreter started by `Zygote.start` (``python -I -B`` this file). It
imports libraries only, never a learner's module; it has no threads and holds no connection,
so nothing is half-shared after a fork. It reads requests as JSON lines on stdin and answers
``{"id", "pid"}`` when a child starts and ``{"id", "returncode"}`` when it ends.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: What every layer run imports anyway. A module that is missing is simply not preloaded.
PRELOAD = (
    "pytest",
    "_pytest.python",
    "_pytest.junitxml",
    "_pytest.tmpdir",
    "pytest_timeout",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql.psycopg",
    "psycopg",
    "httpx",
    "fastapi",
    "fastapi.testclient",
    "uvicorn",
    "uvicorn.config",
    "uvicorn.server",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.lifespan.on",
    "redis",
    "seamlab.config",
    "seamlab.errors",
    "seamlab.waiting",
    "seamlab.pytest_plugin",
    "mailprovider.server",
    "mailprovider.admin",
)


# --- the parent's side -------------------------------------------------------------------------
@dataclass
class Forked:
    """One child run: where its output goes, and what became of it."""

    id: str
    output: Path
    requested: float
    pid: int | None = None
    returncode: int | None = None
    done: bool = False

    def read_output(self) -> str:
        try:
            return self.output.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""


class ZygoteGone(RuntimeError):
    """The zygote could not start or stopped answering; start the runs the usual way."""


class Zygote:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.runs: dict[str, Forked] = {}
        self._buffer = b""

    @classmethod
    def start(cls, env: dict[str, str] | None = None) -> Zygote:
        """Start the zygote (it imports in the background while the caller goes on)."""
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", str(Path(__file__).resolve())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, cwd="/",
        )  # fmt: skip
        return cls(process)

    def fork(self, run_id: str, cwd: Path, args: list[str], env: dict[str, str]) -> Forked:
        """Ask for ``python -m pytest <args>`` in ``cwd`` with exactly ``env``."""
        output = cwd / "pytest-output.txt"
        run = Forked(run_id, output, time.monotonic())
        self.runs[run_id] = run
        request = {"id": run_id, "cwd": str(cwd), "args": args, "env": env, "output": str(output)}
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise ZygoteGone(f"the zygote is not reading requests: {error}") from None
        return run

    def wait(self, runs: list[Forked], wall: float) -> None:
        """Until every run has ended; a run older than ``wall`` seconds is killed (returncode
        None). Raises `ZygoteGone` when the zygote dies while runs are still unreported."""
        while not all(run.done for run in runs):
            now = time.monotonic()
            for run in runs:
                if not run.done and now - run.requested > wall:
                    self._kill(run)
            pending = [r for r in runs if not r.done]
            if not pending:
                break
            deadline = min(r.requested + wall for r in pending)
            timeout = max(0.0, min(deadline - now, 1.0))
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            if ready:
                self._read()

    def close(self) -> None:
        for run in self.runs.values():
            if not run.done and run.pid is not None:
                _killpg(run.pid)
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _read(self) -> None:
        chunk = os.read(self.process.stdout.fileno(), 65536)
        if not chunk:
            raise ZygoteGone(
                f"the zygote exited (code {self.process.poll()}) before every run was reported"
            )
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            run = self.runs.get(message["id"])
            if run is None or run.done:
                continue
            if "pid" in message:
                run.pid = message["pid"]
            if "returncode" in message:
                run.returncode = message["returncode"]
                run.done = True

    def _kill(self, run: Forked) -> None:
        if run.pid is not None:
            _killpg(run.pid)
        run.returncode = None
        run.done = True


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# --- the zygote's side -------------------------------------------------------------------------
def serve() -> None:
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - preloading is an optimisation only
            continue
    # A child's end wakes the loop up through this pipe (no polling).
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, str] = {}
    stdin = sys.stdin.buffer.fileno()
    buffer = b""
    open_input = True
    while open_input or children:
        watched = [wake_r, stdin] if open_input else [wake_r]
        ready, _, _ = select.select(watched, [], [])
        if wake_r in ready:
            _drain(wake_r)
        if stdin in ready:
            chunk = os.read(stdin, 65536)
            open_input = bool(chunk)
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                request = json.loads(line)
                children[_fork(request, (wake_r, wake_w))] = request["id"]
        _reap(children)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _reap(children: dict[int, str]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        run_id = children.pop(pid, None)
        if run_id is not None:
            _say({"id": run_id, "returncode": os.waitstatus_to_exitcode(status)})


def _fork(request: dict, wake: tuple[int, int]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        _say({"id": request["id"], "pid": pid})
        return pid
    code = 3
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in wake:
            os.close(fd)
        code = _child(request)
    except BaseException:  # noqa: BLE001 - whatever happens, the child must exit here
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _child(request: dict) -> int:
    os.setsid()  # its own process group: a timeout kills everything the run started
    _die_with_the_zygote()
    output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    import tempfile

    tempfile.tempdir = None  # computed again from this run's TMPDIR
    import pytest

    return int(pytest.main(request["args"]))


def _die_with_the_zygote() -> None:
    """Linux: the child gets SIGKILL when the zygote dies (the grader killed the hidden run)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    serve()
