"""Fixtures for the leaderboard's integration tests: a real Postgres and a real Redis.

The services come from the TEST_* variables (seamlab's compose ports by default).

Safe under `pytest -n auto`: every worker (pytest-xdist's `worker_id`: gw0, gw1, ...; "master"
without xdist) gets its own database, cloned from the one TEST_DB_NAME names and dropped at the
end, and its own Redis key namespace, which it cleans without touching anybody else's keys.
"""

from __future__ import annotations

import psycopg
import pytest
import redis
import sqlalchemy as sa
from psycopg import sql

from leaderboard_cache import LeaderboardCache
from scoreboard import Scoreboard
from scores_repo import metadata
from seamlab.config import Settings

settings = Settings.from_env()


def _admin() -> psycopg.Connection:
    """A connection to the maintenance database: CREATE/DROP DATABASE cannot run inside the
    database they copy or drop, and nobody may be connected to a template while it is copied."""
    return psycopg.connect(settings.db_conninfo("postgres"), autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def database_name(worker_id):
    """This worker's own database: a copy of TEST_DB_NAME, dropped when the worker is done."""
    name = sql.Identifier(f"{settings.db_name}_{worker_id}")
    with _admin() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, sql.Identifier(settings.db_name))
        )
    yield f"{settings.db_name}_{worker_id}"
    with _admin() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


@pytest.fixture(scope="session")
def engine(database_name):
    """This worker's database, with the tables created once."""
    engine = sa.create_engine(settings.db_url(database_name))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine):
    """The engine, with the scores table emptied before the test (this worker's table only)."""
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM scores"))
    return engine


@pytest.fixture
def redis_conn():
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture(scope="session")
def redis_namespace(worker_id) -> str:
    return f"leaderboard-test-{worker_id}"


def _delete_namespace(client: redis.Redis, namespace: str) -> None:
    keys = list(client.scan_iter(match=f"{namespace}:*", count=500))
    if keys:
        client.delete(*keys)


@pytest.fixture
def cache(redis_conn, redis_namespace):
    """The cache under this worker's namespace, emptied before and after the test.

    Never FLUSHDB: the other workers (and other test runs) use the same Redis database.
    """
    _delete_namespace(redis_conn, redis_namespace)
    yield LeaderboardCache(redis_conn, namespace=redis_namespace)
    _delete_namespace(redis_conn, redis_namespace)


@pytest.fixture
def board(db, cache):
    board = Scoreboard(db, cache)
    yield board
    board.close()
