"""The welcome worker: consumes UserRegistered events and welcomes each new user.

It runs in its own process, next to the accounts service, with its own database connection.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from user_tables import users


class UserNotFound(LookupError):
    """The event names a user that is not in the database."""


@dataclass(frozen=True)
class NewUser:
    id: int
    email: str
    name: str


class WelcomeWorker:
    def __init__(self, engine: sa.Engine, send_welcome: Callable[[NewUser], None]) -> None:
        self.engine = engine
        self.send_welcome = send_welcome

    def handle(self, body: bytes) -> None:
        """Welcome the user that one UserRegistered message names."""
        user_id = json.loads(body)["user_id"]
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(users.c.id, users.c.email, users.c.name).where(users.c.id == user_id)
            ).one_or_none()
        if row is None:
            raise UserNotFound(f"UserRegistered names user {user_id}, who is not in the database")
        self.send_welcome(NewUser(id=row.id, email=row.email, name=row.name))

    def on_message(self, channel, method, properties, body: bytes) -> None:
        """pika's consumer callback: `channel.basic_consume(queue, worker.on_message)`."""
        channel.basic_ack(delivery_tag=method.delivery_tag)
        self.handle(body)

    def run(self, channel, queue: str) -> None:
        """Consume `queue` until the channel is closed."""
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(queue=queue, on_message_callback=self.on_message)
        channel.start_consuming()
