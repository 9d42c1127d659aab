"""Fixtures for exercise 03: the directory table, real users seeded in bulk, the app over HTTP."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text


@pytest.fixture(scope="session")
def _directory_schema(db_engine):
    import directory_repo  # the learner's module: imported when the tests run, not at collection

    directory_repo.metadata.drop_all(db_engine)
    directory_repo.metadata.create_all(db_engine)
    yield
    directory_repo.metadata.drop_all(db_engine)


@pytest.fixture
def directory_engine(db_engine, _directory_schema):
    with db_engine.begin() as connection:
        connection.execute(text("TRUNCATE directory_users RESTART IDENTITY"))
    return db_engine


@pytest.fixture
def seed_users(directory_engine):
    """seed_users(count, per_instant, step="1 minute"): ``count`` users in one INSERT,
    ``per_instant`` of them sharing each created_at (an import or a batch job writes many rows
    at the same instant), the instants ``step`` apart. Ids run against time (the highest id is
    the oldest user), so an order by id alone shows. Returns every id in the order the
    directory promises: oldest first, then by id."""

    def seed(count: int, per_instant: int, step: str = "1 minute") -> list[int]:
        with directory_engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO directory_users (name, email, created_at) "
                    "SELECT 'User ' || g, 'user' || g || '@example.com', "
                    "       timestamptz '2024-03-01 09:00:00+00' "
                    "         + ((:count - g) / :per) * CAST(:step AS interval) "
                    "FROM generate_series(1, :count) AS g"
                ),
                {"count": count, "per": per_instant, "step": step},
            )
            rows = connection.execute(
                text("SELECT id FROM directory_users ORDER BY created_at, id")
            )
            return [row.id for row in rows]

    return seed


@pytest.fixture
def directory(directory_engine, live_server):
    """An httpx client on the learner's app (directory_app.create_app), served by uvicorn."""
    from directory_app import create_app

    with httpx.Client(base_url=live_server(create_app(engine=directory_engine)), timeout=5) as c:
        yield c
