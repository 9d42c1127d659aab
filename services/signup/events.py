"""Domain events, published to RabbitMQ (pika) after the database commit.

Consumers get ``UserRegistered`` as JSON on the topic exchange ``signup.events`` with routing
key ``user.registered``. Publishing happens after the commit, so a consumer that reacts at once
already finds the user through its own connection.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

EXCHANGE = "signup.events"
USER_REGISTERED = "user.registered"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserRegistered:
    user_id: int
    email: str
    name: str
    registered_at: datetime

    routing_key = USER_REGISTERED

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["type"] = "UserRegistered"
        data["registered_at"] = self.registered_at.isoformat()
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str | bytes) -> UserRegistered:
        data = json.loads(raw)
        return cls(
            user_id=int(data["user_id"]),
            email=data["email"],
            name=data["name"],
            registered_at=datetime.fromisoformat(data["registered_at"]),
        )


class Publisher(Protocol):
    def publish(self, event: UserRegistered) -> None: ...


class EventPublisher:
    """Publishes events to a topic exchange; one connection, opened on first use, reopened once
    if the broker closed it. Safe to share between threads (a lock serialises publishing)."""

    def __init__(self, amqp_url: str, *, exchange: str = EXCHANGE) -> None:
        self.amqp_url = amqp_url
        self.exchange = exchange
        self._lock = threading.Lock()
        self._connection = None
        self._channel = None

    def publish(self, event: UserRegistered) -> None:
        import pika

        body = event.to_json().encode()
        properties = pika.BasicProperties(
            content_type="application/json", delivery_mode=2, type=type(event).__name__
        )
        with self._lock:
            for attempt in (1, 2):
                try:
                    channel = self._open_channel()
                    channel.basic_publish(self.exchange, event.routing_key, body, properties)
                    return
                except pika.exceptions.AMQPError:
                    self._close()
                    if attempt == 2:
                        raise

    def _open_channel(self):
        import pika

        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._close()
        parameters = pika.URLParameters(self.amqp_url)
        parameters.socket_timeout = 5
        parameters.blocked_connection_timeout = 5
        self._connection = pika.BlockingConnection(parameters)
        self._channel = self._connection.channel()
        self._channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        self._channel.confirm_delivery()  # basic_publish returns once the broker has it
        return self._channel

    def _close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception as error:  # noqa: BLE001 - closing a broken connection may fail
                log.debug("ignored while closing the AMQP connection: %r", error)

    def close(self) -> None:
        with self._lock:
            self._close()
