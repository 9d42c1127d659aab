"""Fixtures for the tests that use the real Postgres (start it first with `seamlab up`)."""

from __future__ import annotations

import pytest
from directory_repo import metadata
from sqlalchemy import text


@pytest.fixture(scope="session")
def _directory_schema(db_engine):
    metadata.drop_all(db_engine)
    metadata.create_all(db_engine)
    yield
    metadata.drop_all(db_engine)


@pytest.fixture
def directory_engine(db_engine, _directory_schema):
    """The test database's engine, with an empty ``directory_users`` table."""
    with db_engine.begin() as connection:
        connection.execute(text("TRUNCATE directory_users RESTART IDENTITY"))
    return db_engine
