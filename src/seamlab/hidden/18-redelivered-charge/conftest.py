"""Fixtures for exercise 18: the learner's consumer on a real RabbitMQ queue (declared by the
learner's `declare`, unique names per test) and a real Postgres `charges` table.

`Billing.consume()` runs the consumer the way the deployed worker does: one connection, prefetch
1, pika's callback. A *crash* is a consumer process that dies after its work and before its ack:
the channel's `basic_ack` raises `ProcessKilled` (a BaseException, like a kill, so no `except
Exception` can swallow it) and the test closes the connection; RabbitMQ then delivers the
unacknowledged message again, to the next consumer process (a new `ChargeConsumer`).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import pika
import pytest
import sqlalchemy as sa

from seamlab.pytest_plugin import unique_name

#: Bound on every wait for the broker or the consumer; correct code needs milliseconds.
DEADLINE = 5.0


class ProcessKilled(BaseException):
    """The consumer process died here (before the ack reached RabbitMQ)."""


class CrashingAtAck:
    """A channel whose `basic_ack` kills the process instead of acknowledging."""

    def __init__(self, channel) -> None:
        self._channel = channel

    def basic_ack(self, *args, **kwargs):
        raise ProcessKilled("the consumer process was killed before its ack")

    def __getattr__(self, name):
        return getattr(self._channel, name)


def parameters(amqp_url: str) -> pika.URLParameters:
    params = pika.URLParameters(amqp_url)
    params.connection_attempts = 1
    params.socket_timeout = DEADLINE
    params.blocked_connection_timeout = DEADLINE
    return params


@dataclass
class Delivery:
    body: bytes
    redelivered: bool


@dataclass
class Billing:
    amqp_url: str
    engine: sa.Engine
    queue: str
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def dead_queue(self) -> str:
        from billing_queues import DEAD_LETTER_SUFFIX

        return self.queue + DEAD_LETTER_SUFFIX

    def publish(self, body) -> None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        with pika.BlockingConnection(parameters(self.amqp_url)) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_publish("", self.queue, body, pika.BasicProperties(
                delivery_mode=2, content_type="application/json",
                message_id=uuid.uuid4().hex), mandatory=True)

    def counts(self) -> tuple[int, int]:
        """(messages ready in the queue, consumers) as RabbitMQ reports them."""
        with pika.BlockingConnection(parameters(self.amqp_url)) as connection:
            ok = connection.channel().queue_declare(self.queue, passive=True).method
            return ok.message_count, ok.consumer_count

    def consume(self, until, crash_at_ack: bool = False, deadline: float = DEADLINE) -> bool:
        """Run a new consumer process (a new ChargeConsumer) until `until()` is true or the
        deadline passes; with `crash_at_ack` it dies at its first ack. True if `until()`."""
        from charge_consumer import ChargeConsumer

        consumer = ChargeConsumer(self.engine)
        connection = pika.BlockingConnection(parameters(self.amqp_url))
        try:
            channel = connection.channel()
            channel.basic_qos(prefetch_count=1)
            shown = CrashingAtAck(channel) if crash_at_ack else channel

            def on_message(ch, method, properties, body):
                self.deliveries.append(Delivery(body, bool(method.redelivered)))
                consumer.on_message(shown, method, properties, body)

            channel.basic_consume(self.queue, on_message_callback=on_message)
            stop = time.monotonic() + deadline
            while not until() and time.monotonic() < stop:
                try:
                    connection.process_data_events(time_limit=0.05)
                except ProcessKilled:
                    return until()
            return until()
        finally:
            try:
                connection.close()  # unacknowledged messages go back to the queue
            except Exception:  # noqa: BLE001 - already closed by the broker
                pass

    def dead_letters(self) -> list[bytes]:
        """Every message in the dead-letter queue (left there); [] if it does not exist."""
        with pika.BlockingConnection(parameters(self.amqp_url)) as connection:
            channel = connection.channel()
            try:
                channel.queue_declare(self.dead_queue, passive=True)
            except pika.exceptions.ChannelClosedByBroker:
                return None
            bodies = []
            while True:
                method, _, body = channel.basic_get(self.dead_queue, auto_ack=False)
                if method is None:
                    return bodies
                bodies.append(body)

    def charges(self) -> list[tuple]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT payment_id, order_id, amount_cents FROM charges ORDER BY id"))
            return [tuple(row) for row in rows]


@pytest.fixture(scope="session")
def charges_table(db_engine):
    from charge_tables import metadata  # the learner's module: imported once tests run

    metadata.create_all(db_engine)
    return db_engine


@pytest.fixture
def billing(amqp_url, charges_table):
    """A fresh queue declared by the learner's `declare`, and an empty `charges` table."""
    from billing_queues import declare
    from charge_tables import metadata

    with charges_table.begin() as connection:
        for table in reversed(metadata.sorted_tables):  # charges, and any table the fix added
            connection.execute(table.delete())
    billing = Billing(amqp_url, charges_table, unique_name("payments"))
    with pika.BlockingConnection(parameters(amqp_url)) as connection:
        declare(connection.channel(), billing.queue)
    yield billing
    with pika.BlockingConnection(parameters(amqp_url)) as connection:
        channel = connection.channel()
        channel.queue_delete(billing.queue)
        channel.queue_delete(billing.dead_queue)
