"""Run an ASGI app on a real socket in a background thread (uvicorn), and stop it cleanly.

:class:`AppServer` is generic (the pytest plugin's ``live_server`` uses it for any app);
:class:`MailProviderServer` runs the mail provider with it. The socket is bound before the
thread starts, so the port is known at once (port 0 = a free one) and no connection is refused
while uvicorn starts; ``start()`` returns when uvicorn is serving.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, Self

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from mailprovider.app import DROP_EXTENSION, create_app

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0


class DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, plus a scope extension that lets the app abort the socket.

    Aborting closes the TCP connection without a byte of response, which is what a crashed or
    overloaded provider looks like to the client (httpx raises RemoteProtocolError/ReadError).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app_with_drop(scope: dict, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                extensions = dict(scope.get("extensions") or {})
                extensions[DROP_EXTENSION] = {"abort": self._abort}
                scope = {**scope, "extensions": extensions}
            await inner(scope, receive, send)

        self.app = app_with_drop

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is serving and stops as soon as it is asked."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets=sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        # uvicorn polls should_exit every 0.1 s; waiting on an event makes stop() immediate.
        counter = 0
        while not await self.on_tick(counter):
            counter += 1
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            except TimeoutError:
                pass

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own shutdown sleeps 0.1 s and polls every 0.1 s; this one polls every 5 ms.
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 0)
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in list(state.tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()

    def request_exit(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:  # loop already closed: the server has stopped
                pass


class AppServer:
    """``with AppServer(app) as server: httpx.get(server.url + "/...")``."""

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int = 0, name: str = "app server"
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.name = name
        self.port: int | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError(f"the {self.name} is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    def start(self) -> AppServer:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as error:
            sock.close()
            raise OSError(
                f"the {self.name} cannot listen on {self.host}:{self.requested_port} ({error}). "
                "Fix: stop whatever uses that port, or choose another port (0 = any free one)."
            ) from None
        sock.listen(128)
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            http=DroppingH11Protocol,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"{self.name} :{self.port}", daemon=True
        )
        self._thread.start()
        self._server.ready.wait(_START_TIMEOUT)
        if not self._server.started:
            error = self._error
            self.stop()
            raise RuntimeError(
                f"the {self.name} did not start within {_START_TIMEOUT:.0f} s"
                + (f" ({type(error).__name__}: {error})" if error else "")
            )
        return self

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as error:  # noqa: BLE001 - reported by start()
            self._error = error
        finally:
            self._server.ready.set()

    def stop(self) -> None:
        if self._server is not None:
            self._server.request_exit()
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self.port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class MailProviderServer(AppServer):
    """A real mail provider on ``host:port`` (0 = a free port); ``.url``, ``.handle()``."""

    def __init__(self, port: int = 0, version: int = 1, *, host: str = "127.0.0.1") -> None:
        self.version = version
        super().__init__(create_app(version), host=host, port=port, name="mail provider")

    @property
    def journal(self):
        return self.app.state.journal

    def handle(self):
        from mailprovider.admin import MailProviderHandle

        return MailProviderHandle(self.url)

    def __enter__(self) -> Self:
        self.start()
        return self
