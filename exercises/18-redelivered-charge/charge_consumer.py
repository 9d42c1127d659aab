"""The billing consumer: charges the card for each PaymentRequested message from checkout.

A message body is JSON: {"payment_id": "pay_...", "order_id": 17, "amount_cents": 2599}.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from charge_tables import charges

log = logging.getLogger(__name__)


class ChargeConsumer:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def charge(self, body: bytes) -> None:
        """Charge the payment one message asks for (a row in `charges`)."""
        payment = json.loads(body)
        with self.engine.begin() as connection:
            connection.execute(sa.insert(charges).values(
                payment_id=str(payment["payment_id"]),
                order_id=int(payment["order_id"]),
                amount_cents=int(payment["amount_cents"]),
            ))

    def on_message(self, channel, method, properties, body: bytes) -> None:
        """pika's consumer callback: `channel.basic_consume(queue, consumer.on_message)`.
        Acknowledges a message only once its charge is committed."""
        try:
            self.charge(body)
        except Exception:
            log.exception("could not charge %r; it goes back to the queue to be retried", body)
            channel.basic_nack(delivery_tag=method.delivery_tag, requeue=True)
            return
        channel.basic_ack(delivery_tag=method.delivery_tag)

    def run(self, channel, queue: str) -> None:
        """Consume `queue` until the channel is closed, one message at a time."""
        channel.basic_qos(prefetch_count=1)
        channel.basic_consume(queue=queue, on_message_callback=self.on_message)
        channel.start_consuming()
