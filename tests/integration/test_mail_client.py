"""signup's mail client against the real mail provider: every way a send fails is one error."""

from __future__ import annotations

import socket

import httpx
import pytest
from signup.mail import MailClient, MailProviderError


def test_a_send_returns_the_message_id_and_reaches_the_provider(mail_client, mail_provider):
    message_id = mail_client.send(to="ada@example.com", subject="Hi", text="Hello")

    assert message_id.startswith("msg_")
    [email] = mail_provider.sent_emails()
    assert (email["to"], email["subject"], email["text"]) == ("ada@example.com", "Hi", "Hello")


@pytest.mark.parametrize(
    ("program", "reason"),
    [
        (lambda provider: provider.fail_next(status=500), "refused the email: 500"),
        (lambda provider: provider.fail_next(status=429), "refused the email: 429"),
        (lambda provider: provider.delay_next(10.0), "did not answer in time"),
        (lambda provider: provider.drop_next(), "could not talk to the mail provider"),
    ],
    ids=["500", "429", "timeout", "dropped connection"],
)
def test_every_kind_of_provider_failure_raises_mail_provider_error(
    mail_client, mail_provider, program, reason
):
    program(mail_provider)

    with pytest.raises(MailProviderError, match=reason):
        mail_client.send(to="ada@example.com", subject="Hi", text="Hello")


def test_a_provider_that_is_not_running_raises_mail_provider_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = MailClient(f"http://127.0.0.1:{port}", timeout=httpx.Timeout(1.0))

    with pytest.raises(MailProviderError, match=f"127.0.0.1:{port}"):
        client.send(to="ada@example.com", subject="Hi", text="Hello")
