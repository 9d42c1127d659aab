"""Unit tests of the sample system's pure logic: validation, password hashes, event JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from signup.events import UserRegistered
from signup.passwords import hash_password, verify_password
from signup.validation import ValidationError, validate_name, validate_registration

FORM = {"email": " Ada@Example.com ", "name": " Ada Lovelace ", "password": "correct horse"}


def test_a_valid_form_is_cleaned_but_keeps_the_letter_case_of_the_email():
    registration = validate_registration(FORM)

    assert registration.email == "Ada@Example.com"
    assert registration.name == "Ada Lovelace"
    assert registration.password == "correct horse"


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"email": "ada.example.com"}, "email", "not an email address"),
        ({"email": "ada@example"}, "email", "not an email address"),
        ({"email": None}, "email", "is required"),
        ({"name": "   "}, "name", "must not be empty"),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"password": "short"}, "password", "at least 8"),
    ],
)
def test_each_bad_field_is_reported_by_name(changes, field, problem):
    with pytest.raises(ValidationError) as caught:
        validate_registration({**FORM, **changes})

    assert problem in caught.value.errors[field]
    assert set(caught.value.errors) == {field}


def test_a_form_that_is_not_an_object_is_refused():
    with pytest.raises(ValidationError, match="JSON object"):
        validate_registration(["ada@example.com"])


def test_validate_name_raises_when_not_collecting_errors():
    assert validate_name(" Grace ") == "Grace"
    with pytest.raises(ValidationError, match="name: must not be empty"):
        validate_name("")


def test_the_same_password_hashes_differently_each_time_and_verifies():
    first, second = hash_password("correct horse"), hash_password("correct horse")

    assert first != second, "the hash is not salted"
    assert "correct horse" not in first
    assert verify_password("correct horse", first)
    assert verify_password("correct horse", second)
    assert not verify_password("wrong horse", first)
    assert not verify_password("correct horse", "not-a-hash")


def test_user_registered_travels_as_json_with_an_iso_datetime_and_time_zone():
    event = UserRegistered(
        user_id=7,
        email="ada@example.com",
        name="Ada",
        registered_at=datetime(2024, 4, 3, 12, 30, tzinfo=UTC),
    )

    raw = event.to_json()

    assert '"registered_at": "2024-04-03T12:30:00+00:00"' in raw
    assert '"type": "UserRegistered"' in raw
    assert UserRegistered.from_json(raw) == event
