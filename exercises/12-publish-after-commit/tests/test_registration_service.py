"""Unit tests for registration: SQLite in memory and a publisher that records events."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from registration_service import RegistrationService
from user_events import UserRegistered
from user_tables import metadata, users


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[UserRegistered] = []

    def publish(self, event: UserRegistered) -> None:
        self.events.append(event)


@pytest.fixture
def engine():
    engine = sa.create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_register_stores_the_user_in_lower_case(engine):
    service = RegistrationService(engine, RecordingPublisher())

    user_id = service.register("Ada@Example.org ", "Ada Lovelace")

    with engine.connect() as connection:
        row = connection.execute(sa.select(users).where(users.c.id == user_id)).one()
    assert (row.email, row.name) == ("ada@example.org", "Ada Lovelace")


def test_register_publishes_one_user_registered_event(engine):
    publisher = RecordingPublisher()
    service = RegistrationService(engine, publisher)

    user_id = service.register("ada@example.org", "Ada Lovelace")

    assert len(publisher.events) == 1
    event = publisher.events[0]
    assert (event.user_id, event.email) == (user_id, "ada@example.org")
    assert isinstance(event.registered_at, dt.datetime)
    assert event.registered_at.tzinfo is not None


def test_a_duplicate_email_publishes_nothing(engine):
    publisher = RecordingPublisher()
    service = RegistrationService(engine, publisher)
    service.register("ada@example.org", "Ada Lovelace")

    with pytest.raises(sa.exc.IntegrityError):
        service.register("ADA@example.org", "Someone Else")

    assert len(publisher.events) == 1
