"""A private network for one grading run, with guarded doors to the course services.

Learner code runs in its own network namespace: inside it, 127.0.0.1 has only what we put
there. For each course service we listen on its usual port *inside* the namespace and relay
each connection to the real server outside:

- Postgres: the relay reads the startup packet first and lets through only the run's own role
  on the run's own database. So ``psql -U seamlab`` (the superuser, trust auth) or a
  connection to a neighbour's database is refused before the server ever sees it.
- Redis: relayed to the run's private redis-server (so FLUSHALL empties only the run's own).
- RabbitMQ: relayed as is (the guest account is shared; tests use unique queue names).

Nothing else is reachable: not the machine's own services on default ports, not the internet.
Needs root (CAP_SYS_ADMIN); :func:`available` says whether this machine allows it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)

_SSL_REQUEST, _GSS_REQUEST, _CANCEL_REQUEST, _PROTOCOL_3 = 80877103, 80877104, 80877102, 196608


def available() -> str | None:
    """None when private networks can be made here, else the reason (one line)."""
    if os.geteuid() != 0:
        return "not running as root"
    try:
        namespace = Namespace()
    except OSError as error:
        return f"cannot create a network namespace ({error.strerror or error})"
    namespace.close()
    return None


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


class Namespace:
    """A new network namespace with loopback up; ``fd`` joins it (setns), ``listen`` opens
    a port inside it. The namespace lives as long as ``fd`` or one of its sockets is open."""

    def __init__(self) -> None:
        self.fd = -1
        self._error: OSError | None = None
        self._requests: list[tuple[int, Callable]] = []
        thread = threading.Thread(target=self._create, name="seamlab-netns", daemon=True)
        thread.start()
        thread.join()
        if self._error is not None:
            raise self._error

    def _create(self) -> None:
        # Namespaces belong to threads: this short-lived thread moves into the new one, opens a
        # handle on it and ends; the rest of the process never leaves the host network.
        try:
            if _libc.unshare(CLONE_NEWNET) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, os.strerror(errno))
            _loopback_up()
            self.fd = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
        except OSError as error:
            self._error = error

    def listen(self, port: int) -> socket.socket:
        """A listening TCP socket on 127.0.0.1:port inside the namespace."""
        result: list = []

        def inside() -> None:
            try:
                if _libc.setns(self.fd, CLONE_NEWNET) != 0:
                    errno = ctypes.get_errno()
                    raise OSError(errno, os.strerror(errno))
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
                sock.listen(64)
                result.append(sock)
            except OSError as error:
                result.append(error)

        thread = threading.Thread(target=inside, name="seamlab-netns-listen", daemon=True)
        thread.start()
        thread.join()
        if isinstance(result[0], OSError):
            raise result[0]
        return result[0]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


# --- relays -----------------------------------------------------------------------------------
Connector = Callable[[], socket.socket]
#: Reads what the client sends first; returns the bytes to pass on, or None to refuse.
Gate = Callable[[socket.socket], "bytes | None"]


@dataclass
class Relay:
    """Accepts on ``listener`` (inside the namespace) and pipes each connection to ``connect()``."""

    name: str
    listener: socket.socket
    connect: Connector
    gate: Gate | None = None
    refused: list[str] = field(default_factory=list)
    _sockets: set[socket.socket] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    def start(self) -> Relay:
        threading.Thread(target=self._accept, name=f"seamlab-relay-{self.name}",
                         daemon=True).start()
        return self

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            if self._closed:
                sock.close()
                raise OSError("relay closed")
            self._sockets.add(sock)

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            self._track(client)
            first = b""
            if self.gate is not None:
                first = self.gate(client)
                if first is None:
                    return
            upstream = self.connect()
            self._track(upstream)
            if first:
                upstream.sendall(first)
            back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
            back.start()
            _pump(client, upstream)
            back.join()
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets = list(self._sockets)
        with contextlib.suppress(OSError):
            self.listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


def _pump(source: socket.socket, dest: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            dest.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dest.shutdown(socket.SHUT_WR)


def tcp(host: str, port: int) -> Connector:
    return lambda: socket.create_connection((host, port), timeout=5)


def unix(path: str) -> Connector:
    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(path)
        sock.settimeout(None)
        return sock

    return connect


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed during the startup packet")
        data += chunk
    return data


def postgres_gate(user: str, database: str, refused: list[str]) -> Gate:
    """Let through only ``user`` on ``database``; answer anything else with a FATAL error."""

    def gate(client: socket.socket) -> bytes | None:
        client.settimeout(10)
        while True:
            head = _recv_exact(client, 8)
            length, code = struct.unpack("!ii", head)
            if not 8 <= length <= 10_000:
                return None
            packet = head + _recv_exact(client, length - 8)
            if code in (_SSL_REQUEST, _GSS_REQUEST):
                client.sendall(b"N")  # no TLS inside the sandbox: plain protocol next
                continue
            client.settimeout(None)
            if code == _CANCEL_REQUEST:
                return packet
            if code != _PROTOCOL_3:
                return None
            fields = packet[8:].split(b"\0")
            params = dict(zip(fields[0::2], fields[1::2]))
            asked_user = params.get(b"user", b"").decode(errors="replace")
            asked_db = params.get(b"database", b"").decode(errors="replace") or asked_user
            if asked_user == user and asked_db == database:
                return packet
            refused.append(f"{asked_user}@{asked_db}")
            client.sendall(_pg_error(
                f"seamlab grading: this run may only connect as role {user} to database "
                f"{database} (asked for role {asked_user}, database {asked_db})"))
            return None

    return gate


def _pg_error(message: str) -> bytes:
    fields = b"SFATAL\0VFATAL\0C42501\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", len(fields) + 4) + fields
