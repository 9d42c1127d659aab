"""Fixtures for exercise 08: the exercise's tables, invite codes, and the app on a real socket.

The app runs under a real uvicorn (``live_server``) with its own engine built from the run's
settings, and talks to a real mail provider whose faults the tests program. Every test uses its
own invite code and emails, so tests never see each other's rows.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest
import sqlalchemy as sa


@pytest.fixture(scope="session")
def tables(db_engine):
    from invites import Base  # the learner's schema, whatever columns it has grown

    Base.metadata.create_all(db_engine)
    return db_engine


@pytest.fixture
def tag():
    """A short random word that makes this test's invite codes and emails its own."""
    return secrets.token_hex(3)


@pytest.fixture
def new_invite(tables, tag):
    """Factory: ``code = new_invite(uses_left)`` stores a fresh invite code."""

    def make(uses_left: int) -> str:
        code = f"INV-{tag}-{secrets.token_hex(2)}"
        with tables.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO invites (code, uses_left) VALUES (:code, :uses)"),
                {"code": code, "uses": uses_left},
            )
        return code

    return make


@pytest.fixture
def signup_url(live_server, seamlab_settings, mail_provider, tables):
    """The learner's app on a real socket, talking to the real mail provider."""
    from signup_app import create_app

    app = create_app(replace(seamlab_settings, mail_url=mail_provider.url))
    yield live_server(app) + "/signup"
    engine = getattr(getattr(app, "state", None), "engine", None)
    if isinstance(engine, sa.Engine):  # best effort: give the connections back
        engine.dispose()
