"""Newsletter subscribers in Postgres: the ``subscribers`` table and its repository."""

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
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", Text, nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


class AlreadySubscribed(Exception):
    """This address is on the list already."""


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    created_at: datetime


class SubscriberRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, email: str, name: str) -> Subscriber:
        """Store a subscriber (committed); ``AlreadySubscribed`` if the address is taken."""
        try:
            with self.engine.begin() as connection:
                row = connection.execute(
                    insert(subscribers).values(email=email, name=name).returning(*subscribers.c)
                ).one()
        except IntegrityError:
            raise AlreadySubscribed(email) from None
        return Subscriber(**row._mapping)

    def find(self, email: str) -> Subscriber | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(subscribers).where(subscribers.c.email == email)
            ).one_or_none()
        return Subscriber(**row._mapping) if row else None
