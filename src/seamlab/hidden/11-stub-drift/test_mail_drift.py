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


#: How a provider fails, as the client meets it: a 5xx, a connection closed without an answer,
#: an answer slower than the client's timeout (2 s late for a client that waits 0.5 s).
OUTAGES = {
    "answers 500": lambda provider: provider.fail_next(status=500),
    "answers 502": lambda provider: provider.fail_next(status=502),
    "answers 503": lambda provider: provider.fail_next(status=503),
    "closes the connection without an answer": lambda provider: provider.drop_next(),
    "answers only after the client's timeout": lambda provider: provider.delay_next(2.0),
}


@pytest.mark.parametrize("how", list(OUTAGES))
def test_every_way_the_provider_fails_raises_mail_unavailable(provider, how):
    from mail_client import MailClient, MailUnavailable

    OUTAGES[how](provider)
    try:
        MailClient(provider.url, timeout=0.5).send(ADDRESS, "Welcome", "Hello")
    except MailUnavailable:
        return
    except Exception as error:  # noqa: BLE001 - the learner's client: reported below
        raise AssertionError(
            f"The provider {how}; MailClient(url, timeout=0.5).send(...) raised "
            f"{type(error).__name__}: {error}. MailUnavailable's docstring promises that one "
            f"exception for every failure of the provider (5xx, timeouts, broken connections), "
            f"so callers can retry later."
        ) from None
    raise AssertionError(
        f"The provider {how}, and MailClient(url, timeout=0.5).send(...) returned normally; "
        f"expected MailUnavailable."
    )


@pytest.mark.parametrize("status", [400, 409, 422])
def test_every_refusal_raises_mail_rejected(provider, status):
    from mail_client import MailClient, MailRejected

    provider.fail_next(status=status, body={"message": f"refused with {status} by the test"})
    try:
        MailClient(provider.url).send(ADDRESS, "Welcome", "Hello")
    except MailRejected:
        return
    except Exception as error:  # noqa: BLE001 - the learner's client: reported below
        raise AssertionError(
            f"The provider answered {status} (it refused the email); send(...) raised "
            f"{type(error).__name__}: {error}. MailRejected's docstring promises it for every "
            f"4xx: the request must change, a retry will not help."
        ) from None
    raise AssertionError(f"The provider answered {status}, and send(...) returned normally; "
                         f"expected MailRejected.")


def test_the_email_the_provider_accepts_has_the_sender_subject_and_text(provider):
    from mail_client import MailClient

    try:
        MailClient(provider.url, sender="people@staffapp.example").send(
            ADDRESS, "Your first day", "Desk 4, 9 o'clock"
        )
    except Exception as error:  # noqa: BLE001 - the learner's client: reported below
        raise AssertionError(
            f"MailClient(url, sender=...).send(...) raised {type(error).__name__}: {error}. "
            f"{what_the_provider_saw(provider)} Fix the check 'An email sent by the client is "
            f"accepted by the real provider' first."
        ) from None

    accepted = provider.sent_emails()
    assert len(accepted) == 1, f"The provider accepted {len(accepted)} emails; expected one."
    got = {key: accepted[0].get(key) for key in ("from", "subject", "text")}
    assert got == {"from": "people@staffapp.example", "subject": "Your first day",
                   "text": "Desk 4, 9 o'clock"}, (
        f"MailClient(url, sender='people@staffapp.example').send({ADDRESS!r}, 'Your first day', "
        f"\"Desk 4, 9 o'clock\") reached the provider as {got}; expected the sender, subject "
        f"and text it was given."
    )
