"""Unit tests of the HTTP API, with the service stubbed."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import Mock

from fastapi.testclient import TestClient
from subscribers_repo import AlreadySubscribed, Subscriber
from subscriptions_api import create_api

ADA = Subscriber(1, "ada@example.org", "Ada", datetime(2024, 5, 1, tzinfo=UTC))


def test_a_new_subscription_is_a_201_with_the_subscriber():
    service = Mock()
    service.subscribe.return_value = ADA

    response = TestClient(create_api(service)).post(
        "/subscriptions", json={"email": "ada@example.org", "name": "Ada"}
    )

    assert response.status_code == 201
    assert response.json() == {"id": 1, "email": "ada@example.org", "name": "Ada"}


def test_an_address_already_subscribed_is_a_409():
    service = Mock()
    service.subscribe.side_effect = AlreadySubscribed("ada@example.org")

    response = TestClient(create_api(service)).post(
        "/subscriptions", json={"email": "ada@example.org", "name": "Ada"}
    )

    assert response.status_code == 409


def test_a_known_subscriber_can_be_looked_up():
    service = Mock()
    service.lookup.return_value = ADA

    response = TestClient(create_api(service)).get("/subscriptions/ada@example.org")

    assert response.json()["name"] == "Ada"
