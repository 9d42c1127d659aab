"""Unit tests for the billing consumer: SQLite in memory and a fake channel that records acks."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from billing_queues import declare
from charge_consumer import ChargeConsumer
from charge_tables import charges, metadata


class FakeChannel:
    def __init__(self) -> None:
        self.acked: list[int] = []
        self.nacked: list[int] = []
        self.declared: list[str] = []

    def basic_ack(self, delivery_tag: int) -> None:
        self.acked.append(delivery_tag)

    def basic_nack(self, delivery_tag: int, requeue: bool = True) -> None:
        self.nacked.append(delivery_tag)

    def basic_reject(self, delivery_tag: int, requeue: bool = True) -> None:
        self.nacked.append(delivery_tag)

    def queue_declare(self, queue: str, **kwargs) -> None:
        self.declared.append(queue)

    def exchange_declare(self, exchange: str, **kwargs) -> None:
        pass

    def queue_bind(self, queue: str, exchange: str, **kwargs) -> None:
        pass


@pytest.fixture
def engine():
    engine = sa.create_engine("sqlite://", poolclass=sa.StaticPool)
    metadata.create_all(engine)
    return engine


def deliver(consumer, channel, payment, tag=1) -> None:
    body = payment if isinstance(payment, bytes) else json.dumps(payment).encode()
    consumer.on_message(channel, SimpleNamespace(delivery_tag=tag, redelivered=False), None, body)


def charged(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(
            sa.select(charges.c.payment_id, charges.c.order_id, charges.c.amount_cents))]


def test_a_payment_is_charged_and_then_acknowledged(engine):
    channel = FakeChannel()

    deliver(ChargeConsumer(engine), channel,
            {"payment_id": "pay_1", "order_id": 17, "amount_cents": 2599})

    assert charged(engine) == [("pay_1", 17, 2599)]
    assert channel.acked == [1]


def test_two_payments_are_two_charges(engine):
    channel, consumer = FakeChannel(), ChargeConsumer(engine)

    deliver(consumer, channel, {"payment_id": "pay_1", "order_id": 17, "amount_cents": 2599}, 1)
    deliver(consumer, channel, {"payment_id": "pay_2", "order_id": 18, "amount_cents": 100}, 2)

    assert sorted(charged(engine)) == [("pay_1", 17, 2599), ("pay_2", 18, 100)]
    assert channel.acked == [1, 2]


def test_a_message_that_cannot_be_read_is_not_acknowledged_nor_charged(engine):
    channel = FakeChannel()

    deliver(ChargeConsumer(engine), channel, b"{not json")

    assert charged(engine) == []
    assert channel.acked == [] and channel.nacked == [1]


def test_declare_declares_the_payments_queue():
    channel = FakeChannel()

    declare(channel, "payments")

    assert "payments" in channel.declared
