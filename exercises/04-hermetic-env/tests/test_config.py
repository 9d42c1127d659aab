"""Unit tests for the TEST_* configuration: each test hands load_config its own environment."""

from __future__ import annotations

import pytest

from config import ConfigError, load_config
from connections import database_engine

EXPLICIT = {
    "TEST_DB_HOST": "db.internal",
    "TEST_DB_PORT": "6543",
    "TEST_DB_NAME": "shop_test",
    "TEST_DB_USER": "shop",
    "TEST_DB_PASSWORD": "p@ss word",
    "TEST_REDIS_URL": "redis://cache.internal:6390/2",
}


def test_explicit_values_are_used():
    config = load_config(EXPLICIT)

    assert (config.db_host, config.db_port, config.db_name) == ("db.internal", 6543, "shop_test")
    assert (config.db_user, config.db_password) == ("shop", "p@ss word")
    assert config.redis_url == "redis://cache.internal:6390/2"


def test_the_database_url_quotes_the_password():
    config = load_config(EXPLICIT)

    assert config.db_url == (
        "postgresql+psycopg://shop:p%40ss%20word@db.internal:6543/shop_test"
    )


def test_a_port_that_is_not_a_number_is_refused_by_name():
    with pytest.raises(ConfigError, match="TEST_DB_PORT"):
        load_config({**EXPLICIT, "TEST_DB_PORT": "five-four-three-two"})


def test_the_engine_points_where_the_config_says():
    engine = database_engine(load_config(EXPLICIT))

    assert (engine.url.host, engine.url.port, engine.url.database) == (
        "db.internal",
        6543,
        "shop_test",
    )
