"""Fixtures for exercise 01: the members table, and engines with a known DateStyle.

Why pin DateStyle: Postgres parses a date written as text according to the session's DateStyle.
Its shipped default, 'ISO, MDY', is what most production servers run with, but a server can be
configured otherwise (a DMY server reads '03/04/1990' the European way and would hide this bug).
The tests below must not depend on how the grading server happens to be set up, so every
connection they make says which DateStyle it uses. Correct code hands Postgres a real date,
which has no day/month order to guess, and passes under any DateStyle.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

POSTGRES_DEFAULT_DATESTYLE = "ISO, MDY"

# The table as production created it (a migration), independent of the learner's code.
MEMBERS_DDL = """
CREATE TABLE IF NOT EXISTS members (
    id         serial PRIMARY KEY,
    name       text NOT NULL,
    email      text NOT NULL UNIQUE,
    birth_date date NOT NULL
)
"""


@pytest.fixture(scope="session")
def engine_with_datestyle(db_engine):
    """Factory: an engine on the test database whose sessions use the given DateStyle."""
    engines: dict[str, sa.Engine] = {}

    def make(datestyle: str) -> sa.Engine:
        if datestyle not in engines:
            engines[datestyle] = sa.create_engine(
                db_engine.url,
                connect_args={"options": f"-c DateStyle={datestyle.replace(' ', '')}"},
            )
        return engines[datestyle]

    with db_engine.begin() as connection:
        connection.execute(sa.text(MEMBERS_DDL))
    yield make
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def engine(engine_with_datestyle):
    """An engine whose sessions use Postgres' shipped default DateStyle ('ISO, MDY')."""
    return engine_with_datestyle(POSTGRES_DEFAULT_DATESTYLE)


@pytest.fixture(autouse=True)
def empty_members_table(db_engine, engine_with_datestyle):
    with db_engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM members"))
    yield



@pytest.fixture
def stored_birth_dates(db_engine):
    """Returns {email: birth_date} for every row in members, read with our own query."""

    def read() -> dict:
        with db_engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT email, birth_date FROM members"))
            return {email: birth_date for email, birth_date in rows}

    return read
