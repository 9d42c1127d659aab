"""The wishlist's tests, against the real Postgres and Redis of this test session."""

import pytest

from wishlist_store import (
    AlreadyMember,
    AlreadyWished,
    add_wish,
    join,
    leave,
    member_count,
    wishes_of,
)


def test_a_new_wish_shows_up_in_the_members_list(db_session, cache):
    join(db_session, "ada@makers.test")
    add_wish(db_session, cache, "ada@makers.test", "lathe")
    assert wishes_of(db_session, cache, "ada@makers.test") == ["lathe"]


def test_a_member_wishes_for_a_tool_only_once(db_session, cache):
    join(db_session, "bo@makers.test")
    add_wish(db_session, cache, "bo@makers.test", "kiln")
    with pytest.raises(AlreadyWished):
        add_wish(db_session, cache, "bo@makers.test", "kiln")
    assert wishes_of(db_session, cache, "bo@makers.test") == ["kiln"]


def test_an_email_joins_only_once(db_session):
    join(db_session, "cy@makers.test")
    with pytest.raises(AlreadyMember):
        join(db_session, "CY@makers.test")


def test_the_most_wished_tool_counts_every_member(db_session, cache):
    for email in ("di@makers.test", "ed@makers.test"):
        join(db_session, email)
        add_wish(db_session, cache, email, "laser cutter")
    assert cache.most_wished(1) == [("laser cutter", 2)]


def test_leaving_removes_the_member_and_their_wishes(db_session, cache):
    join(db_session, "flo@makers.test")
    add_wish(db_session, cache, "flo@makers.test", "bandsaw")
    before = member_count(db_session)
    leave(db_session, cache, "flo@makers.test")
    assert member_count(db_session) == before - 1
