"""Probes: wishes in Postgres, including a refused duplicate (rollback inside the code)."""

import pytest
import sqlalchemy as sa
from leftovers import assert_clean, email, tool
from wish_cache import WishCache
from wishlist_store import AlreadyWished, Wish, add_wish, join

ME_1 = "test_a_wish_is_stored_and_listed"
ME_2 = "test_a_refused_duplicate_wish_keeps_the_first_one"
ME_3 = "test_many_members_and_wishes_are_counted_exactly"


def wish_count(db_session) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(Wish))


def test_a_wish_is_stored_and_listed(db_session, redis, request):
    assert_clean(db_session, redis, request)
    cache = WishCache(redis)
    who = email("ed", ME_1)
    join(db_session, who)
    add_wish(db_session, cache, who, tool("lathe", ME_1))
    assert wish_count(db_session) == 1


def test_a_refused_duplicate_wish_keeps_the_first_one(db_session, redis, request):
    assert_clean(db_session, redis, request)
    cache = WishCache(redis)
    who, kiln = email("flo", ME_2), tool("kiln", ME_2)
    join(db_session, who)
    add_wish(db_session, cache, who, kiln)
    with pytest.raises(AlreadyWished):
        add_wish(db_session, cache, who, kiln)
    assert wish_count(db_session) == 1, (
        "the first wish was committed and the duplicate rolled back, so one wish should remain; "
        "the code's rollback() must undo only its own failed insert, not everything the test did"
    )


def test_many_members_and_wishes_are_counted_exactly(db_session, redis, request):
    assert_clean(db_session, redis, request)
    cache = WishCache(redis)
    for i in range(5):
        who = email(f"m{i}", ME_3)
        join(db_session, who)
        for name in ("saw", "vise"):
            add_wish(db_session, cache, who, tool(name, ME_3))
    assert wish_count(db_session) == 10
