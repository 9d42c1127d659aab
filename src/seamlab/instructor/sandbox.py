"""Confinement of every grading child during an autograde run.

The grader (``seamlab.grading.runner``) asks us, per child run, to *adopt* the run (copy the
hidden tests and the learner's code into the run's own folder) and to *wrap* its command.
Each child then:

- runs as a user id of its own (one per run, from a pool of locked ids), never root, so it
  cannot read another run's folder, write the gradebook, or signal another run's processes;
- sees empty root-only mounts where the hidden tests of other exercises, the planted faults,
  the solutions, the other submissions, the output folder and the services' sockets are;
- has a network of its own (see :mod:`seamlab.instructor.netns`): Postgres only as a role
  created for this run, that owns this run's database and may connect to nothing else;
  a private redis-server (FLUSHALL denied; and it would only empty its own); its own mail
  provider (the pytest plugin starts one in the child when TEST_MAIL_URL is not given);
- has limits: CPU seconds, address space, processes (a fork bomb stops at the cap), file
  size (100 MB of output stops at the cap), open files; and everything the run's user still
  has running when the child ends is killed.

What the run ran into (limits hit, refused connections, leftovers killed) is kept as notes the
autograder stores with the result, so feedback can say what happened.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from seamlab.config import Settings
from seamlab.errors import SeamlabError
from seamlab.instructor import jail, netns

UID_BASE = 210_000
UID_COUNT = 1000
ROLE_PREFIX = "seamlab_job"
_COPY_IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc", ".git")


class SandboxError(SeamlabError):
    """The machine cannot confine learner code (not root, no namespaces, no redis-server)."""


@dataclass(frozen=True)
class Limits:
    """Per child run. Threads count as processes for the process cap."""

    cpu_seconds: int = 120
    memory_mb: int = 2048
    processes: int = 256
    output_mb: int = 16
    open_files: int = 1024

    def rlimits(self) -> dict[str, int]:
        return {"cpu": self.cpu_seconds, "as": self.memory_mb << 20,
                "nproc": self.processes, "fsize": self.output_mb << 20,
                "nofile": self.open_files, "core": 0}


def check_machine() -> None:
    """Raise SandboxError naming what is missing and what to do instead."""
    reason = netns.available()
    if reason is not None:
        raise SandboxError(
            f"Cannot sandbox learner code here: {reason}. Fix: run `seamlab autograde` as root "
            "(in a container or VM for the workshop), or pass --no-sandbox to grade code you "
            "trust without isolation.")
    if shutil.which("redis-server") is None:
        raise SandboxError("The sandbox gives every run a private redis-server, and none is "
                           "installed. Fix: `apt-get install redis-server`.")


# --- user ids -------------------------------------------------------------------------------
class UidPool:
    """Hands out user ids that no other live run (in any process) holds: a flock per id."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or Path(tempfile.gettempdir()) / "seamlab-uids"
        self.folder.mkdir(mode=0o700, exist_ok=True)

    @contextlib.contextmanager
    def lease(self) -> Iterator[int]:
        start = secrets.randbelow(UID_COUNT)
        for step in range(UID_COUNT):
            uid = UID_BASE + (start + step) % UID_COUNT
            fd = os.open(self.folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            try:
                kill_user(uid)  # whatever an earlier, killed run of this id left behind
                yield uid
            finally:
                os.close(fd)
            return
        raise SandboxError(f"All {UID_COUNT} sandbox user ids are in use. Fix: fewer workers.")


def kill_user(uid: int) -> int:
    """SIGKILL every process of ``uid``; returns how many there were. ``kill(-1)`` sent *as*
    that user reaches all of them at once, so a fork bomb cannot outrun it."""
    count = len(processes_of(uid))
    if count == 0:
        return 0
    for _ in range(20):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            try:
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        if not processes_of(uid):
            break
    return count


def processes_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except OSError:
                continue
    return found


# --- private services -----------------------------------------------------------------------
class PrivateRedis:
    """A redis-server for one run, on a unix socket in a root-only folder."""

    def __init__(self, folder: Path, denied: tuple[str, ...]) -> None:
        self.socket_path = str(folder / "redis.sock")
        rules = ["default", "on", "nopass", "~*", "&*", "+@all", *(f"-{c}" for c in denied)]
        self.proc = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", "0",
             "--unixsocket", self.socket_path, "--unixsocketperm", "700", "--save", "",
             "--appendonly", "no", "--databases", "256", "--dir", str(folder),
             "--loglevel", "warning", "--user", *rules],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                error = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                self.close()
                raise SandboxError(f"The run's private redis-server did not start: "
                                   f"{error.strip().splitlines()[-1:] or 'no output'}")
            time.sleep(0.005)

    def _answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(0.5)
                sock.connect(self.socket_path)
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


