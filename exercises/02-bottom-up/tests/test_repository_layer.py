"""Yours, step 1 of the bottom-up integration: the repository against the real Postgres.

Use `SubscriberRepository(db_engine)`; each test starts with an empty `subscribers` table, and
`subscriber_rows()` returns what is really in it. See the README for every fixture.
"""


def test_an_added_subscriber_is_really_stored(db_engine, subscriber_rows):
    # TODO: add a subscriber, then look at what Postgres holds (and what find() returns).
    pass


def test_adding_an_address_twice_is_already_subscribed(db_engine, subscriber_rows):
    # TODO: add the same address twice; what should the second add raise, and what is stored?
    pass
