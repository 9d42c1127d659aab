"""Fixtures for the leaderboard's integration tests: a real Postgres and a real Redis.

The services come from the TEST_* variables (seamlab's compose ports by default).

Safe under `pytest -n auto`: every worker (pytest-xdist's `worker_id`: gw0, gw1, ...; "master"
without xdist) keeps its tables in a schema of its own, in the database TEST_DB_NAME names, and
drops it at the end; and it keeps its Redis keys under a namespace of its own, which it cleans
without touching anybody else's keys.
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


def _run(statement: sql.Composable) -> None:
    with psycopg.connect(settings.db_conninfo(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session")
def schema(worker_id):
    """This worker's own schema: created empty, dropped with everything in it at the end."""
    name = f"leaderboard_{worker_id}"
    _run(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
    _run(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    yield name
    _run(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def engine(schema):
    """An engine whose connections find (and create) their tables in this worker's schema."""
    engine = sa.create_engine(
        settings.db_url(), connect_args={"options": f"-c search_path={schema}"}
    )
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine):
    """The engine, with this worker's scores table emptied before the test."""
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
