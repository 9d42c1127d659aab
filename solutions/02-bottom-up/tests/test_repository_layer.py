"""Step 1 of the bottom-up integration: the repository against the real Postgres."""

from __future__ import annotations

import pytest
from subscribers_repo import AlreadySubscribed, SubscriberRepository


def test_an_added_subscriber_is_really_stored(db_engine, subscriber_rows):
    added = SubscriberRepository(db_engine).add("ada@example.org", "Ada")

    rows = subscriber_rows()
    assert [(r["id"], r["email"], r["name"]) for r in rows] == [(added.id, "ada@example.org", "Ada")]
    assert rows[0]["created_at"].tzinfo is not None
    assert SubscriberRepository(db_engine).find("ada@example.org") == added


def test_adding_an_address_twice_is_already_subscribed(db_engine, subscriber_rows):
    repository = SubscriberRepository(db_engine)
    repository.add("ada@example.org", "Ada")

    with pytest.raises(AlreadySubscribed):
        repository.add("ada@example.org", "Ada L.")

    assert [r["name"] for r in subscriber_rows()] == ["Ada"]


def test_an_unknown_address_is_not_found(db_engine):
    assert SubscriberRepository(db_engine).find("nobody@example.org") is None
