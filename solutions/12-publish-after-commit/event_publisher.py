"""Publishes accounts events to RabbitMQ (pika, a blocking channel)."""

from __future__ import annotations

import json
from typing import Protocol

import pika

from user_events import EXCHANGE, USER_REGISTERED, UserRegistered


class Publisher(Protocol):
    def publish(self, event: UserRegistered) -> None: ...


def connect(amqp_url: str | None = None) -> pika.BlockingConnection:
    """A connection to the broker named by TEST_AMQP_URL (the course's RabbitMQ by default)."""
    if amqp_url is None:
        from seamlab.config import Settings

        amqp_url = Settings.from_env().amqp_url
    return pika.BlockingConnection(pika.URLParameters(amqp_url))


class RabbitPublisher:
    """Sends each event as a JSON message to a topic exchange."""

    def __init__(self, channel, exchange: str = EXCHANGE) -> None:
        self.channel = channel
        self.exchange = exchange

    def publish(self, event: UserRegistered) -> None:
        body = json.dumps(
            {
                "user_id": event.user_id,
                "email": event.email,
                # json cannot encode a datetime; ISO 8601 with its offset is what consumers parse.
                "registered_at": event.registered_at.isoformat(),
            }
        ).encode()
        self.channel.basic_publish(
            exchange=self.exchange,
            routing_key=USER_REGISTERED,
            body=body,
            properties=pika.BasicProperties(content_type="application/json", delivery_mode=2),
        )
