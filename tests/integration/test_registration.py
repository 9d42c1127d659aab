"""Registering a user: the response, the row in Postgres and the email, including failures."""

from __future__ import annotations

from datetime import datetime

from signup.models import User
from signup.passwords import verify_password
from sqlalchemy import func, select


def users_with_email(db_session, email: str) -> list[User]:
    statement = select(User).where(func.lower(User.email) == email.lower())
    return list(db_session.scalars(statement))


def test_registering_returns_the_user_stores_a_row_and_sends_one_email(
    register, api_client, db_session, mail_provider, published
):
    response = register(api_client, email="Ada@Example.com", password="correct horse battery")

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "Ada@Example.com"
    assert body["name"] == "Ada Lovelace"
    assert not {"password", "password_hash"} & set(body), f"the API leaked a secret: {body}"

    [user] = users_with_email(db_session, "ada@example.com")
    assert user.id == body["id"]
    assert user.password_hash != "correct horse battery"
    assert verify_password("correct horse battery", user.password_hash)
    assert user.created_at.tzinfo is not None, "created_at must be stored with a time zone"
    assert datetime.fromisoformat(body["created_at"]) == user.created_at

    emails = mail_provider.sent_emails()
    assert len(emails) == 1, f"expected exactly one email, the provider got {emails}"
    assert emails[0]["to"] == "Ada@Example.com"
    assert "Ada Lovelace" in emails[0]["text"]
    assert [event.user_id for event in published.events] == [body["id"]]


def test_two_registrations_get_two_rows_and_two_emails(
    register, api_client, db_session, mail_provider
):
    first = register(api_client, email="ada@example.com")
    second = register(api_client, email="grace@example.com", name="Grace Hopper")

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert [e["to"] for e in mail_provider.sent_emails()] == [
        "ada@example.com",
        "grace@example.com",
    ]


def test_the_same_email_in_another_letter_case_is_refused_with_409(
    register, api_client, db_session, mail_provider
):
    assert register(api_client, email="ada@example.com").status_code == 201

    response = register(api_client, email="ADA@Example.COM")

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]
    assert len(users_with_email(db_session, "ada@example.com")) == 1
    assert len(mail_provider.sent_emails()) == 1, "the refused registration still sent an email"


def test_a_provider_error_answers_503_and_stores_nothing(
    register, api_client, db_session, mail_provider, published
):
    mail_provider.fail_next(status=500)

    response = register(api_client, email="ada@example.com")

    assert response.status_code == 503, response.text
    assert "no account was created" in response.json()["detail"]
    assert users_with_email(db_session, "ada@example.com") == []
    assert len(mail_provider.send_requests()) == 1, "the provider was never asked"
    assert published.events == []


def test_a_provider_slower_than_the_timeout_answers_503_and_stores_nothing(
    register, api_client, db_session, mail_provider
):
    mail_provider.delay_next(10.0)

    response = register(api_client, email="ada@example.com")

    assert response.status_code == 503, response.text
    assert users_with_email(db_session, "ada@example.com") == []
    assert mail_provider.sent_emails() == []


def test_a_dropped_connection_to_the_provider_answers_503_and_stores_nothing(
    register, api_client, db_session, mail_provider
):
    mail_provider.drop_next()

    response = register(api_client, email="ada@example.com")

    assert response.status_code == 503, response.text
    assert users_with_email(db_session, "ada@example.com") == []


def test_after_a_provider_failure_the_same_email_can_register(register, api_client, mail_provider):
    mail_provider.fail_next(status=502)
    assert register(api_client).status_code == 503

    assert register(api_client).status_code == 201


def test_an_invalid_form_is_refused_with_422_before_any_email(api_client, mail_provider):
    response = api_client.post(
        "/api/users/register", json={"email": "not an email", "name": "", "password": "short"}
    )

    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"email", "name", "password"}
    assert mail_provider.requests() == []