def create_role(admin: Settings, database: str) -> tuple[str, str]:
    """A login role that owns ``database`` and may connect to nothing else; (name, password)."""
    from psycopg import sql

    from seamlab import isolation

    role = f"{ROLE_PREFIX}_{os.getpid()}_{secrets.token_hex(4)}"
    password = secrets.token_hex(12)
    with isolation.connect_admin(admin) as conn:
        ident, db = sql.Identifier(role), sql.Identifier(database)
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                             "CONNECTION LIMIT 64 PASSWORD {}")
                     .format(ident, sql.Literal(password)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, ident))
        conn.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(db))
        conn.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(db, ident))
    return role, password


def drop_roles(admin: Settings, roles: list[str]) -> list[str]:
    """Drop roles whose databases are gone; returns the ones that could not be dropped yet."""
    if not roles:
        return []
    from psycopg import sql

    from seamlab import isolation

    left = []
    with isolation.connect_admin(admin) as conn:
        for role in roles:
            try:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
            except Exception:  # noqa: BLE001 - still owns a database: try again later
                left.append(role)
    return left


def drop_stale_roles(admin: Settings) -> None:
    """Roles of autograde processes that were killed (the pid in the name is gone)."""
    from seamlab import isolation

    with isolation.connect_admin(admin) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (ROLE_PREFIX + "\\_%",))]
    stale = []
    for name in names:
        parts = name.split("_")
        if len(parts) >= 4 and parts[2].isdigit() and not isolation.pid_alive(int(parts[2])):
            stale.append(name)
    drop_roles(admin, stale)


# --- the policy and one confined run ----------------------------------------------------------
@dataclass
class Policy:
    """Process-wide: what every confined run gets. Install it with ``runner.confine(policy)``."""

    admin: Settings
    limits: Limits = field(default_factory=Limits)
    hidden_paths: list[Path] = field(default_factory=list)
    #: Hidden folders the run may read: a write-tests exercise's fixtures (its conftest.py,
    #: which the learner's tests load by path). The autograder sets it per job.
    readable_hidden: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    roles_to_drop: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.uids = UidPool()

    def __call__(self, spec, workdir: Path) -> ConfinedRun:
        return ConfinedRun(self, workdir)

    def note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    def take_notes(self) -> list[str]:
        """Notes since the last call (the autograder calls it after each grade)."""
        with self._lock:
            notes, self.notes = self.notes, []
        return notes

    def cleanup(self) -> None:
        """Drop the per-run roles (their databases are gone once grade() has returned)."""
        with self._lock:
            roles, self.roles_to_drop = self.roles_to_drop, []
        left = drop_roles(self.admin, roles)
        with self._lock:
            self.roles_to_drop.extend(left)

    def masks(self) -> list[str]:
        from seamlab.paths import HIDDEN_DIR, MUTANTS_DIR

        hidden = [p for p in sorted(HIDDEN_DIR.iterdir()) if p.name not in self.readable_hidden]
        paths = [*hidden, MUTANTS_DIR, *self.hidden_paths,
                 Path("/run/postgresql"), Path("/var/run/postgresql"), Path("/run/redis"),
                 *map(Path, glob.glob(os.path.join(tempfile.gettempdir(), "seamlab-postgres-*"))),
                 Path(tempfile.gettempdir()) / "seamlab-uids"]
        seen, result = set(), []
        for path in paths:
            text = str(Path(path).resolve())
            if text not in seen and Path(text).is_dir():
                seen.add(text)
                result.append(text)
        return result


