"""Integration tests for POST /registrations: the response, the row and the email, every time.

Fixtures (see the README): client, mail_provider, user_rows (and app, db_engine).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

FORM = {"email": "Ada.Lovelace@Example.com", "name": "Ada", "password": "analytical-engine-1843"}


def test_registering_stores_the_user_and_sends_a_welcome_email(client, mail_provider, user_rows):
    response = client.post("/registrations", json=FORM)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ada.lovelace@example.com"
    assert body["name"] == "Ada"
    assert "password" not in body and FORM["password"] not in response.text
    created_at = datetime.fromisoformat(body["created_at"])
    assert created_at.tzinfo is not None, f"created_at has no time zone: {body['created_at']}"
    assert abs(datetime.now(UTC) - created_at) < timedelta(minutes=1)

    [row] = user_rows()
    assert row["id"] == body["id"]
    assert row["email"] == "ada.lovelace@example.com"
    assert row["password_hash"] != FORM["password"]

    [email] = mail_provider.sent_emails()
    assert email["to"] == "ada.lovelace@example.com"
    assert "Ada" in email["subject"] + email["text"]


def test_registering_an_address_that_is_already_taken_is_a_409(client, mail_provider, user_rows):
    assert client.post("/registrations", json=FORM).status_code == 201

    again = client.post("/registrations", json={**FORM, "email": FORM["email"].upper()})

    assert again.status_code == 409, again.text
    assert len(user_rows()) == 1
    assert len(mail_provider.sent_emails()) == 1, "the duplicate must not get a welcome email"


def test_a_mail_provider_failure_is_a_503_and_nothing_is_kept(client, mail_provider, user_rows):
    mail_provider.fail_next(status=500)

    response = client.post("/registrations", json=FORM)

    assert response.status_code == 503, response.text
    assert user_rows() == []
    assert len(mail_provider.send_requests()) == 1, "the provider should have been asked once"
    retry = client.post("/registrations", json=FORM)
    assert retry.status_code == 201, "after the provider recovers the same address can register"
