"""Process helpers for the embedded services: detached launch, pid files, ports, demotion.

Servers are launched through a short-lived intermediate process so they end up as children of
init (never zombies of the caller) in their own session, with output going to a log file.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from seamlab.errors import SeamlabError

#: Runs in the intermediate process: start the server in a new session, print its pid, exit.
_LAUNCHER = r"""
import json, subprocess, sys
spec = json.loads(sys.stdin.read())
log = open(spec["log"], "ab")
kwargs = {}
if spec.get("uid") is not None:
    kwargs = {"user": spec["uid"], "group": spec["gid"], "extra_groups": []}
child = subprocess.Popen(spec["argv"], cwd=spec["cwd"], env=spec["env"], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)
print(child.pid)
"""


class EmbeddedError(SeamlabError):
    """An embedded service could not be started or stopped; the message names cause and fix."""


@dataclass(frozen=True)
class ServerUser:
    """The unprivileged account a server runs as when seamlab itself runs as root."""

    name: str
    uid: int
    gid: int


def server_user(candidates: tuple[str, ...] = ("postgres", "nobody")) -> ServerUser | None:
    """None when not root (servers run as the current user); else the first existing account."""
    geteuid = getattr(os, "geteuid", None)  # absent on Windows, where there is no root to avoid
    if geteuid is None or geteuid() != 0:
        return None
    import pwd  # POSIX only: imported here so the CLI imports on Windows

    for name in candidates:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ServerUser(name, entry.pw_uid, entry.pw_gid)
    raise EmbeddedError(
        f"Servers never run as root, and there is no {' or '.join(repr(n) for n in candidates)} "
        f"account to run them as. Fix: `useradd --system {candidates[0]}`, or run seamlab as an "
        "ordinary user."
    )


def traversable_by(path: Path, user: ServerUser | None) -> bool:
    """Whether ``user`` can reach ``path`` (every ancestor directory searchable by it)."""
    if user is None:
        return True
    for folder in (path, *path.parents):
        if not folder.exists():
            continue
        info = folder.stat()
        if info.st_uid == user.uid:
            bit = stat.S_IXUSR
        elif info.st_gid == user.gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


# --- pids --------------------------------------------------------------------------------------
def pid_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as dead). psutil, not ``os.kill(pid, 0)``,
    which on Windows would terminate the process."""
    if not pid or pid <= 0:
        return False
    import psutil

    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # access denied: it exists
        return True


def read_pid(path: Path) -> int | None:
    """The pid on the first line of ``path``, or None if the file is missing or garbled."""
    try:
        first = path.read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    return int(first) if first.isdigit() else None


def write_pid(path: Path, pid: int) -> None:
    path.write_text(f"{pid}\n")


def live_pid(path: Path) -> int | None:
    """The pid recorded in ``path`` if that process is still alive."""
    pid = read_pid(path)
    return pid if pid_alive(pid) else None


def spawn_detached(
    argv: list[str],
    *,
    log_path: Path,
    pid_path: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: ServerUser | None = None,
) -> int:
    """Start ``argv`` detached (own session, parent init, output to ``log_path``); return its pid."""
    spec = {
        "argv": argv,
        "log": str(log_path),
        "env": dict(os.environ if env is None else env),
        "cwd": str(cwd or log_path.parent),
        "uid": user.uid if user else None,
        "gid": user.gid if user else None,
    }
    result = subprocess.run(
        [sys.executable, "-c", _LAUNCHER],
        input=json.dumps(spec),
        check=False, capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0 or not result.stdout.strip().isdigit():
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise EmbeddedError(f"Could not launch `{' '.join(argv[:2])}`: {reason}")
    pid = int(result.stdout.strip())
    if pid_path is not None:
        write_pid(pid_path, pid)
    return pid


def wait_gone(pid: int, timeout: float) -> bool:
    """Poll until ``pid`` has exited; False if it is still alive at the deadline."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def terminate(pid: int | None, sig: int = signal.SIGTERM, timeout: float = 15.0) -> bool:
    """Send ``sig`` and wait for the exit; SIGKILL after ``timeout``. True if it was running."""
    if not pid_alive(pid):
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    if not wait_gone(pid, timeout):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        wait_gone(pid, 5.0)
    return True


# --- ports -------------------------------------------------------------------------------------
def port_open(host: str, port: int, timeout: float = 0.25) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


#: Below Linux's ephemeral range (32768-60999) and macOS's (49152-65535): a port chosen here
#: is not handed out as the local end of some outgoing connection before our server binds it,
#: and two checkouts testing at once pick independently instead of from the same sequence.
_FREE_PORTS = range(20000, 32000)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for tests and benchmarks)."""
    for _ in range(200):
        port = random.choice(_FREE_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # a crowded range: let the kernel choose
        sock.bind((host, 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 3) -> str:
    """The last few non-empty lines of a log file, joined with ' | ' (for error messages)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])
