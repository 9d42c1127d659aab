"""Unit tests of the mail client, against a respx stub of the provider's API.

The stub now answers like version 2 of the provider (``recipient``, ``201 {"id"}``). A stub
only repeats what we believe about the provider; tests/test_mail_contract.py checks that belief
against the real one.
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
        return_value=httpx.Response(201, json={"id": "msg_1"})
    )

    message_id = MailClient(PROVIDER).send("ada@example.com", "Hello", "Hi Ada")

    assert message_id == "msg_1"
    sent = json.loads(route.calls.last.request.content)
    assert sent["recipient"] == "ada@example.com"
    assert "to" not in sent
    assert sent["subject"] == "Hello"


@respx.mock
def test_the_welcome_email_greets_the_new_colleague_by_name():
    route = respx.post(f"{PROVIDER}/api/emails/send").mock(
        return_value=httpx.Response(201, json={"id": "msg_2"})
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
