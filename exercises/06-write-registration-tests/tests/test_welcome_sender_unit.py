"""Unit tests of the mail client, with the provider mocked by respx: fast, and blind to the seam.

They show the style this exercise asks you to go beyond: the mock answers whatever we told it
to, so these tests can only confirm what the code already believes about the provider.
"""

import httpx
import pytest
import respx
from welcome_sender import MailUnavailable, WelcomeMailer

PROVIDER = "http://mail.invalid"


@respx.mock
def test_sends_the_welcome_email_to_the_new_user():
    route = respx.post(f"{PROVIDER}/api/emails/send").mock(
        return_value=httpx.Response(200, json={"messageId": "m-1"})
    )
    assert WelcomeMailer(PROVIDER).send_welcome("ada@example.com", "Ada") == "m-1"
    assert route.called


@respx.mock
def test_a_server_error_from_the_provider_is_mail_unavailable():
    respx.post(f"{PROVIDER}/api/emails/send").mock(return_value=httpx.Response(500))
    with pytest.raises(MailUnavailable):
        WelcomeMailer(PROVIDER).send_welcome("ada@example.com", "Ada")
