"""Exercise 18: under RabbitMQ's at-least-once delivery, a payment is charged exactly once, and a
message that can never be processed goes to the dead-letter queue instead of blocking the rest.

Which README promise each test decides: exercises/18-redelivered-charge/.meta/requirements.md.
"""

from __future__ import annotations

import pytest

ADA = {"payment_id": "pay_ada_1", "order_id": 17, "amount_cents": 2599}
BOB = {"payment_id": "pay_bob_1", "order_id": 18, "amount_cents": 100}


def charged_once(billing, payment) -> bool:
    return [row[0] for row in billing.charges()].count(payment["payment_id"]) == 1


def queue_is_empty(billing) -> bool:
    return billing.counts()[0] == 0


def test_a_payment_is_charged_and_acknowledged(billing):
    billing.publish(ADA)

    billing.consume(until=lambda: charged_once(billing, ADA))

    assert billing.charges() == [("pay_ada_1", 17, 2599)], (
        f"one PaymentRequested for {ADA} was consumed; `charges` has {billing.charges()}")
    assert queue_is_empty(billing), (
        "the payment was charged, but its message is back in the queue after the consumer "
        "stopped: it was never acknowledged")


@pytest.mark.seam
def test_a_payment_redelivered_after_a_crash_before_the_ack_is_charged_once(billing):
    billing.publish(ADA)
    billing.consume(until=lambda: False, crash_at_ack=True, deadline=2.0)
    assert billing.deliveries, "the consumer never received the payment message"

    billing.consume(until=lambda: queue_is_empty(billing) and len(billing.deliveries) >= 2)

    redelivered = [d for d in billing.deliveries if d.redelivered]
    assert redelivered, "RabbitMQ did not deliver the message again after the crash"
    rows = billing.charges()
    assert [row[0] for row in rows] == ["pay_ada_1"], (
        f"the consumer charged {ADA['payment_id']}, then its process died before the ack; "
        f"RabbitMQ delivered the message again (redelivered=True) to the next consumer process. "
        f"`charges` now has {rows}: Ada was charged {len(rows)} times. Expected one charge: "
        "every message may arrive more than once, so the consumer must recognise a payment "
        "it has already charged (and still acknowledge it).")
    assert queue_is_empty(billing), "the redelivered message was not acknowledged"


@pytest.mark.seam
def test_the_same_payment_published_twice_is_charged_once(billing):
    billing.publish(ADA)  # checkout timed out waiting for the broker's confirm, and sent it again
    billing.publish(ADA)

    billing.consume(until=lambda: queue_is_empty(billing) and len(billing.deliveries) >= 2)

    rows = billing.charges()
    assert [row[0] for row in rows] == ["pay_ada_1"], (
        f"checkout published the payment {ADA['payment_id']} twice (a retry); `charges` has "
        f"{rows}. Expected one charge per payment_id.")
    assert queue_is_empty(billing), "a duplicate was left unacknowledged in the queue"


def test_different_payments_for_the_same_order_are_each_charged(billing):
    second = {**ADA, "payment_id": "pay_ada_2", "amount_cents": 500}
    billing.publish(ADA)
    billing.publish(second)

    billing.consume(until=lambda: charged_once(billing, ADA) and charged_once(billing, second))

    assert sorted(billing.charges()) == [("pay_ada_1", 17, 2599), ("pay_ada_2", 17, 500)], (
        f"two payments (two payment_ids) for order 17; `charges` has {billing.charges()}. "
        "Expected both: a payment is known by its payment_id, not by its order")


@pytest.mark.seam
@pytest.mark.parametrize("poison", [b"{not json", b'{"payment_id": "pay_x", "order_id": 3}'],
                         ids=["not-json", "no-amount"])
def test_a_poison_message_is_dead_lettered_and_the_next_payment_is_charged(billing, poison):
    billing.publish(poison)
    billing.publish(BOB)

    billing.consume(until=lambda: charged_once(billing, BOB) and queue_is_empty(billing))

    times = sum(1 for d in billing.deliveries if d.body == poison)
    assert charged_once(billing, BOB), (
        f"a message that can never be charged ({poison!r}) was ahead of Bob's payment; in "
        f"5 s the consumer received it {times} times and never charged Bob (`charges`: "
        f"{billing.charges()}). Expected: the bad message set aside, Bob charged.")
    assert times <= 3, (
        f"the bad message {poison!r} was delivered {times} times; expected it to be set aside "
        "after a few tries at most")
    dead = billing.dead_letters()
    assert dead is not None, (
        f"there is no dead-letter queue '{billing.dead_queue}' (declare() should create it)")
    assert dead == [poison], (
        f"the dead-letter queue '{billing.dead_queue}' holds {dead}; expected the bad message "
        f"{poison!r}, kept for a person to look at (not dropped)")
    assert queue_is_empty(billing), "the payments queue still holds messages"
