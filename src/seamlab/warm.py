"""The warm path of `seamlab.pytest_child`: a pre-imported interpreter that forks one child per run.

A *server* (``python -I -B -m seamlab.warm``) imports pytest and the libraries the hidden tests
use (SQLAlchemy, psycopg, redis, httpx, FastAPI, pika...) and nothing of a learner, an exercise
or its hidden tests; it never runs pytest itself. For each run a client (the grader) connects
over a Unix socket in a private folder (mode 0700, peer uid checked) and sends what the cold
path would exec (argv, cwd, env, limits) plus its descriptors (SCM_RIGHTS). The server forks a
*supervisor* for the connection, which forks the *run child*:

- the child starts its own session, dies with the supervisor (``PR_SET_PDEATHSIG``), gets the
  client's umask, rlimits and niceness, the memory limit, stdin ``/dev/null``, stdout/stderr on
  the client's files and the passed descriptors at the numbers the client had them, the exact
  environment and cwd; then it leaves the server's code and runs ``python -m pytest <args>``
  through ``runpy`` in the same interpreter state a cold ``python -I -B`` would have reached by
  importing the same libraries, and exits through the normal interpreter shutdown;
- the supervisor reports the child's pid, then its wait status; if the client goes away, it
  kills the child and everything it started (the client's own kill is `pytest_child`'s);
- the client enforces the wall limit and reads results exactly as on the cold path.

A run is refused (and the caller starts cold, with identical results) when the server is stale
(the venv or a pre-imported source file changed, another environment), when a folder the run
imports from would shadow a module the server already imported, or when the client's limits
cannot be reproduced. Each run is a fresh fork of a server that imported no learner or hidden
code, so no learner code ever runs in a process that saw another's.

Modes (`use`): ``"session"`` starts a private server that lives as long as this process (``seamlab
watch``); ``"shared"`` finds or lazily starts one per course and venv in ``.seamlab/warm/``
that exits after ``IDLE_SECONDS`` without a run (``seamlab check``). Off unless
``SEAMLAB_WARM=1``. The autograder's sandbox (own uid, namespaces, jail) always starts cold.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

OFF_ENV = "SEAMLAB_WARM"
IDLE_SECONDS = 15 * 60
#: What the server imports (each if available): the cold child imports the same on its way.
PRELOAD = (
    "pytest", "_pytest.junitxml", "_pytest.capture", "_pytest.terminal", "_pytest.python",
    "_pytest.fixtures", "_pytest.assertion.rewrite", "_pytest.logging", "_pytest.tmpdir",
    "_pytest.monkeypatch", "_pytest.recwarn", "_pytest.skipping", "_pytest.unittest",
    "_pytest.pytester",
    "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.dialects.postgresql",
    "sqlalchemy.dialects.postgresql.psycopg", "sqlalchemy.exc", "psycopg", "psycopg_pool",
    "redis", "httpx", "respx", "anyio", "fastapi", "fastapi.testclient", "starlette",
    "pydantic", "uvicorn", "pika", "json", "sqlite3", "uuid",
    "email.message", "smtplib", "http.server", "asyncio", "concurrent.futures",
    "seamlab.errors", "seamlab.config", "seamlab.grading.protocol", "seamlab.isolation",
    "seamlab.backends", "seamlab.waiting", "seamlab.embedded.process",
    "seamlab.child_process", "seamlab.pytest_child",
    "mailprovider", "mailprovider.admin", "mailprovider.server",
)
#: Never imported by the server: pytest imports them by name (``-p``) and rewrites their
#: asserts, and they read the run's environment when imported.
NEVER_PRELOADED = ("seamlab.pytest_plugin", "seamlab.grading.reporter", "pytest_timeout")
_RLIMITS = ("RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE", "RLIMIT_STACK", "RLIMIT_FSIZE",
            "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_AS", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE")
#: Variables that differ between two shells of one user without changing an interpreter.
_VOLATILE = {"PWD", "OLDPWD", "SHLVL", "_", "COLUMNS", "LINES"}
_SCRUBBED = ("PYTHON", "PYTEST_", "TEST_", "SEAMLAB_", "COV_CORE_")
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_MAX_MESSAGE = 1 << 20


class Refused(Exception):
    """The warm path cannot take this run; start it cold."""


# --- shared helpers -----------------------------------------------------------------------------
def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds") and hasattr(
        os, "pidfd_open")


def server_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a server starts with: the caller's, without what a grading child drops."""
    env = {k: v for k, v in (environ or os.environ).items() if not k.startswith(_SCRUBBED)}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def env_fingerprint(environ: Mapping[str, str] | None = None) -> str:
    items = sorted((k, v) for k, v in server_env(environ).items() if k not in _VOLATILE)
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def _send(sock: socket.socket, data: dict, fds: Sequence[int] = ()) -> None:
    payload = json.dumps(data).encode() + b"\n"
    if fds:
        socket.send_fds(sock, [payload], list(fds))
    else:
        sock.sendall(payload)


