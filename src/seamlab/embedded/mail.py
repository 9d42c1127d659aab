"""The course's fake email provider (``python -m mailprovider``) as a detached background process."""

from __future__ import annotations

import http.client
import importlib.util
import json
import sys

from seamlab.embedded.base import EmbeddedServer
from seamlab.embedded.process import EmbeddedError, spawn_detached


class MailServer(EmbeddedServer):
    name = "mail"
    title = "Mail provider"
    start_timeout = 20.0

    @classmethod
    def available(cls) -> bool:
        try:
            return importlib.util.find_spec("mailprovider.__main__") is not None
        except ImportError:
            return False

    @classmethod
    def install_hint(cls) -> str:
        return "install the course package with its services (`pip install -e .` in the course folder)"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def version(self) -> str:
        """The API version the running provider reports (as ``doctor`` shows it)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=2)
        try:
            connection.request("GET", "/__admin/health")
            return str(json.loads(connection.getresponse().read()).get("version", ""))
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            return ""
        finally:
            connection.close()

    def launch(self) -> None:
        if not self.available():
            raise EmbeddedError(
                f"The mail provider (python -m mailprovider) is not installed. Fix: {self.install_hint()}"
            )
        argv = [sys.executable, "-m", "mailprovider", "--host", self.host, "--port", str(self.port)]
        spawn_detached(argv, log_path=self.log_path, pid_path=self.pid_path, cwd=self.home)

    def is_ready(self) -> bool:
        return health_status(self.host, self.port, timeout=0.5) == 200


def health_status(host: str, port: int, timeout: float = 2.0) -> int | None:
    """The HTTP status of GET /__admin/health, or None when nothing answers (stdlib only: fast)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", "/__admin/health")
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()
