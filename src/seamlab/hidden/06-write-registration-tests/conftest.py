"""Fixtures for the tests a learner writes in exercise 06 (documented in the exercise README).

The learner's tests run next to the registration system (the correct one, or one with a planted
fault), on the run's private database and a real mail provider:

* ``client``      an ``httpx.Client`` whose base URL is the registration API, served by uvicorn
* ``app``         the FastAPI app behind ``client`` (on the private database and the provider)
* ``mail_provider``  the provider's handle: ``sent_emails()``, ``requests()``, ``fail_next()``...
* ``user_rows``   a function: every row of the ``users`` table, as dicts, oldest first
* ``db_engine``   the SQLAlchemy engine on the private database, for your own queries

Each test starts with an empty ``users`` table and an empty provider journal.

How it is loaded: the grader copies the solution folder (whose ``tests/conftest.py`` loads this
file by path) and lays the learner's test file over it; a plain ``pytest`` in the exercise folder
loads it the same way. So there is one definition of these fixtures.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text


@pytest.fixture(scope="session")
def _registration_tables(db_engine):
    import user_tables  # the system's module (or its mutant): imported once tests run

    # drop first: the table must have the columns of *this* run's user_tables.py
    user_tables.metadata.drop_all(db_engine)
    user_tables.metadata.create_all(db_engine)
    yield
    user_tables.metadata.drop_all(db_engine)


@pytest.fixture
def app(db_engine, mail_provider, _registration_tables):
    from registration_app import create_app

    with db_engine.begin() as connection:
        connection.execute(text("TRUNCATE users RESTART IDENTITY"))
    return create_app(engine=db_engine, mail_url=mail_provider.url)


@pytest.fixture
def client(app, live_server):
    with httpx.Client(base_url=live_server(app), timeout=10.0) as http:
        yield http


@pytest.fixture
def user_rows(db_engine, _registration_tables):
    def rows() -> list[dict]:
        with db_engine.connect() as connection:
            result = connection.execute(text("SELECT * FROM users ORDER BY id"))
            return [dict(row._mapping) for row in result]

    return rows