class _Lines:
    """Newline-separated JSON messages on a stream socket (descriptors on the first one)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.fds: list[int] = []

    def read(self, deadline: float | None = None, with_fds: bool = False) -> dict | None:
        """The next message; None at the deadline; EOFError when the peer is gone."""
        while b"\n" not in self.buffer:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                ready, _, _ = select.select([self.sock], [], [], left)
                if not ready:
                    return None
            if with_fds:
                data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 64)
                self.fds += fds
            else:
                data = self.sock.recv(65536)
            if not data:
                raise EOFError("the warm server closed the connection")
            self.buffer += data
            if len(self.buffer) > _MAX_MESSAGE:
                raise EOFError("message too long")
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _rlimits() -> dict[str, list[int]]:
    return {name: list(resource.getrlimit(getattr(resource, name)))
            for name in _RLIMITS if hasattr(resource, name)}


def _libc():
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


# --- server -------------------------------------------------------------------------------------
def _code_stamp() -> list[tuple[str, float, int]]:
    """What a code change touches: the venv's package folders and every pre-imported source
    file outside the standard library (editable installs: seamlab, mailprovider, signup)."""
    import sysconfig

    paths = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    stdlib = sysconfig.get_paths()["stdlib"]
    stamp = []
    for path in sorted(paths):
        try:
            info = os.stat(path)
            stamp.append((path, info.st_mtime, info.st_size))
        except OSError:
            stamp.append((path, 0.0, 0))
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or file.startswith(stdlib) or any(file.startswith(p) for p in paths):
            continue
        try:
            info = os.stat(file)
            stamp.append((file, info.st_mtime, info.st_size))
        except OSError:
            stamp.append((file, 0.0, 0))
    return stamp


def _stamp_changed(stamp: list[tuple[str, float, int]]) -> str | None:
    for path, mtime, size in stamp:
        try:
            info = os.stat(path)
        except OSError:
            return f"{path} is gone"
        if (info.st_mtime, info.st_size) != (mtime, size):
            return f"{path} changed"
    return None


def preload() -> list[str]:
    """Import PRELOAD (what is installed); returns what could not be imported."""
    missing = []
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a library that is not installed is simply not warm
            missing.append(name)
    return missing


class Server:
    def __init__(self, path: Path, fingerprint: str, idle: float, parent: int | None) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.idle = idle
        self.parent = parent
        self.pid = os.getpid()

    def serve(self) -> list[str] | None:
        """Accept runs until idle or stale. Returns the pytest args, only in a run child."""
        if self.parent:  # session mode: die with the process that started us
            _libc().prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
            if os.getppid() != self.parent:
                return None
        preload()
        leaked = [name for name in NEVER_PRELOADED if name in sys.modules]
        if leaked or threading.active_count() != 1:
            sys.stderr.write(f"warm server refuses to serve: {leaked or 'threads running'}\n")
            return None
        self.stamp = _code_stamp()
        self.names = sorted({name.split(".", 1)[0] for name in sys.modules})
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            temporary.unlink()
        except FileNotFoundError:
            pass
        listener.bind(str(temporary))
        listener.listen(64)
        os.replace(temporary, self.path)  # appears only once it can serve
        self._ino = os.stat(self.path).st_ino
        last = time.monotonic()
        try:
            while True:
                ready, _, _ = select.select([listener], [], [], min(self.idle, 5.0))
                self._reap()
                if not ready:
                    if time.monotonic() - last > self.idle or not self._still_mine():
                        return None
                    continue
                last = time.monotonic()
                conn, _ = listener.accept()
                stale = _stamp_changed(self.stamp)
                if stale or not self._peer_is_me(conn):
                    with _quiet():
                        _send(conn, {"refused": f"stale server: {stale}" if stale
                                     else "another user", "stale": bool(stale)})
                    conn.close()
                    if stale:
                        return None
                    continue
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    return _Supervisor(conn, self).run()
                conn.close()
        finally:
            if os.getpid() == self.pid:
                listener.close()
                self._unlink()

    def _still_mine(self) -> bool:
        """False once another server took the socket's name (or it was removed)."""
        try:
            return os.stat(self.path).st_ino == self._ino
        except OSError:
            return False

    def _unlink(self) -> None:
        try:
            if os.stat(self.path).st_ino == getattr(self, "_ino", None):
                os.unlink(self.path)
        except OSError:
            pass

    @staticmethod
    def _peer_is_me(conn: socket.socket) -> bool:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return uid == os.getuid()

    @staticmethod
    def _reap() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)


