"""Tests on a schema built with create_all from models.py: quick, and blind to the migrations."""

import pytest
from models import metadata
from subscriptions import AlreadySubscribed, Subscriptions


@pytest.fixture
def subscriptions(db_engine):
    metadata.drop_all(db_engine)
    metadata.create_all(db_engine)  # what every test here builds its schema with
    yield Subscriptions(db_engine)
    metadata.drop_all(db_engine)


def test_a_new_subscriber_is_stored_on_the_free_plan(subscriptions):
    added = subscriptions.subscribe("ada@example.com", "Ada")

    assert subscriptions.get(added.id) == added
    assert added.plan == "free"


def test_an_address_in_other_letters_is_already_subscribed(subscriptions):
    subscriptions.subscribe("ada@example.com", "Ada")

    with pytest.raises(AlreadySubscribed):
        subscriptions.subscribe("Ada@Example.COM", "Ada again")
