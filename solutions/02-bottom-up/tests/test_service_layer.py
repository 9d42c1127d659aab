"""Step 2: the service on the real repository and the real mail provider."""

from __future__ import annotations

import pytest
from confirmation_mailer import ConfirmationMailer
from subscribers_repo import AlreadySubscribed, SubscriberRepository
from subscription_service import SubscriptionService


@pytest.fixture
def service(db_engine, mail_provider):
    return SubscriptionService(SubscriberRepository(db_engine), ConfirmationMailer(mail_provider.url))


def test_subscribing_stores_the_subscriber_and_sends_one_confirmation(
    service, mail_provider, subscriber_rows
):
    subscriber = service.subscribe("Ada@Example.org", "Ada")

    assert [(r["id"], r["email"]) for r in subscriber_rows()] == [(subscriber.id, "ada@example.org")]
    assert [e["to"] for e in mail_provider.sent_emails()] == ["ada@example.org"]


def test_the_same_address_in_other_letters_is_already_subscribed(
    service, mail_provider, subscriber_rows
):
    service.subscribe("ada@example.org", "Ada")

    with pytest.raises(AlreadySubscribed):
        service.subscribe("ADA@example.ORG", "Ada")

    assert len(subscriber_rows()) == 1
    assert len(mail_provider.sent_emails()) == 1


def test_a_subscriber_is_found_whatever_the_case_of_the_address(service):
    added = service.subscribe("ada@example.org", "Ada")

    assert service.lookup("Ada@Example.Org") == added
