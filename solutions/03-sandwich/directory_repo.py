"""The staff directory in Postgres: users, read oldest first, one page at a time (keyset)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    func,
    insert,
    or_,
    select,
)

metadata = MetaData()

directory_users = Table(
    "directory_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


@dataclass(frozen=True)
class DirectoryUser:
    id: int
    name: str
    email: str
    created_at: datetime


class DirectoryRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, name: str, email: str) -> DirectoryUser:
        with self.engine.begin() as connection:
            row = connection.execute(
                insert(directory_users)
                .values(name=name, email=email)
                .returning(*directory_users.c)
            ).one()
        return DirectoryUser(**row._mapping)

    def users_page(
        self, limit: int, after: datetime | None = None, after_id: int | None = None
    ) -> list[DirectoryUser]:
        """Up to ``limit`` users in (created_at, id) order, oldest first.

        ``after`` starts the page after the users created at or before that instant;
        with ``after_id`` as well, it starts right after the user (after, after_id).
        """
        query = select(directory_users).order_by(
            directory_users.c.created_at, directory_users.c.id
        )
        if after is not None and after_id is not None:
            query = query.where(
                or_(
                    directory_users.c.created_at > after,
                    and_(directory_users.c.created_at == after, directory_users.c.id > after_id),
                )
            )
        elif after is not None:
            query = query.where(directory_users.c.created_at > after)
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(limit)).all()
        return [DirectoryUser(**row._mapping) for row in rows]