class _Supervisor:
    """One connection: check the request, fork the run child, report on it, clean up."""

    def __init__(self, conn: socket.socket, server: Server) -> None:
        self.conn = conn
        self.server = server

    def run(self) -> list[str] | None:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        try:
            lines = _Lines(self.conn)
            request = lines.read(time.monotonic() + 10, with_fds=True)
            if request is None:
                os._exit(0)
            fds = lines.fds
            if request.get("op") == "status":  # a test hook: what this server has imported
                _send(self.conn, {"modules": _module_files(), "pid": self.server.pid})
                os._exit(0)
            reason = self.refusal(request, fds)
            if reason:
                _send(self.conn, {"refused": reason})
                os._exit(0)
            libc = _libc()
            libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            me = os.getpid()
            child = os.fork()
            if child == 0:
                self.conn.close()
                return _become_run_child(request, fds, me, libc)
            for fd in fds:
                os.close(fd)
            _send(self.conn, {"pid": child})
            self.supervise(child, request["token"])
        except BaseException:  # noqa: BLE001 - a supervisor never returns into the server
            pass
        os._exit(0)

    def refusal(self, request: dict, fds: list[int]) -> str | None:
        if request.get("op") != "run":
            return "unknown request"
        if request.get("fingerprint") != self.server.fingerprint:
            os.kill(self.server.pid, signal.SIGTERM)  # useless now: the next run starts another
            return "stale server: it started with another environment"
        if len(fds) != 2 + len(request.get("fds", [])):
            return "descriptors missing"
        shadowed = sorted(set(request.get("names", [])) & set(self.server.names))
        if shadowed:
            return f"the run's folders would shadow {', '.join(shadowed[:5])}"
        for name, (soft, hard) in request.get("rlimits", {}).items():
            have = resource.getrlimit(getattr(resource, name))[1]
            if have != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or hard > have):
                return f"{name} cannot be raised to the caller's"
        if request.get("nice", 0) < os.nice(0):
            return "the caller runs at a higher priority"
        return None

    def supervise(self, child: int, token: str) -> None:
        from seamlab.child_process import kill_everything

        pidfd = os.pidfd_open(child)
        status = None
        while status is None:
            ready, _, _ = select.select([self.conn, pidfd], [], [])
            if pidfd in ready:
                _, status = os.waitpid(child, 0)
                with _quiet():
                    _send(self.conn, {"status": status})
                break
            if self.conn in ready:  # the client is gone or asks us to stop: kill it all
                kill_everything(child, token)
                _, status = os.waitpid(child, 0)
                with _quiet():
                    _send(self.conn, {"status": status})
                break
        # Wait (bounded) for the client's own kill, then make sure nothing is left.
        with _quiet():
            select.select([self.conn], [], [], 30)
        kill_everything(child, token)
        Server._reap()


def _module_files() -> list[str]:
    return sorted(f"{name}={getattr(module, '__file__', None) or ''}"
                  for name, module in list(sys.modules.items()))


