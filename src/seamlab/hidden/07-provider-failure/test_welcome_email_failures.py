"""Exercise 07: no welcome email, no member; and the API answers quickly with 503 when the
provider fails, whether it refuses, drops the connection or hangs."""

from __future__ import annotations

import time

import httpx
import pytest

#: The product's promise: the sign-up page answers within 2 s, whatever the provider does.
ANSWER_WITHIN = 2.0
#: Room for a busy grading machine on top of the promise; the app's own timeout must fit inside.
SLACK = 0.5
#: How long the provider takes in the test of a hanging provider: longer than anyone waits.
PROVIDER_DELAY = ANSWER_WITHIN + SLACK + 0.5
LIN = {"email": "lin@example.com", "name": "Lin Chen"}


class NoAnswer:
    """Stands in for the response when the API did not answer (too slow, or connection lost)."""

    status_code = None

    def __init__(self, error: httpx.TransportError) -> None:
        self.error = error


def join(
    api: httpx.Client, form: dict[str, str] = LIN, timeout: float | None = None
) -> tuple[httpx.Response | NoAnswer, float]:
    """POST /members; returns (the response, or NoAnswer, and the seconds it took)."""
    started = time.monotonic()
    try:
        limit = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        response: httpx.Response | NoAnswer = api.post("/members", json=form, timeout=limit)
    except httpx.TransportError as error:  # timeouts included
        response = NoAnswer(error)
    return response, time.monotonic() - started


def shown(response: httpx.Response | NoAnswer, seconds: float) -> str:
    """What the API did, as a verb phrase: 'answered 503 {...} after 0.4 s'."""
    if isinstance(response, NoAnswer):
        if isinstance(response.error, httpx.TimeoutException):
            return f"gave no answer within {seconds:.1f} s"
        return f"broke the connection without an answer ({type(response.error).__name__})"
    body = response.text.strip().replace("\n", " ")
    return f"answered {response.status_code} {body[:160]} after {seconds:.1f} s"


def emails_to(mail_provider, address: str) -> list[dict]:
    return [email for email in mail_provider.sent_emails() if email.get("to") == address]


def test_a_new_member_gets_201_and_exactly_one_welcome_email(onboarding_api, mail_provider,
                                                              members_named):
    response, seconds = join(onboarding_api)

    assert response.status_code == 201, (
        f"Joined as {LIN['email']} with the mail provider working normally: the API "
        f"{shown(response, seconds)}. Expected 201."
    )
    assert members_named(LIN["email"]) == [LIN["name"]], (
        f"The API answered 201, but the members table holds {members_named(LIN['email'])} for "
        f"{LIN['email']}. Expected one member named {LIN['name']!r}."
    )
    emails = emails_to(mail_provider, LIN["email"])
    assert len(emails) == 1, (
        f"The mail provider accepted {len(emails)} email(s) to {LIN['email']} "
        f"(all accepted sends: {[e.get('to') for e in mail_provider.sent_emails()]}). "
        f"Expected exactly one welcome email."
    )
    assert "Lin Chen" in emails[0].get("subject", "") + emails[0].get("text", ""), (
        f"The welcome email to {LIN['email']} does not greet {LIN['name']!r}: "
        f"subject {emails[0].get('subject')!r}, text {emails[0].get('text')!r}."
    )


@pytest.mark.seam
def test_a_provider_error_answers_503_and_stores_no_member(onboarding_api, mail_provider,
                                                           members_named):
    mail_provider.fail_next(status=500)

    response, seconds = join(onboarding_api)

    stored = members_named(LIN["email"])
    assert response.status_code == 503 and not stored, (
        f"The mail provider answered the welcome email with 500. The API "
        f"{shown(response, seconds)}, and the members table holds {len(stored)} member(s) for "
        f"{LIN['email']}. Expected 503 (please try again later) and no member: an account "
        f"whose welcome email was never sent must not exist."
    )


@pytest.mark.seam
def test_a_dropped_connection_answers_503_and_stores_no_member(onboarding_api, mail_provider,
                                                               members_named):
    mail_provider.drop_next()

    response, seconds = join(onboarding_api)

    stored = members_named(LIN["email"])
    assert response.status_code == 503 and not stored, (
        f"The mail provider closed the connection without answering. The API "
        f"{shown(response, seconds)}, and the members table holds {len(stored)} member(s) for "
        f"{LIN['email']}. Expected 503 and no member."
    )


@pytest.mark.seam
def test_a_provider_that_hangs_gets_503_within_two_seconds_and_no_member(
    onboarding_api, mail_provider, members_named
):
    mail_provider.delay_next(seconds=PROVIDER_DELAY)

    response, seconds = join(onboarding_api, timeout=ANSWER_WITHIN + SLACK)

    stored = members_named(LIN["email"])
    assert response.status_code == 503 and not stored, (
        f"The mail provider was set to take {PROVIDER_DELAY:.1f} s over the welcome email. "
        f"The API {shown(response, seconds)}, and the members table holds "
        f"{len(stored)} member(s) for {LIN['email']}. Expected 503 within {ANSWER_WITHIN:.0f} s "
        f"and no member: nobody waits on a sign-up page for the provider."
    )


@pytest.mark.seam
def test_after_a_provider_error_the_same_person_can_join_on_the_next_try(
    onboarding_api, mail_provider, members_named
):
    mail_provider.fail_next(status=500)
    first, _ = join(onboarding_api)

    retry, seconds = join(onboarding_api)

    assert retry.status_code == 201, (
        f"The first try got {first.status_code or 'no answer'} because "
        f"the mail provider failed once; the provider works again. The second try "
        f"{shown(retry, seconds)}. Expected 201: a failed try must leave nothing behind that "
        f"blocks the next one (the members table holds {members_named(LIN['email'])})."
    )
    assert len(emails_to(mail_provider, LIN["email"])) == 1, (
        f"After one failed and one successful try, the provider accepted "
        f"{len(emails_to(mail_provider, LIN['email']))} welcome email(s) to {LIN['email']}. "
        f"Expected exactly one."
    )
