"""Registration with a fake repository: fast, and blind to what Postgres would make of the data."""

import pytest

from registration import register
from validation import ValidationError


class FakeMembers:
    """Keeps members in a list, the way the real repository keeps them in a table."""

    def __init__(self):
        self.stored = []

    def add(self, signup):
        self.stored.append(signup)
        return len(self.stored)


FORM = {"name": "Ada Lovelace", "email": "ada@example.org", "birth_date": "03/04/1990"}


def test_stores_the_new_member_and_returns_their_id():
    members = FakeMembers()

    member_id = register(FORM, members)

    assert member_id == 1
    assert [signup.email for signup in members.stored] == ["ada@example.org"]


def test_stores_nothing_when_the_form_is_invalid():
    members = FakeMembers()

    with pytest.raises(ValidationError):
        register({**FORM, "email": "not an address"}, members)

    assert members.stored == []