def _become_run_child(request: dict, fds: list[int], supervisor: int, libc) -> list[str]:
    """In the forked child: become what the cold path's exec would have made; returns args."""
    try:
        os.setsid()
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != supervisor:
            os._exit(1)
        for number in range(1, signal.NSIG):
            if number in (signal.SIGKILL, signal.SIGSTOP):
                continue
            try:
                signal.signal(number, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as Python starts
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        _place_descriptors(fds, request["fds"])
        os.umask(request["umask"])
        for name, (soft, hard) in request["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        if request.get("nice", 0) > os.nice(0):
            os.nice(request["nice"] - os.nice(0))
        memory = request.get("memory_mb")
        if memory:
            size = memory * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        import tempfile

        tempfile.tempdir = None
        _fresh_stdio()
        sys.orig_argv = list(request["argv"])
        return list(request["args"])
    except BaseException as error:  # noqa: BLE001
        with _quiet():
            os.write(2, f"seamlab warm child could not start: {error!r}\n".encode())
        os._exit(70)


def _place_descriptors(received: list[int], targets: list[int]) -> None:
    """stdin /dev/null, stdout/stderr and the passed descriptors at the caller's numbers; no
    other descriptor stays open (the cold path's close_fds)."""
    import fcntl

    wanted = [*received[:2], *received[2:]]
    numbers = [1, 2, *targets]
    floor = max([*numbers, *received, 2]) + 1
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor) for fd in wanted]
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    for source, number in zip(high, numbers, strict=True):
        os.dup2(source, number, inheritable=number in (1, 2) or number in targets)
    keep = {0, *numbers}
    for entry in os.listdir("/proc/self/fd"):
        fd = int(entry)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    for number in targets:
        os.set_inheritable(number, True)


def _fresh_stdio() -> None:
    """New sys.stdin/stdout/stderr on 0/1/2, built as the interpreter builds them at startup."""
    import io

    encoding = sys.stdout.encoding if sys.stdout else "utf-8"
    errors = sys.stdout.errors if sys.stdout else "strict"

    def stream(fd: int, mode: str, errors: str, line: bool) -> io.TextIOWrapper:
        raw = io.FileIO(fd, mode, closefd=False)
        buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
        return io.TextIOWrapper(buffered, encoding=encoding, errors=errors,
                                line_buffering=line or raw.isatty(),
                                write_through=fd == 2)

    sys.stdin = sys.__stdin__ = stream(0, "r", errors, False)
    sys.stdout = sys.__stdout__ = stream(1, "w", errors, False)
    sys.stderr = sys.__stderr__ = stream(2, "w", "backslashreplace", True)


def _server_main(argv: list[str]) -> list[str] | None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m seamlab.warm")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--fingerprint", required=True)
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS)
    parser.add_argument("--parent", type=int, default=0)
    options = parser.parse_args(argv)
    server = Server(Path(options.socket), options.fingerprint, options.idle, options.parent)
    return server.serve()


# --- client -------------------------------------------------------------------------------------
_lock = threading.Lock()
_mode: str | None = None
_root: Path | None = None
_session: dict | None = None
#: How long a client waits for a server that is starting (it imports for a second or two).
_connect_wait = 60.0


def use(mode: str | None, root: Path | None = None) -> None:
    """``"session"``, ``"shared"`` (per course ``root``) or None (cold, the default)."""
    global _mode, _root
    # Opt-in (SEAMLAB_WARM=1) until warm and cold agree on every exercise: see NOTE-warm.md
    # (16's greenlet import and 05's deep recursion differ today).
    if mode is not None and (os.environ.get(OFF_ENV) != "1" or not supported()):
        mode = None
    with _lock:
        if _mode == "session" and mode != "session":
            _stop_session()
        _mode, _root = mode, root
    if mode == "session":
        try:
            _ensure_session()  # now, from this thread: it lives as long as this process
        except Refused:
            pass


def mode() -> str | None:
    return _mode


def socket_path() -> Path | None:
    """Where this process's server listens (None when the warm path is off)."""
    if _mode == "session":
        return _ensure_session()
    if _mode == "shared":
        return _shared_path()
    return None


def _shared_path() -> Path:
    from seamlab.paths import state_dir

    folder = state_dir(_root) / "warm"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    key = hashlib.sha256(f"{sys.executable}\0{sys.prefix}".encode()).hexdigest()[:12]
    path = folder / f"server-{key}.sock"
    if len(os.fsencode(path)) < 100:
        return path
    # A Unix socket's name has at most 107 bytes: a deep course folder gets a private short one.
    short = Path(f"/tmp/seamlab-warm-{os.getuid()}")
    try:
        short.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(short)
    if not os.path.isdir(short) or os.path.islink(short) or info.st_uid != os.getuid() or \
            info.st_mode & 0o077:
        raise Refused(f"{short} is not a private folder of this user")
    digest = hashlib.sha256(os.fsencode(folder)).hexdigest()[:12]
    return short / f"{digest}-{key}.sock"


