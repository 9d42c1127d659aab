"""Fixtures for exercise 05: the sign-up API served over real HTTP on the test database.

The app runs with real commits (no rollback fixture): the concurrency check needs two
connections that see each other's committed rows, as in production. The tables are created
once from the exercise's own metadata and emptied before every test.
"""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

#: Every request is bounded, so a server that never answers fails the test instead of hanging
#: (generous: a busy grading machine must not turn a slow answer into a failure).
REQUEST_TIMEOUT = 10.0

#: A fresh connection per request: a server that answered 500 may close a kept-alive connection,
#: and the next request must not trip over that.
ONE_CONNECTION_PER_REQUEST = httpx.Limits(max_keepalive_connections=0)


@pytest.fixture(scope="session")
def signup_tables(db_engine):
    from account_tables import metadata  # the learner's module: imported once tests run

    metadata.create_all(db_engine)
    return db_engine


@pytest.fixture(autouse=True)
def empty_tables(signup_tables):
    with signup_tables.begin() as connection:
        connection.execute(sa.text("DELETE FROM signup_attempts"))
        connection.execute(sa.text("DELETE FROM accounts"))


@pytest.fixture
def signup_api(live_server, signup_tables):
    """An HTTP client for the learner's sign-up API, served for real on the test database."""
    from registration_api import create_app

    base_url = live_server(create_app(signup_tables))
    with httpx.Client(
        base_url=base_url, timeout=REQUEST_TIMEOUT, limits=ONE_CONNECTION_PER_REQUEST
    ) as client:
        yield client


@pytest.fixture
def accounts_for(signup_tables):
    """Emails of the stored accounts for one mailbox, however its capitals were typed."""

    def read(email: str) -> list[str]:
        with signup_tables.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT email FROM accounts WHERE lower(email) = lower(:email) ORDER BY id"
                ),
                {"email": email},
            )
            return [row.email for row in rows]

    return read


@pytest.fixture
def attempts_for(signup_tables):
    """Outcomes written to signup_attempts for one mailbox, oldest first."""

    def read(email: str) -> list[str]:
        with signup_tables.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT outcome FROM signup_attempts WHERE lower(email) = lower(:email) "
                    "ORDER BY id"
                ),
                {"email": email},
            )
            return [row.outcome for row in rows]

    return read
