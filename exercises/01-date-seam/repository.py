"""Members, stored in Postgres (SQLAlchemy 2 Core)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

metadata = sa.MetaData()

members = sa.Table(
    "members",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("birth_date", sa.Date, nullable=False),
)


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    email: str
    birth_date: dt.date


class MemberRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(self, signup) -> int:
        """Store a validated signup; return the new member's id."""
        with self._engine.begin() as connection:
            return connection.execute(
                members.insert()
                .values(name=signup.name, email=signup.email, birth_date=signup.birth_date)
                .returning(members.c.id)
            ).scalar_one()

    def get(self, member_id: int) -> Member | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(members).where(members.c.id == member_id)
            ).one_or_none()
        return None if row is None else Member(**row._mapping)
