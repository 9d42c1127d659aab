"""Unit tests of the mail client, against a respx stub of the provider's API.

The stub was written from the provider's documentation when the client was built, top-down,
before there was a provider account to test against.
"""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from mail_client import MailClient, MailRejected, MailUnavailable
from welcome import send_welcome

PROVIDER = "http://mail.invalid"


@respx.mock
def test_sends_the_email_and_returns_the_providers_id():
    route = respx.post(f"{PROVIDER}/api/emails/send").mock(
        return_value=httpx.Response(202, json={"messageId": "msg_1"})
    )

    message_id = MailClient(PROVIDER).send("ada@example.com", "Hello", "Hi Ada")

    assert message_id == "msg_1"
    sent = json.loads(route.calls.last.request.content)
    assert sent["to"] == "ada@example.com"
    assert sent["subject"] == "Hello"


@respx.mock
def test_the_welcome_email_greets_the_new_colleague_by_name():
    route = respx.post(f"{PROVIDER}/api/emails/send").mock(
        return_value=httpx.Response(202, json={"messageId": "msg_2"})
    )

    send_welcome("grace@example.com", "Grace", MailClient(PROVIDER))

    assert "Grace" in json.loads(route.calls.last.request.content)["subject"]


@respx.mock
def test_a_refused_email_is_mail_rejected():
    respx.post(f"{PROVIDER}/api/emails/send").mock(
        return_value=httpx.Response(422, json={"message": "Invalid email"})
    )
    with pytest.raises(MailRejected):
        MailClient(PROVIDER).send("not-an-address", "Hello", "Hi")


@respx.mock
def test_a_provider_outage_is_mail_unavailable():
    respx.post(f"{PROVIDER}/api/emails/send").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(MailUnavailable):
        MailClient(PROVIDER).send("ada@example.com", "Hello", "Hi")
