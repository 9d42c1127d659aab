"""Subscribing to the newsletter: stores subscribers in Postgres."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from models import subscribers


class AlreadySubscribed(Exception):
    """This address (in any mix of upper and lower case) is already subscribed."""

    def __init__(self, email: str) -> None:
        super().__init__(f"{email} is already subscribed")
        self.email = email


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    name: str
    plan: str


class Subscriptions:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def subscribe(self, email: str, name: str, plan: str = "free") -> Subscriber:
        """Store a new subscriber; AlreadySubscribed if the address is taken."""
        try:
            with self._engine.begin() as connection:
                row = connection.execute(
                    subscribers.insert().values(email=email.strip(), name=name.strip(), plan=plan)
                    .returning(subscribers)
                ).one()
        except sa.exc.IntegrityError:
            raise AlreadySubscribed(email) from None
        return Subscriber(**row._mapping)

    def get(self, subscriber_id: int) -> Subscriber | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(subscribers).where(subscribers.c.id == subscriber_id)
            ).one_or_none()
        return None if row is None else Subscriber(**row._mapping)
