"""The mail client, against a mocked provider (respx)."""

import json

import httpx
import pytest
import respx

from welcome_mail import MailUnavailable, WelcomeMailer

BASE = "http://mail.test"


@respx.mock
def test_the_welcome_email_goes_to_the_new_member():
    route = respx.post(f"{BASE}/api/emails/send").mock(
        return_value=httpx.Response(202, json={"messageId": "m1"})
    )
    WelcomeMailer(BASE).send_welcome("ada@example.org", "Ada")
    body = json.loads(route.calls.last.request.content)
    assert body["to"] == "ada@example.org"
    assert "Ada" in body["text"]


@respx.mock
def test_an_error_status_from_the_provider_is_mail_unavailable():
    respx.post(f"{BASE}/api/emails/send").mock(return_value=httpx.Response(500))
    with pytest.raises(MailUnavailable):
        WelcomeMailer(BASE).send_welcome("ada@example.org", "Ada")


@respx.mock
def test_an_unreachable_provider_is_mail_unavailable():
    respx.post(f"{BASE}/api/emails/send").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(MailUnavailable):
        WelcomeMailer(BASE).send_welcome("ada@example.org", "Ada")
