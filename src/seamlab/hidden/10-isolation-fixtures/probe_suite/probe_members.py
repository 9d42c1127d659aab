"""Probes: members joining and leaving (the code under test commits and rolls back)."""

import pytest
from leftovers import assert_clean, email, tool
from wish_cache import WishCache
from wishlist_store import AlreadyMember, add_wish, join, leave, member_count

ME_1 = "test_joining_is_visible_to_the_next_query"
ME_2 = "test_joining_twice_is_refused_and_the_session_keeps_working"
ME_3 = "test_leaving_deletes_the_member_and_their_wishes"


def test_joining_is_visible_to_the_next_query(db_session, redis, request):
    assert_clean(db_session, redis, request)
    join(db_session, email("ada", ME_1))
    assert member_count(db_session) == 1, "after one join, one member"


def test_joining_twice_is_refused_and_the_session_keeps_working(db_session, redis, request):
    assert_clean(db_session, redis, request)
    join(db_session, email("bo", ME_2))
    with pytest.raises(AlreadyMember):
        join(db_session, email("bo", ME_2))
    assert member_count(db_session) == 1, (
        "the first join was committed, the duplicate rolled back: one member should remain "
        "(if 0, the code's rollback() undid the test's whole transaction, not just the failed "
        "insert)"
    )
    join(db_session, email("cy", ME_2))
    assert member_count(db_session) == 2


def test_leaving_deletes_the_member_and_their_wishes(db_session, redis, request):
    assert_clean(db_session, redis, request)
    cache = WishCache(redis)
    who = email("di", ME_3)
    join(db_session, who)
    add_wish(db_session, cache, who, tool("drill", ME_3))
    leave(db_session, cache, who)
    assert member_count(db_session) == 0
