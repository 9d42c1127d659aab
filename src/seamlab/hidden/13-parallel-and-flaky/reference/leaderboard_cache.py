"""The leaderboard as the game servers read it: from Redis, under one key namespace.

Keys: `<namespace>:top` (the top list as JSON, with a TTL) and `<namespace>:best` (a sorted set of
each player's best score).
"""

from __future__ import annotations

import json

import redis

TOP_TTL_SECONDS = 300


class LeaderboardCache:
    def __init__(self, client: redis.Redis, namespace: str = "leaderboard") -> None:
        self.client = client
        self.namespace = namespace

    def key(self, name: str) -> str:
        return f"{self.namespace}:{name}"

    def store_top(self, entries: list[tuple[str, int]]) -> None:
        payload = json.dumps([{"player": player, "points": points} for player, points in entries])
        self.client.set(self.key("top"), payload, ex=TOP_TTL_SECONDS)

    def top(self) -> list[dict] | None:
        """The cached top list, or None when there is none (never computed, or expired)."""
        raw = self.client.get(self.key("top"))
        return None if raw is None else json.loads(raw)

    def record_best(self, player: str, points: int) -> None:
        """Keep the player's best score: a lower score never replaces a higher one."""
        self.client.zadd(self.key("best"), {player: points}, gt=True)

    def best(self, player: str) -> int | None:
        score = self.client.zscore(self.key("best"), player)
        return None if score is None else int(score)
