"""The scoreboard: records scores in Postgres and keeps the cached top list fresh.

Refreshing the top list is an aggregate query, so it does not run on every submission: a burst
of submissions schedules one refresh, `refresh_delay` seconds after the last one, in a
background thread. `close()` cancels a pending refresh (call it when shutting down).
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from leaderboard_cache import LeaderboardCache
from scores_repo import best_scores, record_score


class Scoreboard:
    def __init__(
        self, engine: sa.Engine, cache: LeaderboardCache, refresh_delay: float = 0.05
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.refresh_delay = refresh_delay
        self._lock = threading.Lock()
        self._pending: threading.Timer | None = None

    def submit(self, player: str, points: int) -> int:
        score_id = record_score(self.engine, player, points)
        self.cache.record_best(player, points)
        self._schedule_refresh()
        return score_id

    def top(self, limit: int = 10) -> list[dict]:
        cached = self.cache.top()
        if cached is not None:
            return cached[:limit]
        self.refresh_now()
        return (self.cache.top() or [])[:limit]

    def refresh_now(self) -> None:
        self.cache.store_top(best_scores(self.engine, limit=100))

    def close(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()
            pending.join()

    def _schedule_refresh(self) -> None:
        with self._lock:
            if self._pending is not None:
                self._pending.cancel()
            self._pending = threading.Timer(self.refresh_delay, self.refresh_now)
            self._pending.daemon = True
            self._pending.start()
