"""Step 3: the HTTP API on the real service (real repository, real mail provider)."""

from __future__ import annotations

import httpx
import pytest
from confirmation_mailer import ConfirmationMailer
from subscribers_repo import SubscriberRepository
from subscription_service import SubscriptionService
from subscriptions_api import create_api


@pytest.fixture
def client(db_engine, mail_provider, live_server):
    service = SubscriptionService(SubscriberRepository(db_engine), ConfirmationMailer(mail_provider.url))
    with httpx.Client(base_url=live_server(create_api(service)), timeout=5) as http:
        yield http


def test_a_subscription_over_http_is_stored_and_can_be_looked_up(
    client, mail_provider, subscriber_rows
):
    response = client.post("/subscriptions", json={"email": "ada@example.org", "name": "Ada"})

    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["name"]) == ("ada@example.org", "Ada")
    assert [r["id"] for r in subscriber_rows()] == [body["id"]]
    assert client.get("/subscriptions/ada@example.org").json() == body
    assert [e["to"] for e in mail_provider.sent_emails()] == ["ada@example.org"]


def test_subscribing_twice_over_http_is_a_409(client, subscriber_rows):
    form = {"email": "ada@example.org", "name": "Ada"}
    client.post("/subscriptions", json=form)

    assert client.post("/subscriptions", json=form).status_code == 409
    assert len(subscriber_rows()) == 1


def test_an_address_never_subscribed_is_a_404(client):
    assert client.get("/subscriptions/nobody@example.org").status_code == 404
