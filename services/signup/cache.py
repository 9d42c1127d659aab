"""A read-through cache of public user data in Redis (JSON under ``signup:user:<id>``)."""

from __future__ import annotations

import json
from typing import Any

from redis import Redis

DEFAULT_TTL_SECONDS = 300


class UserCache:
    def __init__(
        self, redis: Redis, *, ttl: int = DEFAULT_TTL_SECONDS, prefix: str = "signup:user:"
    ) -> None:
        self.redis = redis
        self.ttl = ttl
        self.prefix = prefix

    def key(self, user_id: int) -> str:
        return f"{self.prefix}{user_id}"

    def get(self, user_id: int) -> dict[str, Any] | None:
        raw = self.redis.get(self.key(user_id))
        if raw is None:
            return None
        # Production clients return bytes (decode_responses=False); accept str too.
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        return json.loads(raw)

    def set(self, user_id: int, data: dict[str, Any]) -> None:
        self.redis.set(self.key(user_id), json.dumps(data), ex=self.ttl)

    def invalidate(self, user_id: int) -> None:
        self.redis.delete(self.key(user_id))
