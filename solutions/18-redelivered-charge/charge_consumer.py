"""The billing consumer: charges the card for each PaymentRequested message from checkout.

A message body is JSON: {"payment_id": "pay_...", "order_id": 17, "amount_cents": 2599}.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from charge_tables import charges

log = logging.getLogger(__name__)


class ChargeConsumer:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def charge(self, body: bytes) -> None:
        """Charge the payment one message asks for (a row in `charges`), once: a payment that
        was already charged (the same message again) changes nothing."""
        payment = json.loads(body)
        row = {
            "payment_id": str(payment["payment_id"]),
            "order_id": int(payment["order_id"]),
            "amount_cents": int(payment["amount_cents"]),
        }
        with self.engine.begin() as connection:
            connection.execute(
                insert(charges).values(**row).on_conflict_do_nothing(index_elements=["payment_id"]))

    def on_message(self, channel, method, properties, body: bytes) -> None:
        """pika's consumer callback: `channel.basic_consume(queue, consumer.on_message)`.
        Acknowledges a message only once its charge is committed. RabbitMQ may deliver a
        message more than once (after a crash before the ack, or a publisher's retry): charging
        is idempotent by payment_id. Any other error (Postgres down) leaves the message
        unacknowledged: it comes back when this consumer's channel closes."""
        try:
            self.charge(body)
        except (ValueError, KeyError, TypeError):
            # It will never be chargeable: to the dead-letter queue, for a person to look at.
            log.exception("cannot charge %r; dead-lettered", body)
            channel.basic_reject(delivery_tag=method.delivery_tag, requeue=False)
            return
        channel.basic_ack(delivery_tag=method.delivery_tag)

    def run(self, channel, queue: str) -> None:
        """Consume `queue` until the channel is closed, one message at a time."""
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(queue=queue, on_message_callback=self.on_message)
        channel.start_consuming()
