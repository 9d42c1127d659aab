"""Exercise 11: the mail client against the provider production uses now (API version 2)."""

from __future__ import annotations

import json

import pytest

ADDRESS = "ada@example.com"


def what_the_provider_saw(provider) -> str:
    sends = provider.send_requests()
    if not sends:
        return "The provider received no request at all."
    last = sends[-1]
    return (
        f"The client sent {json.dumps(last.get('json'))} and the provider answered "
        f"{last.get('response_status')}."
    )


def send_through_the_real_provider(provider) -> str:
    from mail_client import MailClient

    try:
        return MailClient(provider.url).send(ADDRESS, "Welcome aboard, Ada!", "Hello Ada")
    except Exception as error:  # noqa: BLE001 - the learner's client: reported below
        raise AssertionError(
            f"MailClient.send({ADDRESS!r}, ...) raised {type(error).__name__}: {error}. "
            f"{what_the_provider_saw(provider)} Expected: the provider accepts the email and "
            f"send() returns the id it gave."
        ) from None


@pytest.mark.seam
def test_an_email_sent_by_the_client_is_accepted_by_the_real_provider(provider):
    message_id = send_through_the_real_provider(provider)

    accepted = provider.sent_emails()
    assert len(accepted) == 1, (
        f"send() returned {message_id!r}, but the provider accepted {len(accepted)} emails. "
        f"{what_the_provider_saw(provider)}"
    )
    assert accepted[0].get("recipient") == ADDRESS, (
        f"The provider accepted an email for {accepted[0].get('recipient')!r}; expected "
        f"{ADDRESS!r}."
    )


@pytest.mark.seam
def test_send_returns_the_id_the_provider_gave(provider):
    message_id = send_through_the_real_provider(provider)

    assert isinstance(message_id, str) and message_id.startswith("msg_"), (
        f"send() returned {message_id!r}. The provider answered "
        f"{provider.send_requests()[-1].get('response_status')} with a message id like "
        f"'msg_3f2a...'; expected send() to return that id, the handle for tracing the email."
    )


def test_the_welcome_email_reaches_the_new_colleague(provider):
    from mail_client import MailClient
    from welcome import send_welcome

    try:
        send_welcome("grace@example.com", "Grace", MailClient(provider.url))
    except Exception as error:  # noqa: BLE001 - the learner's code: reported below
        raise AssertionError(
            f"send_welcome('grace@example.com', 'Grace') raised {type(error).__name__}: "
            f"{error}. {what_the_provider_saw(provider)}"
        ) from None

    recipients = [email.get("recipient") for email in provider.sent_emails()]
    assert recipients == ["grace@example.com"], (
        f"The provider accepted emails for {recipients}; expected one, for grace@example.com."
    )


def test_a_provider_outage_raises_mail_unavailable(provider):
    from mail_client import MailClient, MailUnavailable

    provider.fail_next(status=503)

    with pytest.raises(MailUnavailable):
        MailClient(provider.url).send(ADDRESS, "Welcome", "Hello")


def test_an_address_the_provider_refuses_raises_mail_rejected(provider):
    from mail_client import MailClient, MailRejected

    with pytest.raises(MailRejected):
        MailClient(provider.url).send("not an address", "Welcome", "Hello")
