"""Exercise 09: the session cache against a real Redis, not a dict."""

from __future__ import annotations

import pytest

from seamlab.waiting import wait_for


@pytest.mark.seam
def test_a_new_session_token_is_valid_for_its_user(make_cache, redis_contents):
    cache = make_cache()
    token = cache.start("ada")
    assert cache.is_valid("ada", token), (
        f"cache.start('ada') returned token {token!r}, but cache.is_valid('ada', token) said "
        f"False straight away. Redis now holds:\n{redis_contents()}\n"
        "Look at the type of what comes back from Redis, and what it is compared with."
    )


def test_a_token_is_refused_for_another_user_and_a_made_up_token_is_refused(make_cache):
    cache = make_cache()
    token = cache.start("ada")
    assert not cache.is_valid("grace", token), "ada's token signed in grace."
    assert not cache.is_valid("ada", "made-up-token"), "A token nobody was given signed in ada."


@pytest.mark.seam
def test_a_session_expires_when_its_time_to_live_is_over(make_cache, redis_client, redis_contents):
    cache = make_cache(ttl_ms=1000)
    token = cache.start("ada")
    assert cache.is_valid("ada", token), (
        "A session started with ttl_ms=1000 was not valid even right after start(); fix the "
        f"round trip first (the check 'A new session token is valid for its user'). Redis holds:\n"
        f"{redis_contents()}"
    )
    for key in redis_client.scan_iter(count=100):
        ttl_ms = redis_client.pttl(key)
        assert ttl_ms == -2 or 0 < ttl_ms <= 1000, (
            f"The cache was created with ttl_ms=1000 (one second), but in Redis the key "
            f"{key.decode()!r} "
            + (
                "never expires: every key of a session needs its time to live"
                if ttl_ms == -1
                else f"expires only in {ttl_ms / 1000:,.0f} s: check which unit each Redis "
                "expiry option counts in"
            )
            + f". Redis holds:\n{redis_contents()}"
        )
    wait_for(
        lambda: not cache.is_valid("ada", token),
        timeout=3.0,
        what="a session started with ttl_ms=1000 to stop being valid",
    )


@pytest.mark.seam
def test_rotating_a_session_makes_the_old_token_stop_working(
    make_cache, redis_client, redis_contents
):
    cache = make_cache()
    old = cache.start("ada")
    new = cache.rotate("ada")
    assert cache.is_valid("ada", new), (
        f"After rotate('ada') the new token {new!r} is not valid. Redis holds:\n{redis_contents()}"
    )
    assert not cache.is_valid("ada", old), (
        f"After rotate('ada') (a password change) the old token {old!r} still signs ada in: "
        f"whoever stole it keeps the session. Redis holds:\n{redis_contents()}\n"
        "Look at the key name the old token's entry is deleted under."
    )
    assert not mentions(redis_client, old), (
        f"After rotate('ada') the old token {old!r} is still stored in Redis, so it can still "
        f"be looked up. Redis holds:\n{redis_contents()}\n"
        "Look at the key name the old token's entry is deleted under."
    )


@pytest.mark.seam
def test_ending_a_session_makes_its_token_stop_working(make_cache, redis_client, redis_contents):
    cache = make_cache()
    token = cache.start("ada")
    cache.end("ada")
    assert not cache.is_valid("ada", token), (
        f"After end('ada') (sign out) the token {token!r} still signs ada in. "
        f"Redis holds:\n{redis_contents()}\n"
        "Look at the key names that end() deletes, compared with the ones start() wrote."
    )
    assert not mentions(redis_client, token), (
        f"After end('ada') (sign out) the token {token!r} is still stored in Redis, so it can "
        f"still be looked up. Redis holds:\n{redis_contents()}\n"
        "Look at the key names that end() deletes, compared with the ones start() wrote."
    )


def mentions(redis_client, token: str) -> bool:
    """True when any key name or string value in the test's Redis db contains ``token``."""
    needle = token.encode()
    for key in redis_client.scan_iter(count=100):
        value = redis_client.get(key) if redis_client.type(key) == b"string" else b""
        if needle in key or needle in (value or b""):
            return True
    return False
