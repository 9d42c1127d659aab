"""Fixtures for exercise 09: the learner's SessionCache on a real Redis (the run's private db)."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_redis(redis_client):
    """The client the app itself would build (the learner's ``connect``), on the private db.

    The URL is the one ``redis_client`` uses (this run's private Redis db, flushed before and
    after the test); this exercise needs no Postgres, so ``seamlab_settings`` is not waited for.
    """
    from redis_connection import connect  # the learner's module: imported once tests run

    where = redis_client.get_connection_kwargs()
    client = connect(f"redis://{where['host']}:{where['port']}/{where.get('db', 0)}")
    yield client
    client.close()


@pytest.fixture
def make_cache(app_redis):
    from session_cache import SessionCache

    def make(ttl_ms: int = 60_000) -> SessionCache:
        return SessionCache(app_redis, ttl_ms=ttl_ms)

    return make


@pytest.fixture
def redis_contents(redis_client):
    """A function that describes every key in the test's Redis db: value and time to live."""

    def describe() -> str:
        lines = []
        for key in sorted(redis_client.scan_iter(count=100)):
            value = redis_client.get(key)
            ttl_ms = redis_client.pttl(key)
            expiry = "no expiry" if ttl_ms == -1 else f"expires in {_duration(ttl_ms)}"
            lines.append(f"  {key.decode()!r} = {value!r} ({expiry})")
        return "\n".join(lines) if lines else "  (no keys at all)"

    return describe


def _duration(ms: int) -> str:
    """A time to live as a person reads it: '0.9 s', '1,000 s, about 17 minutes'."""
    seconds = ms / 1000
    if seconds < 120:
        return f"{seconds:.1f} s"
    unit, size = next(
        (unit, size) for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60))
        if seconds >= 2 * size
    )
    return f"{seconds:,.0f} s, about {seconds / size:,.0f} {unit}"
