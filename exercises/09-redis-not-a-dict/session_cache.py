"""Session tokens, cached in Redis so that a request is authenticated without the accounts database.

Each user has one current session, the one ``rotate`` and ``end`` retire. Two keys per
session:

* ``session:token:<token>`` -> the user id   (answers "who is this token?")
* ``session:user:<user id>`` -> the token    (answers "which token must go when this user changes?")

Both keys expire together after the session's time to live.
"""

from __future__ import annotations

import secrets

from redis import Redis

#: Half an hour, in milliseconds like every other duration in our configuration.
DEFAULT_TTL_MS = 30 * 60 * 1000


class SessionCache:
    def __init__(self, redis: Redis, ttl_ms: int = DEFAULT_TTL_MS, prefix: str = "session") -> None:
        self._redis = redis
        self._ttl = ttl_ms
        self._prefix = prefix

    def start(self, user_id: str) -> str:
        """Open a session for ``user_id`` and return its new token."""
        token = secrets.token_urlsafe(24)
        pipe = self._redis.pipeline()
        pipe.set(self._token_key(token), user_id, ex=self._ttl)
        pipe.set(self._user_key(user_id), token, ex=self._ttl)
        pipe.execute()
        return token

    def user_for(self, token: str) -> str | None:
        """The user id the token belongs to, or None when the session is over."""
        return self._redis.get(self._token_key(token))

    def is_valid(self, user_id: str, token: str) -> bool:
        """True when ``token`` is a live session token of ``user_id``."""
        return self.user_for(token) == user_id

    def rotate(self, user_id: str) -> str:
        """Give the user a fresh token (after a password change); the old one stops working now."""
        old = self._redis.get(self._user_key(user_id))
        if old is not None:
            self._redis.delete(self._token_key(old))
        return self.start(user_id)

    def end(self, user_id: str) -> None:
        """Sign the user out everywhere: the current token stops working now."""
        old = self._redis.get(self._user_key(user_id))
        keys = [self._user_key(user_id)]
        if old is not None:
            keys.append(self._token_key(old))
        self._redis.delete(*keys)

    def _token_key(self, token: str) -> str:
        return f"{self._prefix}:token:{token}"

    def _user_key(self, user_id: str) -> str:
        return f"{self._prefix}:user:{user_id}"
