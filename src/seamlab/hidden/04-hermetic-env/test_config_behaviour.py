"""Exercise 04, the configuration: in CI every TEST_* variable is explicit; nowhere a default
points at the developer's own Postgres (5432) or Redis (6379).

Each test hands `load_config` an environment mapping, and makes the process environment say the
same, so it does not matter which of the two the learner's code reads.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from _hermetic_yaml import url_host_port
from config import ConfigError, load_config
from connections import database_engine, redis_client

REQUIRED = ("TEST_DB_HOST", "TEST_DB_PORT", "TEST_DB_NAME", "TEST_DB_USER", "TEST_REDIS_URL")
EXPLICIT = {
    "TEST_DB_HOST": "db.ci.internal",
    "TEST_DB_PORT": "6543",
    "TEST_DB_NAME": "shop_ci",
    "TEST_DB_USER": "ci_user",
    "TEST_DB_PASSWORD": "ci-secret",
    "TEST_REDIS_URL": "redis://cache.ci.internal:6390/3",
}


@pytest.fixture
def environment(monkeypatch):
    """Returns a function that makes os.environ hold exactly `mapping` (for CI and TEST_*)."""

    def use(mapping: dict[str, str]) -> dict[str, str]:
        for name in list(os.environ):
            if name == "CI" or name.startswith("TEST_"):
                monkeypatch.delenv(name)
        for name, value in mapping.items():
            monkeypatch.setenv(name, value)
        return mapping

    return use


def load(mapping: dict[str, str]):
    """load_config(mapping): (config, None) or (None, the exception it raised)."""
    try:
        return load_config(dict(mapping)), None
    except Exception as error:  # noqa: BLE001 - which error it is, is part of the verdict
        return None, error


def shown(mapping: dict[str, str]) -> str:
    return " ".join(f"{name}={value!r}" for name, value in mapping.items()) or "(nothing set)"


@pytest.mark.seam
@pytest.mark.parametrize("missing", REQUIRED)
def test_in_ci_a_missing_variable_stops_the_run_and_is_named(missing, environment):
    given = environment({"CI": "true", **{k: v for k, v in EXPLICIT.items() if k != missing}})

    config, error = load(given)

    assert error is not None, (
        f"With CI=true and {missing} not set, load_config() returned a configuration "
        f"(Postgres {config.db_host}:{config.db_port}, Redis {config.redis_url}) instead of "
        f"stopping. In CI that silently tests against whatever listens there, or fails later "
        f"with a puzzling connection error. Expected: a ConfigError that names {missing}."
    )
    assert isinstance(error, ConfigError), (
        f"With CI=true and {missing} not set, load_config() raised {type(error).__name__}: "
        f"{error}. Expected config.ConfigError, whose message names {missing} and says how to "
        f"set it."
    )
    assert missing in str(error), (
        f"With CI=true and {missing} not set, load_config() raised ConfigError({str(error)!r}), "
        f"which does not name {missing}: the person reading the CI log must see which variable "
        f"to add."
    )


#: An empty TEST_DB_PORT already fails the starter's int(): that case is not the seam.
EMPTY_CASES = [pytest.param(name, marks=() if name == "TEST_DB_PORT" else pytest.mark.seam)
               for name in REQUIRED]


@pytest.mark.parametrize("empty", EMPTY_CASES)
def test_in_ci_an_empty_variable_counts_as_missing(empty, environment):
    # What `TEST_DB_HOST: ${{ secrets.DB_HOST }}` gives when the secret does not exist.
    given = environment({"CI": "true", **EXPLICIT, empty: ""})

    _config, error = load(given)

    assert isinstance(error, ConfigError) and empty in str(error), (
        f"With CI=true and {empty}='' (what a workflow gets from a secret that does not "
        "exist), load_config() "
        + (
            "returned a configuration"
            if error is None
            else f"raised {type(error).__name__}: {error}"
        )
        + f". Expected: a ConfigError naming {empty}; an empty value is a missing value."
    )


@pytest.mark.parametrize("password", ["", None], ids=["empty", "not-set"])
def test_in_ci_the_database_password_may_be_empty_or_missing(password, environment):
    mapping = {"CI": "true", **EXPLICIT}
    if password is None:
        del mapping["TEST_DB_PASSWORD"]
    else:
        mapping["TEST_DB_PASSWORD"] = password
    given = environment(mapping)

    _config, error = load(given)

    what = "not set" if password is None else "empty"
    assert error is None, (
        f"With CI=true, every required TEST_* variable set and TEST_DB_PASSWORD {what}, "
        f"load_config() raised {type(error).__name__}: {error}. The README says "
        f"TEST_DB_PASSWORD may be empty (a CI Postgres with trust authentication has none)."
    )


@pytest.mark.parametrize("ci", ["true", None], ids=["in-ci", "outside-ci"])
def test_explicit_values_at_the_usual_ports_are_used_as_given(ci, environment):
    """5432 and 6379 are wrong only as defaults: a CI service container listens there."""
    mapping = {**EXPLICIT, "TEST_DB_HOST": "postgres", "TEST_DB_PORT": "5432",
               "TEST_REDIS_URL": "redis://redis:6379/0"}
    if ci is not None:
        mapping["CI"] = ci
    given = environment(mapping)

    config, error = load(given)

    where = "With CI=true" if ci else "Outside CI"
    assert error is None, (
        f"{where} and TEST_DB_PORT='5432', TEST_REDIS_URL='redis://redis:6379/0' given "
        f"explicitly, load_config() raised {type(error).__name__}: {error}. Only a *default* "
        f"may not point at 5432 or 6379; a value the environment names is used as given."
    )
    got = (config.db_host, config.db_port, config.redis_url)
    assert got == ("postgres", 5432, "redis://redis:6379/0"), (
        f"{where} the environment said TEST_DB_HOST='postgres', TEST_DB_PORT='5432', "
        f"TEST_REDIS_URL='redis://redis:6379/0', but load_config() gave host, port, redis_url "
        f"= {got}. Only a default may not point at 5432 or 6379; explicit values win."
    )


@pytest.mark.seam
def test_without_ci_no_default_points_at_the_developers_own_services(environment):
    given = environment({})

    config, error = load(given)

    if error is not None:
        assert isinstance(error, ConfigError), (
            f"With no TEST_* variables (on a laptop), load_config() raised "
            f"{type(error).__name__}: {error}. Either use defaults that are not the "
            f"developer's own services, or raise a ConfigError that says what to set."
        )
        return
    redis_host, redis_port = url_host_port(config.redis_url, 6379)
    assert config.db_port != 5432, (
        f"With no TEST_* variables, load_config() points at Postgres on "
        f"{config.db_host}:{config.db_port}: on a developer's machine that is their own "
        f"database, and the tests would create and delete tables in it. Default to the port "
        f"docker-compose.test.yml publishes instead (or refuse to guess)."
    )
    assert redis_port != 6379, (
        f"With no TEST_* variables, load_config() points at Redis on {redis_host}:{redis_port}: "
        f"the developer's own Redis, whose keys the tests would overwrite or flush. Default to "
        f"the port docker-compose.test.yml publishes instead (or refuse to guess)."
    )


def test_explicit_values_are_used_as_given(environment):
    given = environment({"CI": "true", **EXPLICIT})

    config, error = load(given)

    assert error is None, (
        f"With CI=true and every TEST_* variable set ({shown(EXPLICIT)}), load_config() raised "
        f"{type(error).__name__}: {error}"
    )
    got = (config.db_host, config.db_port, config.db_name, config.db_user, config.db_password,
           config.redis_url)
    expected = ("db.ci.internal", 6543, "shop_ci", "ci_user", "ci-secret",
                "redis://cache.ci.internal:6390/3")
    assert got == expected, (
        f"The environment said {shown(EXPLICIT)}, but load_config() gave host, port, name, "
        f"user, password, redis_url = {got}. Explicit values must win over every default."
    )


def test_the_configured_services_answer(environment, seamlab_settings):
    given = {k: v for k, v in seamlab_settings.to_env().items() if k in REQUIRED}
    given["TEST_DB_PASSWORD"] = seamlab_settings.db_password
    environment({"CI": "true", **given})

    config, error = load({"CI": "true", **given})
    assert error is None, f"load_config() refused a complete environment: {error}"

    engine = database_engine(config)
    try:
        with engine.connect() as connection:
            database = connection.execute(sa.text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert database == seamlab_settings.db_name, (
        f"TEST_DB_NAME said {seamlab_settings.db_name!r}, but the engine from "
        f"database_engine(config) is connected to {database!r}."
    )
    client = redis_client(config)
    try:
        assert client.ping(), f"Redis at {config.redis_url} did not answer PING"
    finally:
        client.close()