class ConfinedRun:
    """One child run: adopt (copies), wrap (credentials, network, limits), then tear down."""

    def __init__(self, policy: Policy, workdir: Path) -> None:
        self.policy = policy
        self.workdir = workdir
        self._stack = contextlib.ExitStack()
        self.uid = -1
        self._relays: list[netns.Relay] = []

    def __enter__(self) -> Self:
        self.uid = self._stack.enter_context(self.policy.uids.lease())
        self._stack.callback(self._kill_leftovers)
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    # -- files ------------------------------------------------------------------------------
    def adopt(self, spec):
        """The spec with the test suite and the learner's code copied into the run's folder."""
        suite = self.workdir / "suite"
        shutil.copytree(spec.rootdir, suite, ignore=_COPY_IGNORE, symlinks=True)
        mapping = {Path(spec.rootdir).resolve(): suite}
        target = Path(spec.target).resolve()
        if not _within(target, Path(spec.rootdir).resolve()):
            code = self.workdir / "code"
            shutil.copytree(target, code, ignore=_COPY_IGNORE, symlinks=True)
            mapping[target] = code

        def moved(path: Path) -> Path:
            path = Path(path).resolve()
            for old, new in mapping.items():
                if _within(path, old):
                    return new / path.relative_to(old)
            return path

        for path in (self.workdir, *self.workdir.rglob("*")):
            os.lchown(path, self.uid, self.uid)
        return replace(spec, paths=[moved(p) for p in spec.paths], target=moved(spec.target),
                       rootdir=moved(spec.rootdir))

    # -- the command ---------------------------------------------------------------------------
    def wrap(self, argv: list[str], env: dict[str, str]) -> tuple[list[str], dict, dict]:
        env = dict(env)
        private = Settings.from_env(env)
        namespace = netns.Namespace()
        self._stack.callback(namespace.close)

        role, password = create_role(self.policy.admin, private.db_name)
        self.policy.roles_to_drop.append(role)
        refused: list[str] = []
        self._relay("postgres", namespace, private.db_port,
                    netns.tcp(self.policy.admin.db_host, self.policy.admin.db_port),
                    netns.postgres_gate(role, private.db_name, refused))
        self._stack.callback(lambda: refused and self.policy.note(
            "Your code tried to connect to Postgres as " + ", ".join(sorted(set(refused)))
            + ": refused (a grading run may only use its own database)."))

        from seamlab.grading.guard import DENIED_REDIS

        state = Path(tempfile.mkdtemp(prefix="seamlab-redis-"))
        self._stack.callback(shutil.rmtree, state, ignore_errors=True)
        redis_server = PrivateRedis(state, DENIED_REDIS)
        self._stack.callback(redis_server.close)
        redis_port = urlsplit(private.redis_url).port or 6379
        self._relay("redis", namespace, redis_port, netns.unix(redis_server.socket_path))

        amqp = urlsplit(private.amqp_url)
        self._relay("rabbitmq", namespace, amqp.port or 5672,
                    netns.tcp(amqp.hostname or "127.0.0.1", amqp.port or 5672))

        env.update({"TEST_DB_HOST": "127.0.0.1", "TEST_DB_USER": role,
                    "TEST_DB_PASSWORD": password,
                    "TEST_REDIS_URL": f"redis://127.0.0.1:{redis_port}/{private.redis_db}",
                    "MALLOC_ARENA_MAX": "2", "HOME": str(self.workdir)})
        env.pop("TEST_MAIL_URL", None)  # the plugin then runs a mail provider inside the child

        stage = self.workdir / ".jail"
        stage.mkdir(mode=0o700)
        config = {"uid": self.uid, "gid": self.uid, "netns_fd": namespace.fd,
                  "expose": exposed(needed_paths()), "stage": str(stage),
                  "hide": self.policy.masks(), "limits": self.policy.limits.rlimits()}
        wrapped = [sys.executable, "-I", "-S", jail.__file__, json.dumps(config), "--", *argv]
        return wrapped, env, {"pass_fds": (namespace.fd,)}

    def _relay(self, name: str, namespace: netns.Namespace, port: int, connect, gate=None):
        relay = netns.Relay(name, namespace.listen(port), connect, gate).start()
        self._relays.append(relay)
        self._stack.callback(relay.close)

    def finished(self, returncode: int | None) -> None:
        """What the exit says about limits (the verdict itself stays what the tests said).

        Also: the run's folder belongs to the run's user, so the files the grader reads next
        must still be plain files (not a FIFO that blocks, nor a link to /dev/zero).
        """
        for name in ("report.json", "stdout.txt", "stderr.txt"):
            path = self.workdir / name
            with contextlib.suppress(OSError):
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
                    path.unlink()
                    self.policy.note(f"Your code replaced the grader's {name}: ignored.")
        if returncode == jail.EXIT_JAIL:
            self.policy.note("The sandbox could not start this run (an infrastructure problem).")
        if returncode == -signal.SIGXCPU:
            self.policy.note(f"Stopped at the CPU limit ({self.policy.limits.cpu_seconds} s).")

    def _kill_leftovers(self) -> None:
        count = kill_user(self.uid)
        if count:
            self.policy.note(f"{count} process(es) your code left running were killed after the "
                             "run (background processes, or a fork bomb?).")


def needed_paths() -> list[Path]:
    """What the child must be able to read: the Python install, the venv, the import path."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    for entry in sys.path:
        if entry and Path(entry).is_dir():
            paths.add(Path(entry).resolve())
    return sorted(paths)


def _open_to_others(folder: Path) -> bool:
    try:
        return bool(os.stat(folder).st_mode & stat.S_IXOTH)
    except OSError:
        return False


def exposed(paths: list[Path]) -> list[list]:
    """``[[closed parent, [folders to reach inside it]], ...]`` for the jail's ``expose``."""
    groups: dict[Path, set[Path]] = {}
    for path in paths:
        for ancestor in [*reversed(path.parents[:-1]), path]:
            if not _open_to_others(ancestor):
                inside = ancestor / path.relative_to(ancestor).parts[0] if path != ancestor else None
                if inside is not None:
                    groups.setdefault(ancestor, set()).add(inside)
                break
    return [[str(parent), sorted(map(str, inside))] for parent, inside in sorted(groups.items())]


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
