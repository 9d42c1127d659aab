"""Fixtures for the sample system (signup) wired to the real services of this test session.

``api_client`` calls the app in-process and shares the test's ``db_session`` (everything rolls
back). ``committed_api`` serves the app with a real uvicorn and real commits, for tests where
another connection (a consumer, a second client) must see the data; it deletes its users after.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import httpx
import pytest
from signup.api import get_session
from signup.app import create_app
from signup.events import EventPublisher, UserRegistered
from signup.mail import MailClient
from signup.models import User
from signup.schema import create_all
from sqlalchemy import delete

from seamlab.pytest_plugin import unique_name

#: Short enough that a slow-provider test stays quick, long enough for a loaded CI machine.
MAIL_TIMEOUT = httpx.Timeout(1.0, connect=1.0)


class RecordingPublisher:
    """Keeps published events in a list: for tests where the broker is not the point."""

    def __init__(self) -> None:
        self.events: list[UserRegistered] = []

    def publish(self, event: UserRegistered) -> None:
        self.events.append(event)


@pytest.fixture(scope="session")
def signup_engine(db_engine):
    """The session's engine, with the sample system's tables created."""
    create_all(db_engine)
    return db_engine


@pytest.fixture
def mail_client(mail_provider) -> Iterator[MailClient]:
    client = MailClient(mail_provider.url, timeout=MAIL_TIMEOUT)
    yield client
    client.close()


@pytest.fixture
def published() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def signup_app(signup_engine, db_session, redis_client, mail_client, published):
    app = create_app(
        engine=signup_engine, redis=redis_client, mailer=mail_client, publisher=published
    )
    app.dependency_overrides[get_session] = lambda: db_session
    return app


@pytest.fixture
def api_client(signup_app):
    """An in-process client (Starlette's TestClient) for the app: no socket, same session."""
    with warnings.catch_warnings():
        # Starlette >= 1.x asks for the `httpx2` package and warns (once, at import) with httpx.
        from starlette.exceptions import StarletteDeprecationWarning

        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        from fastapi.testclient import TestClient

    with TestClient(signup_app) as client:
        yield client


@pytest.fixture
def events_exchange() -> str:
    """The app's topic exchange, private to one test: on the shared broker, another test's (or
    another checkout's) registrations would otherwise land in this test's queue."""
    return unique_name("signup.events")


@pytest.fixture
def committed_api(signup_engine, redis_client, mail_client, amqp_url, live_server,
                  events_exchange):
    """An httpx client for the app behind a real server, committing for real (cleaned after)."""
    publisher = EventPublisher(amqp_url, exchange=events_exchange)
    app = create_app(
        engine=signup_engine, redis=redis_client, mailer=mail_client, publisher=publisher
    )
    with httpx.Client(base_url=live_server(app), timeout=10.0) as client:
        yield client
    publisher.close()
    with signup_engine.begin() as connection:
        connection.execute(delete(User))


def _register(
    client,
    email: str = "Ada@Example.com",
    name: str = "Ada Lovelace",
    password: str = "correct horse battery",
) -> httpx.Response:
    return client.post(
        "/api/users/register", json={"email": email, "name": name, "password": password}
    )


@pytest.fixture
def register():
    """``register(client, email=..., name=..., password=...)``: POST the registration form."""
    return _register
