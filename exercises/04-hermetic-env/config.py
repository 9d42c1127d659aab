"""Where the integration tests find their services, read from TEST_* variables.

`load_config()` reads the process environment; pass a mapping to read that instead
(`load_config({"TEST_DB_HOST": "db", ...})`), which is how the tests of this module work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote


class ConfigError(Exception):
    """A TEST_* variable is missing or unusable; the message names it and says what to do."""


@dataclass(frozen=True)
class ServiceConfig:
    db_host: str
    db_port: int
    db_name: str
    db_user: str
    db_password: str
    redis_url: str

    @property
    def db_url(self) -> str:
        auth = quote(self.db_user, safe="")
        if self.db_password:
            auth += ":" + quote(self.db_password, safe="")
        return f"postgresql+psycopg://{auth}@{self.db_host}:{self.db_port}/{self.db_name}"


def load_config(environ: Mapping[str, str] | None = None) -> ServiceConfig:
    env = os.environ if environ is None else environ
    port = env.get("TEST_DB_PORT", "5432")
    try:
        db_port = int(port)
    except ValueError:
        raise ConfigError(f"TEST_DB_PORT={port!r} is not a port number") from None
    return ServiceConfig(
        db_host=env.get("TEST_DB_HOST", "localhost"),
        db_port=db_port,
        db_name=env.get("TEST_DB_NAME", "app"),
        db_user=env.get("TEST_DB_USER", "postgres"),
        db_password=env.get("TEST_DB_PASSWORD", ""),
        redis_url=env.get("TEST_REDIS_URL", "redis://localhost:6379/0"),
    )