def _spawn(path: Path, parent: int | None, idle: float) -> subprocess.Popen:
    env = server_env()
    argv = [sys.executable, "-I", "-B", "-m", "seamlab.warm", "--socket", str(path),
            "--fingerprint", env_fingerprint(), "--idle", f"{idle:g}"]
    if parent:
        argv += ["--parent", str(parent)]
    log = path.with_suffix(".log")
    with open(log, "ab") as err:
        return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, close_fds=True,
                                start_new_session=True, cwd="/")


def _ensure_session() -> Path:
    """The session server's socket; (re)started only from the main thread (it dies with the
    thread that started it)."""
    global _session
    with _lock:
        if _session is None or _session["process"].poll() is not None:
            if threading.current_thread() is not threading.main_thread():
                raise Refused("the session server is gone")
            import tempfile

            folder = Path(tempfile.mkdtemp(prefix="seamlab-warm-"))
            os.chmod(folder, 0o700)
            path = folder / "server.sock"
            _session = {"folder": folder, "path": path,
                        "process": _spawn(path, os.getpid(), 10 ** 7)}
            import atexit

            atexit.register(_stop_session)
        return _session["path"]


def _stop_session() -> None:
    global _session
    session, _session = _session, None
    if session is None:
        return
    process = session["process"]
    if process.poll() is None:
        process.kill()
        process.wait()
    import shutil

    shutil.rmtree(session["folder"], ignore_errors=True)


def server_pid() -> int | None:
    """The session server's pid (for tests), else None."""
    return _session["process"].pid if _session else None


def _connect(path: Path, wait: float, process: subprocess.Popen | None = None) -> socket.socket:
    deadline = time.monotonic() + wait
    while True:
        if process is not None and process.poll() is not None:
            raise Refused(f"the warm server exited at start (code {process.returncode}); "
                          f"see {path.with_suffix('.log')}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            if struct.unpack("3i", creds)[1] != os.getuid():
                sock.close()
                raise Refused(f"the server at {path} belongs to another user")
            return sock
        except OSError as error:
            sock.close()
            if error.errno not in (errno.ENOENT, errno.ECONNREFUSED) or \
                    time.monotonic() >= deadline:
                raise Refused(f"no warm server at {path} ({error})") from None
            time.sleep(0.02)


def connect() -> socket.socket:
    """A connection to this process's server, starting one if there is none."""
    path = socket_path()
    if path is None:
        raise Refused("the warm path is off")
    try:
        process = _session["process"] if _mode == "session" and _session else None
        return _connect(path, 0.0 if _mode == "shared" else _connect_wait, process)
    except Refused:
        if _mode != "shared":
            raise
    with open(path.with_suffix(".lock"), "a") as lock:
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)  # one starter at a time
        try:
            return _connect(path, 0.0)
        except Refused:
            process = _spawn(path, None, float(os.environ.get("SEAMLAB_WARM_IDLE", IDLE_SECONDS)))
            return _connect(path, _connect_wait, process)


def status() -> dict:
    """The server's pid and ``name=file`` of every module it has imported (a test hook)."""
    sock = connect()
    with sock:
        _send(sock, {"op": "status"})
        try:
            reply = _Lines(sock).read(time.monotonic() + 30)
        except (OSError, EOFError) as error:
            raise Refused(f"no status from the warm server ({error})") from None
    if not reply:
        raise Refused("no status from the warm server")
    return reply


def modules() -> list[str]:
    return status()["modules"]


def shadow_names(folders: Sequence[Path]) -> list[str]:
    """Top-level module names the folders offer (their .py files and packages, at any depth:
    pytest puts test folders on sys.path)."""
    names: set[str] = set()
    for folder in folders:
        folder = Path(folder)
        if folder.is_file():
            folder = folder.parent
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            names.update(d for d in dirs if d.isidentifier())
            names.update(f[:-3] for f in files if f.endswith(".py"))
            names.update(f.split(".", 1)[0] for f in files if f.endswith((".so", ".pyd")))
    return sorted(names)


