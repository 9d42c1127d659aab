"""Redis side of the wishlist: a short-lived cache of each member's wishes, and a leaderboard."""

from __future__ import annotations

import json

from redis import Redis

WISHES_TTL_SECONDS = 300


class WishCache:
    def __init__(self, client: Redis, prefix: str = "wishlist") -> None:
        self.client = client
        self.prefix = prefix

    def wishes(self, email: str) -> list[str] | None:
        raw = self.client.get(self._wishes_key(email))
        return None if raw is None else json.loads(raw)

    def remember_wishes(self, email: str, tools: list[str]) -> None:
        self.client.set(self._wishes_key(email), json.dumps(tools), ex=WISHES_TTL_SECONDS)

    def forget_wishes(self, email: str) -> None:
        self.client.delete(self._wishes_key(email))

    def count_wish(self, tool: str) -> None:
        self.client.zincrby(self._board_key(), 1, tool)

    def most_wished(self, limit: int = 3) -> list[tuple[str, int]]:
        """The ``limit`` most wished-for tools with their counts, most wished first."""
        top = self.client.zrevrange(self._board_key(), 0, limit - 1, withscores=True)
        return [(tool.decode(), int(score)) for tool, score in top]

    def _wishes_key(self, email: str) -> str:
        return f"{self.prefix}:wishes:{email}"

    def _board_key(self) -> str:
        return f"{self.prefix}:most-wished"
