"""The leaderboard cache on a real Redis."""

from __future__ import annotations

from leaderboard_cache import TOP_TTL_SECONDS


def test_nothing_is_cached_at_first(cache):
    assert cache.top() is None
    assert cache.best("ada") is None


def test_the_top_list_round_trips_through_redis(cache):
    cache.store_top([("ada", 30), ("grace", 20)])

    assert cache.top() == [{"player": "ada", "points": 30}, {"player": "grace", "points": 20}]


def test_the_top_list_expires(cache, redis_conn):
    cache.store_top([("ada", 30)])

    ttl = redis_conn.ttl(cache.key("top"))

    assert 0 < ttl <= TOP_TTL_SECONDS


def test_a_lower_score_never_replaces_the_best(cache):
    cache.record_best("ada", 30)
    cache.record_best("ada", 10)
    cache.record_best("ada", 45)

    assert cache.best("ada") == 45


def test_only_the_cache_namespace_is_used(cache, redis_conn):
    cache.store_top([("ada", 30)])
    cache.record_best("ada", 30)

    # Other workers share this Redis database: look at this cache's namespace only.
    keys = sorted(key.decode() for key in redis_conn.scan_iter(match=f"{cache.namespace}:*"))

    assert keys == [cache.key("best"), cache.key("top")]
