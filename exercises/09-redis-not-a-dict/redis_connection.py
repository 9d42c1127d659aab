"""The one place the app builds its Redis client, from the TEST_* settings."""

from __future__ import annotations

from redis import Redis

from seamlab.config import Settings


def connect(url: str | None = None) -> Redis:
    """A Redis client for ``url`` (default: the Redis named by the TEST_* settings).

    Timeouts are short on purpose: a session check that hangs is worse than one that fails.
    """
    return Redis.from_url(
        url or Settings.from_env().redis_url,
        socket_connect_timeout=2.0,
        socket_timeout=2.0,
    )
