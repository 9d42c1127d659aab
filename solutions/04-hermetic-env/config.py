"""Where the integration tests find their services, read from TEST_* variables.

`load_config()` reads the process environment; pass a mapping to read that instead
(`load_config({"TEST_DB_HOST": "db", ...})`), which is how the tests of this module work.

In CI (`CI=true`, which GitHub Actions and most CI systems set) every address must be given
explicitly: a missing or empty TEST_* variable stops the run with its name. On a laptop the
defaults are the ports of docker-compose.test.yml (5433, 6380), never the developer's own
database on 5432 or Redis on 6379.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

#: Variables that must be set in CI. TEST_DB_PASSWORD may be empty (trust authentication).
REQUIRED_IN_CI = ("TEST_DB_HOST", "TEST_DB_PORT", "TEST_DB_NAME", "TEST_DB_USER", "TEST_REDIS_URL")

#: Local defaults: the host ports that docker-compose.test.yml publishes.
LOCAL_DEFAULTS = {
    "TEST_DB_HOST": "127.0.0.1",
    "TEST_DB_PORT": "5433",
    "TEST_DB_NAME": "shop_test",
    "TEST_DB_USER": "shop",
    "TEST_DB_PASSWORD": "shop",
    "TEST_REDIS_URL": "redis://127.0.0.1:6380/0",
}


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


def running_in_ci(env: Mapping[str, str]) -> bool:
    return env.get("CI", "").strip().lower() in {"1", "true", "yes"}


def load_config(environ: Mapping[str, str] | None = None) -> ServiceConfig:
    env = os.environ if environ is None else environ
    given = {name: value for name, value in env.items() if name.startswith("TEST_") and value}
    if running_in_ci(env):
        missing = [name for name in REQUIRED_IN_CI if not given.get(name, "").strip()]
        if missing:
            raise ConfigError(
                f"CI=true but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
                f"set (or empty). In CI the tests use only the services the job names: pass "
                f"{', '.join(missing)} in the job's env (the service's host and port as the job "
                f"sees them), or the run would test against whatever happens to listen."
            )
    values = {**LOCAL_DEFAULTS, **given}
    port = values["TEST_DB_PORT"]
    try:
        db_port = int(port)
    except ValueError:
        raise ConfigError(
            f"TEST_DB_PORT={port!r} is not a port number; set it to the port Postgres "
            f"listens on as the tests see it (e.g. 5433 with docker-compose.test.yml)."
        ) from None
    return ServiceConfig(
        db_host=values["TEST_DB_HOST"],
        db_port=db_port,
        db_name=values["TEST_DB_NAME"],
        db_user=values["TEST_DB_USER"],
        db_password=values["TEST_DB_PASSWORD"],
        redis_url=values["TEST_REDIS_URL"],
    )
