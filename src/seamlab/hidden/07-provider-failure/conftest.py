"""Fixtures for exercise 07: the onboarding API over real HTTP, a real database and a real
mail provider whose faults the tests program.

The app commits for real (no rollback fixture): what matters is what is left in Postgres after
a failed request. The members table is created once from the exercise's own metadata and
emptied before every test.
"""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

#: Every request is bounded, so an app that never answers fails the test instead of hanging
#: (generous: a busy grading machine must not turn a slow answer into a failure). The test of a
#: hanging provider uses the product's own, much tighter bound.
REQUEST_TIMEOUT = 10.0

#: A fresh connection per request: a server that answered 500 may close a kept-alive connection,
#: and the next request must not trip over that.
ONE_CONNECTION_PER_REQUEST = httpx.Limits(max_keepalive_connections=0)


@pytest.fixture(scope="session")
def members_table(db_engine):
    from member_tables import metadata  # the learner's module: imported once tests run

    metadata.create_all(db_engine)
    return db_engine


@pytest.fixture(autouse=True)
def no_members(members_table):
    with members_table.begin() as connection:
        connection.execute(sa.text("DELETE FROM members"))


@pytest.fixture
def onboarding_api(live_server, members_table, mail_provider):
    """An HTTP client for the learner's onboarding API, served by a real server that stores
    members in the test database and sends mail through the test's mail provider."""
    from onboarding_api import create_app

    base_url = live_server(create_app(members_table, mail_url=mail_provider.url))
    with httpx.Client(
        base_url=base_url, timeout=REQUEST_TIMEOUT, limits=ONE_CONNECTION_PER_REQUEST
    ) as client:
        yield client
    _let_the_provider_finish(mail_provider)


def _let_the_provider_finish(mail_provider) -> None:
    """Wait (bounded) until the provider has finished every send it received, so a slow send
    left over from this test cannot land in the next test's journal."""
    from seamlab.waiting import wait_for

    def settled() -> bool:
        return all(
            entry.get("response_status") is not None or entry.get("outcome")
            for entry in mail_provider.send_requests()
        )

    try:
        wait_for(settled, timeout=5.0, what="the mail provider to finish its sends")
    except AssertionError:
        pass  # the next test resets the provider anyway; never fail a test in teardown


@pytest.fixture
def members_named(members_table):
    """Rows in members for one email address."""

    def read(email: str) -> list[str]:
        with members_table.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT name FROM members WHERE lower(email) = lower(:email)"),
                {"email": email},
            )
            return [row.name for row in rows]

    return read
