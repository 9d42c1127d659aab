"""Registers a user: one row in Postgres, one UserRegistered event on the broker."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from event_publisher import Publisher
from user_events import UserRegistered
from user_tables import users


class RegistrationService:
    def __init__(self, engine: sa.Engine, publisher: Publisher) -> None:
        self.engine = engine
        self.publisher = publisher

    def register(self, email: str, name: str) -> int:
        """Store the user and announce them; returns the new user's id."""
        registered_at = dt.datetime.now(dt.timezone.utc)
        with self.engine.begin() as connection:
            user_id = connection.execute(
                sa.insert(users)
                .values(email=email.strip().lower(), name=name.strip(), registered_at=registered_at)
                .returning(users.c.id)
            ).scalar_one()
        # Only a committed user may be announced: a consumer that reacts at once must find the
        # row, and a transaction that rolls back must not have told anybody anything.
        self.publisher.publish(
            UserRegistered(user_id=user_id, email=email.strip().lower(),
                           registered_at=registered_at)
        )
        return user_id
