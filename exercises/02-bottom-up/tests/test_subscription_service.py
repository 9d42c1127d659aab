"""Unit tests of the service, with an in-memory repository and a mailer that records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from subscribers_repo import AlreadySubscribed, Subscriber
from subscription_service import SubscriptionService


class InMemorySubscribers:
    def __init__(self) -> None:
        self.rows: dict[str, Subscriber] = {}

    def add(self, email, name):
        if email in self.rows:
            raise AlreadySubscribed(email)
        self.rows[email] = Subscriber(len(self.rows) + 1, email, name, datetime.now(UTC))
        return self.rows[email]

    def find(self, email):
        return self.rows.get(email)


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_confirmation(self, email, name):
        self.sent.append((email, name))
        return f"msg_{len(self.sent)}"


def test_subscribing_stores_the_subscriber_and_asks_for_confirmation():
    mailer = RecordingMailer()
    service = SubscriptionService(InMemorySubscribers(), mailer)

    subscriber = service.subscribe("ada@example.org", "Ada")

    assert subscriber.email == "ada@example.org"
    assert mailer.sent == [("ada@example.org", "Ada")]


def test_an_address_is_stored_in_lower_case():
    service = SubscriptionService(InMemorySubscribers(), RecordingMailer())

    assert service.subscribe(" Ada@Example.org ", "Ada").email == "ada@example.org"


def test_subscribing_twice_is_already_subscribed():
    service = SubscriptionService(InMemorySubscribers(), RecordingMailer())
    service.subscribe("ada@example.org", "Ada")

    with pytest.raises(AlreadySubscribed):
        service.subscribe("ada@example.org", "Ada")