class WarmRunning:
    """A run in a forked child of the warm server; the interface of `pytest_child.Running`."""

    def __init__(self, spec, argv: list[str], env: Mapping[str, str],
                 pass_fds: Sequence[int] = ()) -> None:
        import dataclasses

        from seamlab import child_process

        # What `pytest_child` execs in front of pytest's own arguments.
        expected = child_process.pytest_argv(dataclasses.replace(
            spec, args=[], limits=child_process.Limits()))
        if list(spec.python_flags) != ["-I", "-B"] or argv[:len(expected)] != expected:
            raise Refused("not a plain `python -I -B -m pytest` run")
        self.spec = spec
        self.token = __import__("uuid").uuid4().hex
        out_dir = Path(spec.output_dir or spec.cwd)
        self.stdout_path = out_dir / "stdout.txt"
        self.stderr_path = self.stdout_path if spec.merge_output else out_dir / "stderr.txt"
        names = shadow_names(spec.import_roots)
        request = {
            "op": "run", "argv": argv, "args": argv[len(expected):], "cwd": str(spec.cwd),
            "env": {**env, child_process.TOKEN_ENV: self.token}, "fds": list(pass_fds),
            "memory_mb": spec.limits.memory_mb, "umask": _umask(), "rlimits": _rlimits(),
            "nice": os.nice(0), "names": names, "fingerprint": env_fingerprint(),
            "token": self.token,
        }
        self.status: int | None = None
        sock = connect()
        try:
            with open(self.stdout_path, "wb") as out:
                err = out if spec.merge_output else open(self.stderr_path, "wb")  # noqa: SIM115
                try:
                    self.started = time.perf_counter()
                    _send(sock, request, [out.fileno(), err.fileno(), *pass_fds])
                finally:
                    if err is not out:
                        err.close()
            self.lines = _Lines(sock)
            reply = self.lines.read(time.monotonic() + 30)
        except (OSError, EOFError, ValueError) as error:
            sock.close()
            raise Refused(f"the warm server did not answer ({error})") from None
        except BaseException:
            sock.close()  # the supervisor kills whatever it started
            raise
        if reply is None or "pid" not in reply:
            sock.close()
            if reply and "stale server" in reply.get("refused", ""):
                _forget_stale()
            raise Refused((reply or {}).get("refused", "no answer from the warm server"))
        self.sock = sock
        self._pid = int(reply["pid"])
        self.timed_out = False
        self.killed = 0

    @property
    def pid(self) -> int:
        return self._pid

    def wait(self, timeout: float | None = None):
        from seamlab import child_process

        limit = self.spec.limits.wall if timeout is None else timeout
        try:
            deadline = time.monotonic() + max(0.0, self.started + limit - time.perf_counter())
            reply = self.lines.read(deadline)
            if reply is None:
                self.timed_out = True
            else:
                self.status = int(reply["status"])
        except EOFError:
            self.kill()
            raise child_process.ChildLost(
                "the warm grading server", "its socket", "it stopped during the run",
                "run the check again (it starts cold if the server is gone)") from None
        except BaseException:
            self.kill()
            raise
        killed = self.kill()
        return child_process.Finished(
            returncode=None if self.timed_out or self.status is None
            else os.waitstatus_to_exitcode(self.status),
            timed_out=self.timed_out, duration=time.perf_counter() - self.started,
            stdout_path=self.stdout_path, stderr_path=self.stderr_path, killed=killed)

    def kill(self) -> int:
        from seamlab.child_process import kill_everything

        killed = kill_everything(self._pid, self.token)
        if self.status is None:
            try:
                self.sock.shutdown(socket.SHUT_WR)  # the supervisor kills and reaps it
                reply = self.lines.read(time.monotonic() + 10)
                if reply is not None:
                    self.status = int(reply["status"])
            except (OSError, EOFError, ValueError):
                pass
        self.sock.close()
        return killed


def _forget_stale() -> None:
    """A stale shared server exits by itself; a stale session server is replaced."""
    if _mode == "session":
        with _lock:
            _stop_session()


def start(spec, argv: list[str], env: Mapping[str, str], pass_fds: Sequence[int] = ()):
    """A `WarmRunning`, or Refused (then the caller starts cold)."""
    if _mode is None:
        raise Refused("the warm path is off")
    return WarmRunning(spec, argv, env, pass_fds)


if __name__ == "__main__":
    _args = _server_main(sys.argv[1:])
    if _args is None:
        sys.exit(0)
    # Only a run child gets here: `python -m pytest <args>`, as the cold path execs it.
    sys.argv = ["-m", *_args]
    import runpy

    runpy.run_module("pytest", run_name="__main__", alter_sys=True)
