"""Scores in Postgres: every submission is a row; the leaderboard is each player's best."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

metadata = sa.MetaData()

scores = sa.Table(
    "scores",
    metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("player", sa.String(80), nullable=False, index=True),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column(
        "recorded_at",
        sa.DateTime(timezone=True),
        nullable=False,
        default=lambda: dt.datetime.now(dt.timezone.utc),
    ),
)


def record_score(engine: sa.Engine, player: str, points: int) -> int:
    if points < 0:
        raise ValueError(f"points must be zero or more, got {points}")
    with engine.begin() as connection:
        return connection.execute(
            sa.insert(scores).values(player=player, points=points).returning(scores.c.id)
        ).scalar_one()


def best_scores(engine: sa.Engine, limit: int = 10) -> list[tuple[str, int]]:
    """[(player, best points)], best first; ties in alphabetical order."""
    best = sa.func.max(scores.c.points).label("best")
    query = (
        sa.select(scores.c.player, best)
        .group_by(scores.c.player)
        .order_by(best.desc(), scores.c.player)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [(player, points) for player, points in connection.execute(query)]


def count_scores(engine: sa.Engine, player: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(scores)
    if player is not None:
        query = query.where(scores.c.player == player)
    with engine.connect() as connection:
        return connection.execute(query).scalar_one()
