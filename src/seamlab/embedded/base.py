"""What every embedded server looks like to the backend: start, check, wait, stop."""

from __future__ import annotations

import time
from pathlib import Path

from seamlab.embedded.process import EmbeddedError, live_pid, log_tail, port_open, terminate

HOST = "127.0.0.1"


class EmbeddedServer:
    """One private server process living in ``run_dir/<name>/`` and listening on ``port``.

    Subclasses provide ``name``, ``title``, :meth:`available`, :meth:`launch`, :meth:`is_ready`
    and the locations of the pid and log files. ``start()`` never waits; ``wait_ready()`` does.
    """

    name = "server"
    title = "Server"
    #: How long a cold start may take before we give up (seconds).
    start_timeout = 20.0
    stop_signal = 15

    def __init__(self, run_dir: Path, port: int, host: str = HOST) -> None:
        self.run_dir = Path(run_dir).resolve()
        self.port = port
        self.host = host

    # -- locations ------------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.run_dir / self.name

    @property
    def pid_path(self) -> Path:
        return self.home / f"{self.name}.pid"

    @property
    def log_path(self) -> Path:
        return self.home / f"{self.name}.log"

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    # -- to override -------------------------------------------------------------------------
    @classmethod
    def available(cls) -> bool:
        raise NotImplementedError

    @classmethod
    def install_hint(cls) -> str:
        raise NotImplementedError

    def launch(self) -> None:
        """Start the process (without waiting for readiness)."""
        raise NotImplementedError

    def is_ready(self) -> bool:
        """One quick readiness check (protocol-level, not only an open port)."""
        raise NotImplementedError

    def version(self) -> str:
        return ""

    # -- shared behaviour ----------------------------------------------------------------------
    def pid(self) -> int | None:
        """The pid of the server we started, if it is still alive."""
        return live_pid(self.pid_path)

    def start(self) -> str:
        """Start unless already running; returns "reused" or "started". Does not wait."""
        if self.pid() is not None:
            return "reused"
        if port_open(self.host, self.port):
            raise EmbeddedError(
                f"{self.title} cannot start on {self.where}: another program already listens "
                f"there. Fix: stop that program (`ss -ltnp 'sport = :{self.port}'` shows which), "
                "or point the TEST_* variables at it."
            )
        self.home.mkdir(parents=True, exist_ok=True)
        self.launch()
        return "started"

    def wait_ready(self, timeout: float | None = None) -> None:
        """Poll :meth:`is_ready` until it answers; raise EmbeddedError with the log's tail if not."""
        limit = self.start_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            if self.is_ready():
                return
            if self.pid() is None and self.pid_path.exists():
                raise EmbeddedError(
                    f"{self.title} on {self.where} exited while starting. "
                    f"Log {self.log_path}: {log_tail(self.log_path) or '(empty)'}"
                )
            if time.monotonic() >= deadline:
                raise EmbeddedError(
                    f"{self.title} on {self.where} was not ready after {limit:.0f} s. "
                    f"Log {self.log_path}: {log_tail(self.log_path) or '(empty)'}. "
                    "Fix: `seamlab down` then `seamlab up`."
                )
            time.sleep(0.02)

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the server we started (never anything else). True if one was running."""
        pid = self.pid()
        stopped = terminate(pid, self.stop_signal, timeout) if pid else False
        self.pid_path.unlink(missing_ok=True)
        return stopped
