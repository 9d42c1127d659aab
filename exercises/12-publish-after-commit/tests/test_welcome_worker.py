"""Unit tests for the welcome worker: SQLite in memory and a mocked pika channel."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from unittest import mock

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from user_tables import metadata, users
from welcome_worker import UserNotFound, WelcomeWorker


@pytest.fixture
def engine():
    engine = sa.create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(users).values(
                id=7,
                email="ada@example.org",
                name="Ada Lovelace",
                registered_at=dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone.utc),
            )
        )
    yield engine
    engine.dispose()


def message(user_id: int) -> bytes:
    return json.dumps({"user_id": user_id, "email": "ada@example.org"}).encode()


def test_the_worker_welcomes_the_user_the_event_names(engine):
    welcomed = []
    worker = WelcomeWorker(engine, welcomed.append)

    worker.handle(message(7))

    assert [(user.id, user.email, user.name) for user in welcomed] == [
        (7, "ada@example.org", "Ada Lovelace")
    ]


def test_an_unknown_user_is_reported_not_welcomed(engine):
    welcomed = []
    worker = WelcomeWorker(engine, welcomed.append)

    with pytest.raises(UserNotFound):
        worker.handle(message(99))
    assert welcomed == []


def test_each_message_is_acknowledged_once(engine):
    worker = WelcomeWorker(engine, lambda user: None)
    channel = mock.Mock()

    worker.on_message(channel, SimpleNamespace(delivery_tag=42), None, message(7))

    channel.basic_ack.assert_called_once_with(delivery_tag=42)
