"""Probes: the Redis side (a cached list with an expiry, the leaderboard, a raw key)."""

from leftovers import assert_clean, email, tool
from wish_cache import WishCache
from wishlist_store import add_wish, join, wishes_of

ME_1 = "test_a_members_wishes_are_cached_with_an_expiry"
ME_2 = "test_the_leaderboard_counts_only_this_tests_wishes"
ME_3 = "test_a_key_written_straight_to_redis_is_gone_afterwards"


def test_a_members_wishes_are_cached_with_an_expiry(db_session, redis, request):
    assert_clean(db_session, redis, request)
    cache = WishCache(redis)
    who = email("gus", ME_1)
    join(db_session, who)
    add_wish(db_session, cache, who, tool("router", ME_1))
    assert wishes_of(db_session, cache, who) == [tool("router", ME_1)]
    assert redis.ttl(f"wishlist:wishes:{who}") > 0


def test_the_leaderboard_counts_only_this_tests_wishes(db_session, redis, request):
    assert_clean(db_session, redis, request)
    cache = WishCache(redis)
    printer = tool("3d printer", ME_2)
    for who in ("hal", "ivy"):
        join(db_session, email(who, ME_2))
        add_wish(db_session, cache, email(who, ME_2), printer)
    assert cache.most_wished(10) == [(printer, 2)]


def test_a_key_written_straight_to_redis_is_gone_afterwards(db_session, redis, request):
    assert_clean(db_session, redis, request)
    redis.set(tool("scratch", ME_3), "1")
    redis.rpush(tool("queue", ME_3), "a", "b")
    assert redis.dbsize() == 2
