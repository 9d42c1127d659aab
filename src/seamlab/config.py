"""One typed view of where the services are, read from ``TEST_*`` environment variables.

The CLI, the pytest plugin, the notebooks, the grader and the sample system all build their
connections from :class:`Settings`; nothing else reads these variables.

Defaults point at the *compose ports* (5433, 6380, 5673, 8025) that ``docker-compose.test.yml``
and the embedded backend both serve. There is deliberately no default that points at a
developer's own database on 5432.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit, urlunsplit

from seamlab.errors import ConfigError

#: Host ports of the course topology (docker-compose.test.yml and the embedded backend).
COMPOSE_PORTS = {"postgres": 5433, "redis": 6380, "rabbitmq": 5673, "mail": 8025}
#: Other course ports, e.g. to run a second course topology beside the first (the Docker-path
#: tests do): SEAMLAB_POSTGRES_PORT, ... move the defaults; docker-compose.test.yml reads them too.
PORT_VARS = {service: f"SEAMLAB_{service.upper()}_PORT" for service in COMPOSE_PORTS}


def course_ports(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """The course ports: COMPOSE_PORTS unless SEAMLAB_<SERVICE>_PORT moves one."""
    env = os.environ if environ is None else environ
    ports = dict(COMPOSE_PORTS)
    for service, name in PORT_VARS.items():
        text = env.get(name, "").strip()
        if not text:
            continue
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise ConfigError(f"{name}={text!r} is not a port number. Fix: set it to a number "
                              f"such as {COMPOSE_PORTS[service]}, or unset it.")
        ports[service] = int(text)
    return ports

ENV_VARS = (
    "TEST_DB_HOST",
    "TEST_DB_PORT",
    "TEST_DB_NAME",
    "TEST_DB_USER",
    "TEST_DB_PASSWORD",
    "TEST_REDIS_URL",
    "TEST_AMQP_URL",
    "TEST_MAIL_URL",
)


@dataclass(frozen=True)
class Settings:
    db_host: str = "127.0.0.1"
    db_port: int = COMPOSE_PORTS["postgres"]
    db_name: str = "seamlab"
    db_user: str = "seamlab"
    db_password: str = "seamlab"
    redis_url: str = f"redis://127.0.0.1:{COMPOSE_PORTS['redis']}/0"
    amqp_url: str = f"amqp://guest:guest@127.0.0.1:{COMPOSE_PORTS['rabbitmq']}/%2F"
    mail_url: str = f"http://127.0.0.1:{COMPOSE_PORTS['mail']}"
    #: Which TEST_* variables were set explicitly (the "explicit env" backend path).
    explicit: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        given = {name: env[name] for name in ENV_VARS if env.get(name, "") != ""}
        ports = course_ports(env)
        defaults = cls(
            db_port=ports["postgres"],
            redis_url=f"redis://127.0.0.1:{ports['redis']}/0",
            amqp_url=f"amqp://guest:guest@127.0.0.1:{ports['rabbitmq']}/%2F",
            mail_url=f"http://127.0.0.1:{ports['mail']}",
        )
        port_text = given.get("TEST_DB_PORT", str(defaults.db_port))
        try:
            port = int(port_text)
        except ValueError:
            raise ConfigError(
                f"TEST_DB_PORT={port_text!r} is not a port number. Fix: set it to a number such "
                f"as {COMPOSE_PORTS['postgres']}, or unset it to use the course services."
            ) from None
        for name in ("TEST_REDIS_URL", "TEST_AMQP_URL", "TEST_MAIL_URL"):
            if name in given:
                _check_url(name, given[name])
        return cls(
            db_host=given.get("TEST_DB_HOST", defaults.db_host),
            db_port=port,
            db_name=given.get("TEST_DB_NAME", defaults.db_name),
            db_user=given.get("TEST_DB_USER", defaults.db_user),
            db_password=given.get("TEST_DB_PASSWORD", defaults.db_password),
            redis_url=given.get("TEST_REDIS_URL", defaults.redis_url),
            amqp_url=given.get("TEST_AMQP_URL", defaults.amqp_url),
            mail_url=given.get("TEST_MAIL_URL", defaults.mail_url).rstrip("/"),
            explicit=frozenset(given),
        )

    # --- derived values -------------------------------------------------------------------
    def db_url(self, database: str | None = None, *, driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL for ``database`` (default: ``db_name``)."""
        auth = quote(self.db_user, safe="")
        if self.db_password:
            auth += ":" + quote(self.db_password, safe="")
        name = database or self.db_name
        return f"{driver}://{auth}@{self.db_host}:{self.db_port}/{quote(name, safe='')}"

    def db_conninfo(self, database: str | None = None) -> str:
        """libpq URL (for psycopg.connect, psql, pg_isready)."""
        return self.db_url(database, driver="postgresql")

    @property
    def db_where(self) -> str:
        return f"{self.db_host}:{self.db_port}"

    @property
    def redis_where(self) -> str:
        parts = urlsplit(self.redis_url)
        return f"{parts.hostname}:{parts.port or 6379}"

    @property
    def redis_db(self) -> int:
        path = urlsplit(self.redis_url).path.strip("/")
        return int(path) if path.isdigit() else 0

    @property
    def amqp_where(self) -> str:
        parts = urlsplit(self.amqp_url)
        return f"{parts.hostname}:{parts.port or 5672}"

    @property
    def mail_where(self) -> str:
        parts = urlsplit(self.mail_url)
        return f"{parts.hostname}:{parts.port or 80}"

    def with_database(self, name: str) -> Settings:
        return replace(self, db_name=name)

    def with_redis_db(self, index: int) -> Settings:
        parts = urlsplit(self.redis_url)
        return replace(self, redis_url=urlunsplit(parts._replace(path=f"/{index}")))

    def to_env(self) -> dict[str, str]:
        """The TEST_* variables that reproduce these settings in a child process."""
        return {
            "TEST_DB_HOST": self.db_host,
            "TEST_DB_PORT": str(self.db_port),
            "TEST_DB_NAME": self.db_name,
            "TEST_DB_USER": self.db_user,
            "TEST_DB_PASSWORD": self.db_password,
            "TEST_REDIS_URL": self.redis_url,
            "TEST_AMQP_URL": self.amqp_url,
            "TEST_MAIL_URL": self.mail_url,
        }


def _check_url(name: str, value: str) -> None:
    parts = urlsplit(value)
    if not parts.scheme or not parts.hostname:
        raise ConfigError(
            f"{name}={value!r} is not a URL with a scheme and host "
            f"(for example {Settings().to_env()[name]!r})."
        )
    try:
        _ = parts.port  # urllib raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(f"{name}={value!r} has a port that is not a number.") from None
