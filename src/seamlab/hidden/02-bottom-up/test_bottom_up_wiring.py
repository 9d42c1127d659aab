"""Exercise 02: the whole app, as production wires it, on the real Postgres and mail provider."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

FORM = {"email": "ada@example.org", "name": "Ada"}


@pytest.fixture
def whole_app(subscribers_engine, app_settings, live_server):
    from wiring import create_app

    try:
        app = create_app(app_settings)
    except Exception as error:  # noqa: BLE001 - the learner's wiring: any exception is the finding
        raise AssertionError(
            f"wiring.create_app(settings) raised {type(error).__name__}: {error}. Expected it "
            f"to build the app on the database and mail provider that the settings name."
        ) from None
    with httpx.Client(base_url=live_server(app), timeout=5) as client:
        yield client


def call(client: httpx.Client, method: str, path: str, **kwargs) -> httpx.Response:
    """One request to the learner's app; a broken connection is a finding, not a crash."""
    try:
        return client.request(method, path, headers={"Connection": "close"}, **kwargs)
    except httpx.HTTPError as error:
        raise AssertionError(
            f"{method} {path} to the app built by wiring.create_app(settings) got no answer: "
            f"{type(error).__name__}: {error}. Expected an HTTP response."
        ) from None


def stored(engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text("SELECT email, name FROM subscribers"))]


@pytest.mark.seam
def test_a_subscription_through_the_whole_app_is_stored_and_confirmed(
    whole_app, subscribers_engine, mail_provider
):
    response = call(whole_app, "POST", "/subscriptions", json=FORM)

    assert response.status_code == 201, (
        f"POST /subscriptions {FORM} to the app built by wiring.create_app(settings) answered "
        f"{response.status_code}: {response.text[:200]}. Expected 201. The layers work on "
        f"their own; integrate them bottom-up with real services to find where this breaks."
    )
    rows = stored(subscribers_engine)
    assert rows == [("ada@example.org", "Ada")], (
        f"The app answered 201, but the subscribers table in the Postgres that the settings "
        f"name holds {rows}. Expected the one subscriber, ('ada@example.org', 'Ada')."
    )
    recipients = [email.get("to") for email in mail_provider.sent_emails()]
    assert recipients == ["ada@example.org"], (
        f"The mail provider that the settings name accepted emails for {recipients}; expected "
        f"one confirmation, for ada@example.org."
    )


def test_the_whole_app_answers_409_for_an_address_already_subscribed(whole_app, subscribers_engine):
    first = call(whole_app, "POST", "/subscriptions", json=FORM)
    second = call(whole_app, "POST", "/subscriptions", json={**FORM, "email": "ADA@example.org"})

    assert (first.status_code, second.status_code) == (201, 409), (
        f"Subscribing ada@example.org and then ADA@example.org answered {first.status_code} "
        f"then {second.status_code}: {second.text[:200]}. Expected 201, then 409."
    )


def test_a_subscriber_stored_by_the_whole_app_can_be_looked_up(whole_app):
    created = call(whole_app, "POST", "/subscriptions", json=FORM)
    found = call(whole_app, "GET", "/subscriptions/ada@example.org")

    assert found.status_code == 200 and found.json() == created.json(), (
        f"After POST /subscriptions answered {created.status_code} {created.text[:120]}, "
        f"GET /subscriptions/ada@example.org answered {found.status_code}: {found.text[:120]}. "
        f"Expected 200 with the same subscriber."
    )
