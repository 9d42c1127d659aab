"""Fixtures for the leaderboard's integration tests: a real Postgres and a real Redis.

The services come from the TEST_* variables (seamlab's compose ports by default).
"""

from __future__ import annotations

import pytest
import redis
import sqlalchemy as sa

from leaderboard_cache import LeaderboardCache
from scoreboard import Scoreboard
from scores_repo import metadata
from seamlab.config import Settings

settings = Settings.from_env()


@pytest.fixture(scope="session")
def engine():
    """The test database, with the tables created once per run."""
    engine = sa.create_engine(settings.db_url())
    metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine):
    """The engine, with the scores table emptied before the test."""
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM scores"))
    return engine


@pytest.fixture
def redis_conn():
    """A Redis client on the test database, emptied before and after the test."""
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def cache(redis_conn):
    return LeaderboardCache(redis_conn)


@pytest.fixture
def board(db, cache):
    board = Scoreboard(db, cache)
    yield board
    board.close()
