"""The command that provides a missing server on *this* machine (apt, dnf, Homebrew, Docker).

Fix texts name what the learner can actually type here: ``apt-get`` on Debian/Ubuntu, Homebrew
on macOS, Docker only when a Docker client is installed ("Docker Desktop" only on macOS and
Windows), and WSL 2 where a feature cannot work on native Windows. Standard library only, no
module-level imports of POSIX-only modules: the CLI must import on Windows.
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

#: What each package manager calls the server packages.
APT = {"postgres": "postgresql", "redis": "redis-server", "rabbitmq": "rabbitmq-server"}
DNF = {"postgres": "postgresql-server", "redis": "redis", "rabbitmq": "rabbitmq-server"}
BREW = {"postgres": "postgresql@18", "redis": "redis", "rabbitmq": "rabbitmq"}
WSL = "WSL 2 (https://learn.microsoft.com/windows/wsl/install)"


def os_kind() -> str:
    """"debian", "fedora", "linux", "macos" or "windows"."""
    system = platform.system()
    if system == "Darwin":
        return "macos"
    if system == "Windows" or os.name == "nt":
        return "windows"
    if system == "Linux":
        if Path("/etc/debian_version").exists() or shutil.which("apt-get"):
            return "debian"
        if shutil.which("dnf"):
            return "fedora"
    return "linux"


def _sudo() -> str:
    geteuid = getattr(os, "geteuid", None)
    return "" if geteuid is None or geteuid() == 0 else "sudo "


def package_command(service: str, kind: str | None = None) -> str | None:
    """The package manager's install command for ``service`` here, or None (Windows, unknown)."""
    kind = kind or os_kind()
    if kind == "debian":
        return f"`{_sudo()}apt-get install {APT[service]}`"
    if kind == "fedora":
        return f"`{_sudo()}dnf install {DNF[service]}`"
    if kind == "macos":
        return f"`brew install {BREW[service]}`"
    return None


def docker_command(kind: str | None = None) -> str | None:
    """How to get Docker running here so `seamlab up` can use containers; None without Docker
    on Linux (we do not send a Linux learner to install "Docker Desktop")."""
    kind = kind or os_kind()
    if kind in ("macos", "windows"):
        return "start Docker Desktop"
    if shutil.which("docker"):
        return f"start the Docker engine (`{_sudo()}systemctl start docker`)"
    return None


def install_command(service: str, kind: str | None = None) -> str:
    """Every way to provide ``service`` on this OS, as one clause: "`apt-get install ...`, or ..."."""
    kind = kind or os_kind()
    ways = [way for way in (package_command(service, kind), docker_command(kind)) if way]
    if kind == "windows" and service in ("postgres", "redis", "rabbitmq"):
        ways.append(f"run the course inside {WSL}")
    if not ways:
        ways.append(f"install a {service} server with your system's package manager")
    return ", or ".join(ways)


def windows_unsupported(feature: str) -> str:
    """One line for a feature native Windows cannot run."""
    return f"{feature} does not work on native Windows. Fix: run the course inside {WSL}."
