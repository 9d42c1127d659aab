"""A private RabbitMQ node beside any node the machine already runs.

A second node on one machine needs its own node name, AMQP port, distribution port, data, log
and config locations, and its own Erlang cookie (HOME). The machine's env file
(/etc/rabbitmq/rabbitmq-env.conf) is bypassed with RABBITMQ_CONF_ENV_FILE so it cannot rename
this node. Starting takes seconds, so ``start()`` returns at once and readiness is awaited only
by whoever needs the broker.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from functools import cached_property
from pathlib import Path

from seamlab.embedded.base import EmbeddedServer
from seamlab.embedded.hints import install_command
from seamlab.embedded.process import (
    EmbeddedError,
    free_port,
    live_pid,
    port_open,
    spawn_detached,
    terminate,
)

#: The AMQP 0-9-1 protocol header; a broker answers it with a Connection.Start method frame.
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"
EPMD_PORT = 4369
_LIB_BIN = Path("/usr/lib/rabbitmq/bin")


#: The rabbitmq-server script to run: a path, or empty for "none on this machine".
ENV_SCRIPT = "SEAMLAB_RABBITMQ_SERVER"


def find_script(name: str) -> str | None:
    """The real script (Debian's /usr/sbin wrappers switch to the rabbitmq user; we do not).

    ``SEAMLAB_RABBITMQ_SERVER`` replaces the search for ``rabbitmq-server``: a path to the
    script, or empty for none (there is no pip-shipped RabbitMQ to fall back on).
    """
    override = os.environ.get(ENV_SCRIPT) if name == "rabbitmq-server" else None
    if override is not None:
        return override if override.strip() and os.access(override, os.X_OK) else None
    direct = _LIB_BIN / name
    if direct.is_file():
        return str(direct)
    return shutil.which(name)


def amqp_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether host:port speaks AMQP 0-9-1 (answers the protocol header with a method frame)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(AMQP_HEADER)
            sock.settimeout(timeout)
            reply = sock.recv(8)
    except OSError:
        return False
    return reply[:1] == b"\x01"


class RabbitMQServer(EmbeddedServer):
    name = "rabbitmq"
    title = "RabbitMQ"
    start_timeout = 60.0
    stop_signal = signal.SIGTERM  # the Erlang VM shuts down cleanly on SIGTERM

    def __init__(
        self,
        run_dir: Path,
        port: int,
        host: str = "127.0.0.1",
        *,
        node: str | None = None,
        dist_port: int | None = None,
        management_port: int | None = None,
    ) -> None:
        super().__init__(run_dir, port, host)
        self.node = node or ("seamlab@localhost" if port == 5673 else f"seamlab{port}@localhost")
        # 5673 -> 25673, beside the machine node's 25672; high test ports get any free port.
        self.dist_port = dist_port or (port + 20000 if port + 20000 <= 65535 else free_port())
        self.management_port = management_port

    @classmethod
    def available(cls) -> bool:
        return find_script("rabbitmq-server") is not None

    @classmethod
    def install_hint(cls) -> str:
        if os.environ.get(ENV_SCRIPT, None) not in (None, ""):
            return (
                f"{ENV_SCRIPT}={os.environ[ENV_SCRIPT]} is not an executable rabbitmq-server "
                "script: point it at one, or unset it"
            )
        return f"{install_command('rabbitmq')} (no pip package ships a RabbitMQ server)"

    @cached_property
    def env(self) -> dict[str, str]:
        home = self.home
        env = {key: value for key, value in os.environ.items() if not key.startswith("RABBITMQ_")}
        env.update(
            HOME=str(home),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS=self.host,
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONF_ENV_FILE=str(home / "rabbitmq-env.conf"),
            RABBITMQ_CONFIG_FILE=str(home / "rabbitmq.conf"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(home / "advanced.config"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(home / "enabled_plugins"),
            RABBITMQ_MNESIA_BASE=str(home / "mnesia"),
            RABBITMQ_LOG_BASE=str(home / "log"),
            RABBITMQ_PID_FILE=str(home / "beam.pid"),
            ERL_EPMD_ADDRESS="127.0.0.1",
            ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}",
        )
        return env

    def _write_config(self) -> None:
        home = self.home
        (home / "mnesia").mkdir(parents=True, exist_ok=True)
        (home / "log").mkdir(parents=True, exist_ok=True)
        (home / "rabbitmq-env.conf").write_text("# seamlab: settings come from the environment\n")
        lines = [
            f"listeners.tcp.1 = {self.host}:{self.port}",
            "loopback_users.guest = true",
            "log.console = false",
            "log.file.level = warning",
            "vm_memory_high_watermark.relative = 0.2",
            "disk_free_limit.absolute = 50MB",
        ]
        plugins = "[]."
        if self.management_port:
            lines += [
                f"management.tcp.port = {self.management_port}",
                f"management.tcp.ip = {self.host}",
            ]
            plugins = "[rabbitmq_management]."
        (home / "rabbitmq.conf").write_text("\n".join(lines) + "\n")
        (home / "enabled_plugins").write_text(plugins + "\n")
        (home / "advanced.config").write_text("[].\n")

    def version(self) -> str:
        script = find_script("rabbitmq-server")
        if script is None:
            return ""
        match = re.search(r"rabbitmq_server-([\d.]+)", str(Path(script).resolve()))
        if match:
            return match.group(1)
        for folder in sorted(Path("/usr/lib/rabbitmq/lib").glob("rabbitmq_server-*"), reverse=True):
            return folder.name.split("-", 1)[1]
        return ""

    def launch(self) -> None:
        script = find_script("rabbitmq-server")
        if script is None:
            raise EmbeddedError(f"rabbitmq-server was not found. Fix: {self.install_hint()}")
        if port_open("127.0.0.1", self.dist_port):
            raise EmbeddedError(
                f"RabbitMQ's distribution port 127.0.0.1:{self.dist_port} is taken. Fix: stop the "
                f"program on it (`ss -ltnp 'sport = :{self.dist_port}'`)."
            )
        self._write_config()
        epmd_before = port_open("127.0.0.1", EPMD_PORT)
        (self.home / "epmd.ours").unlink(missing_ok=True)
        spawn_detached(
            [script], log_path=self.log_path, pid_path=self.pid_path, env=self.env, cwd=self.home
        )
        if not epmd_before:
            # The node starts epmd if none runs; remember to stop it again in stop().
            (self.home / "epmd.ours").write_text("started by seamlab\n")

    def is_ready(self) -> bool:
        return amqp_answers(self.host, self.port)

    def stop(self, timeout: float = 30.0) -> bool:
        beam = live_pid(self.home / "beam.pid")
        stopped = super().stop(timeout)
        # The script forwards SIGTERM to the VM; should the VM outlive it, stop the VM too.
        stopped = terminate(beam, signal.SIGTERM, timeout) or stopped
        (self.home / "beam.pid").unlink(missing_ok=True)
        marker = self.home / "epmd.ours"
        if marker.exists():
            marker.unlink()
            _stop_idle_epmd()
        return stopped


def _stop_idle_epmd() -> None:
    """Stop epmd if seamlab caused it to start and no Erlang node is registered any more."""
    epmd = shutil.which("epmd")
    if epmd is None:
        return
    try:
        names = subprocess.run([epmd, "-names"], check=False, capture_output=True, text=True, timeout=5).stdout
        if "name " not in names:
            subprocess.run([epmd, "-kill"], check=False, capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        pass
