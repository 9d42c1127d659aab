"""Exercise 09: the session cache against a real Redis, not a dict."""

from __future__ import annotations

import socket
import threading
import time

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
    other = cache.start("grace")
    assert other != token, "start('ada') and start('grace') returned the same token."
    assert not cache.is_valid("ada", other), "grace's token signed in ada."


def test_user_for_names_the_owner_as_text_and_none_for_an_unknown_token(
    make_cache, redis_contents
):
    cache = make_cache()
    token = cache.start("ada")
    owner = cache.user_for(token)
    assert owner == "ada" and isinstance(owner, str), (
        f"cache.user_for(token) returned {owner!r} ({type(owner).__name__}) for ada's token; "
        "its docstring promises the user id, 'ada' (a str), the same value start() was given. "
        f"Redis holds:\n{redis_contents()}"
    )
    unknown = cache.user_for("made-up-token")
    assert unknown is None, f"cache.user_for('made-up-token') returned {unknown!r}; expected None."
    cache.end("ada")
    after_end = cache.user_for(token)
    assert after_end is None, (
        f"After end('ada') cache.user_for(token) returned {after_end!r}; expected None: "
        "the session is over."
    )


def test_connect_builds_a_client_on_the_redis_the_test_settings_name(
    redis_client, monkeypatch
):
    from redis_connection import connect

    where = redis_client.get_connection_kwargs()
    url = f"redis://{where['host']}:{where['port']}/{where.get('db', 0)}"
    monkeypatch.setenv("TEST_REDIS_URL", url)
    client = connect()
    try:
        client.set("seamlab:probe", "written by connect()")
    finally:
        client.close()
    assert redis_client.get("seamlab:probe") == b"written by connect()", (
        "connect() without a URL wrote its key somewhere else than the Redis that TEST_REDIS_URL "
        f"names ({where['host']}:{where['port']} db {where.get('db', 0)}). Its docstring "
        "promises the Redis named by the TEST_* settings."
    )


def test_a_redis_that_never_answers_makes_a_session_check_fail_instead_of_hang():
    """A server that accepts the connection and then says nothing (a stuck Redis)."""
    from redis_connection import connect
    from session_cache import SessionCache

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    outcome: list[BaseException | str] = []

    def check() -> None:
        try:
            SessionCache(connect(f"redis://127.0.0.1:{port}/0")).is_valid("ada", "a-token")
            outcome.append("returned")
        except BaseException as error:  # noqa: BLE001 - any error is the promised failure
            outcome.append(error)

    thread = threading.Thread(target=check, daemon=True)
    thread.start()
    thread.join(15.0)
    silent.close()
    assert outcome, (
        "A session check on a Redis that accepted the connection but never answered was still "
        "waiting after 15 s: the client connect() builds has no socket timeout. Its docstring "
        "promises short timeouts (a check that hangs is worse than one that fails)."
    )
    assert outcome[0] != "returned", (
        "A session check on a Redis that never answered returned normally; expected an error."
    )


def start_session(cache, user_id: str, ttl_ms: int) -> str:
    """The learner's start(); an exception becomes an assertion saying what was asked."""
    try:
        return cache.start(user_id)
    except Exception as error:  # noqa: BLE001 - whatever the learner's code raised
        raise AssertionError(
            f"SessionCache(redis, ttl_ms={ttl_ms}).start({user_id!r}) raised "
            f"{type(error).__name__}: {error}. "
            + ("A time to live under one second written as whole seconds becomes 0, which "
               "Redis refuses. " if ttl_ms < 1000 else "")
            + "Expected: both keys stored with a time to live of exactly ttl_ms milliseconds."
        ) from None


def key_ttls_right_after_start(cache, redis_client, ttl_ms: int) -> tuple[dict, float]:
    """Start a session and read the PTTL of every key; returns ({key: pttl}, elapsed ms).

    A correct cache's keys have a PTTL between ttl_ms minus the time that passed and ttl_ms.
    A time to live rounded to whole seconds is off by up to 999 ms, so the probe is repeated
    (at most five times) until start and the reads took under 300 ms: the verdict does not
    depend on how busy the machine is.
    """
    for _ in range(5):
        redis_client.flushdb()
        began = time.monotonic()
        start_session(cache, "ada", ttl_ms)
        ttls = {key.decode(): redis_client.pttl(key) for key in redis_client.scan_iter(count=100)}
        elapsed_ms = (time.monotonic() - began) * 1000
        if elapsed_ms < 300:
            break
    return ttls, elapsed_ms


@pytest.mark.seam
@pytest.mark.parametrize("ttl_ms", [250, 1999, 90_500])
def test_every_key_of_a_session_expires_after_exactly_its_time_to_live(
    make_cache, redis_client, redis_contents, ttl_ms
):
    cache = make_cache(ttl_ms=ttl_ms)

    ttls, elapsed_ms = key_ttls_right_after_start(cache, redis_client, ttl_ms)

    assert ttls, f"start('ada') wrote no key in Redis at all. Redis holds:\n{redis_contents()}"
    lowest = ttl_ms - elapsed_ms - 2  # 2 ms: Redis and this process read different clocks
    for key, pttl in ttls.items():
        if pttl == -1:
            problem = "never expires: every key of a session needs its time to live"
        elif pttl > ttl_ms:
            problem = (f"expires in {pttl:,} ms, later than the {ttl_ms:,} ms asked for: was the "
                       "time to live rounded up to seconds, or given in the wrong unit?")
        elif 0 <= pttl < lowest:
            problem = (f"expires in {pttl:,} ms although only {elapsed_ms:.0f} ms have passed "
                       f"since start(): {ttl_ms - pttl:,} ms of the session are missing (a time "
                       "to live cut down to whole seconds?)")
        else:
            continue
        raise AssertionError(
            f"The cache was created with ttl_ms={ttl_ms:,} (milliseconds), but in Redis the key "
            f"{key!r} {problem}. Expected every key start() writes to expire after exactly "
            f"ttl_ms milliseconds. Redis holds:\n{redis_contents()}"
        )


@pytest.mark.seam
@pytest.mark.parametrize("ttl_ms", [250, 1000])
def test_a_session_expires_when_its_time_to_live_is_over(make_cache, redis_contents, ttl_ms):
    cache = make_cache(ttl_ms=ttl_ms)
    token = start_session(cache, "ada", ttl_ms)
    assert cache.is_valid("ada", token), (
        f"A session started with ttl_ms={ttl_ms} was not valid even right after start(); fix "
        "the round trip first (the check 'A new session token is valid for its user'). Redis "
        f"holds:\n{redis_contents()}"
    )
    wait_for(
        lambda: not cache.is_valid("ada", token) and cache.user_for(token) is None,
        timeout=ttl_ms / 1000 + 3.0,
        what=f"a session started with ttl_ms={ttl_ms} to stop being valid (user_for -> None)",
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
