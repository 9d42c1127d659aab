"""UserRegistered reaches RabbitMQ after the commit: a consumer that reacts at once finds the user."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pika
import pytest
from signup.events import USER_REGISTERED
from signup.models import User
from sqlalchemy import select

from seamlab.pytest_plugin import unique_name
from seamlab.waiting import wait_for


@pytest.fixture
def registrations_queue(amqp_url, events_exchange):
    """A private queue bound to this test's registration events; a channel to read it."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(events_exchange, exchange_type="topic", durable=True)
    queue = unique_name("signup-test")
    channel.queue_declare(queue, exclusive=True, auto_delete=True)
    channel.queue_bind(queue, events_exchange, routing_key=USER_REGISTERED)
    yield channel, queue
    channel.exchange_delete(events_exchange)
    connection.close()


def test_the_event_is_published_after_the_commit(
    register, committed_api, registrations_queue, signup_engine
):
    channel, queue = registrations_queue

    def receive_and_look_up():
        method, _properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            return None
        event = json.loads(body)
        # Like a real consumer: react at once, through a connection of its own.
        with signup_engine.connect() as connection:
            row = connection.execute(
                select(User.email).where(User.id == event["user_id"])
            ).one_or_none()
        return event, row

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(register, committed_api, "ada@example.com")
        event, row = wait_for(
            receive_and_look_up, timeout=10.0, what="a UserRegistered message on the queue"
        )
        response = pending.result(timeout=10.0)

    assert response.status_code == 201, response.text
    assert event["type"] == "UserRegistered"
    assert event["user_id"] == response.json()["id"]
    assert event["email"] == "ada@example.com"
    assert event["registered_at"] == response.json()["created_at"]
    assert row is not None, (
        f"the consumer got {event} but user {event['user_id']} was not in the database yet: "
        "the event was published before the commit"
    )


def test_no_event_is_published_when_the_registration_fails(
    register, committed_api, registrations_queue, mail_provider
):
    channel, queue = registrations_queue
    mail_provider.fail_next(status=500)

    response = register(committed_api, "ada@example.com")

    assert response.status_code == 503
    # Publishing is confirmed before the response is sent, so nothing can still be on its way.
    method, _, body = channel.basic_get(queue, auto_ack=True)
    assert method is None, f"a failed registration published {body!r}"
