# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 08 · Asynchronous seams: messages after commit
#
# **Objectives**
#
# - Publish a message only after the transaction that it describes has committed
# - Wait for a consumer by polling with a deadline, never with sleep
# - Test a message's content and timing against a real RabbitMQ

# %% [markdown]
# When the sign-up service has created a user, it publishes a `UserRegistered` event to
# RabbitMQ. Other services consume it: one sends a newsletter invitation, one builds a
# profile page. Each consumer receives the event **and then loads the user from the database
# on its own connection**. That is an asynchronous seam, and it has two classic bugs:
#
# 1. The event is published **before the commit**. A fast consumer looks the user up and
#    finds nothing, because the row is not visible to other connections yet. With a slow
#    consumer it works, so it works on your laptop and fails under load.
# 2. The test waits for the consumer with `time.sleep(1)`. Too short on a busy CI machine
#    (flaky), too long everywhere else (slow), and wrong either way.
#
# ```mermaid
# sequenceDiagram
#     participant S as sign-up service
#     participant PG as Postgres
#     participant MQ as RabbitMQ
#     participant W as consumer
#     S->>PG: BEGIN, INSERT user 42
#     S->>MQ: publish UserRegistered(42)   ← too early
#     MQ->>W: deliver
#     W->>PG: SELECT … WHERE id = 42
#     PG-->>W: no rows (not committed yet)
#     S->>PG: COMMIT
#     Note over W: the consumer gave up on a user that exists a moment later
# ```

# %%
import pika
from sqlalchemy import text
from sqlalchemy.orm import Session

from seamlab import lab
from seamlab.pytest_plugin import unique_name
from seamlab.waiting import wait_for
from signup import schema
from signup.events import USER_REGISTERED, EventPublisher, UserRegistered
from signup.models import User

settings = lab.ready(("postgres", "redis", "rabbitmq"), quiet=True)
box = lab.sandbox()
schema.create_all(box.engine)
exchange = unique_name("nb-events")  # a private exchange: no other run's events arrive here


class ProfileConsumer:
    """Stands for another service: on UserRegistered, it loads the user from Postgres."""

    def __init__(self, amqp_url, engine):
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)  # as the publisher does
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, exchange, routing_key=USER_REGISTERED)
        self.engine = engine

    def handle_one(self):
        """Take one event if there is one; return (event, was the user found?) or None."""
        method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
        if method is None:
            return None
        event = UserRegistered.from_json(body)
        with self.engine.connect() as conn:
            found = conn.scalar(text("SELECT count(*) FROM users WHERE id = :id"), {"id": event.user_id})
        return event, found == 1


consumer = ProfileConsumer(settings.amqp_url, box.engine)
publisher = EventPublisher(settings.amqp_url, exchange=exchange)
print("consumer listening on a private exchange")

# %% [markdown]
# ## Publishing too early
#
# The code below does what a well-meaning refactoring often does: it publishes right after
# the insert, "while we have the id", and commits at the end of the request.
#
# **Predict, then run.** The consumer handles the event while the request is still running
# (we make sure of that by waiting for it before committing). Does it find the user?

# %%
with Session(box.engine) as session:
    user = User(email="early@example.com", name="Early", password_hash="x")
    session.add(user)
    session.flush()
    session.refresh(user)
    publisher.publish(UserRegistered(user.id, user.email, user.name, user.created_at))
    event, found = wait_for(consumer.handle_one, timeout=5, what="the consumer to get the event")
    print(f"consumer got UserRegistered for {event.email}; user found in Postgres: {found}")
    session.commit()

# %% [markdown]
# The consumer was told about a user it could not see. In production it would log "user not
# found", drop the event or retry it forever, depending on who wrote it.
#
# ## Publishing after commit
#
# The sample service publishes after `session.commit()` (look at `UserService.register`).
# The same consumer, the real service:

# %%
from signup.cache import UserCache
from signup.mail import MailClient
from signup.service import UserService

provider = lab.mail_provider()
with Session(box.engine) as session:
    service = UserService(
        session, mailer=MailClient(provider.url), publisher=publisher, cache=UserCache(box.redis)
    )
    service.register({"email": "after@example.com", "name": "After", "password": "long enough"})

event, found = wait_for(consumer.handle_one, timeout=5, what="the consumer to get the event")
print(f"consumer got UserRegistered for {event.email}; user found in Postgres: {found}")
print("event fields:", ", ".join(sorted(vars(event))))

# %% [markdown]
# Found. Publishing after commit has its own gap: if the process dies between the commit and
# the publish, the event is lost. The robust version is a **transactional outbox**: write the
# event into an `outbox` table in the same transaction as the user, and let a relay publish
# committed outbox rows. Either way, the integration test is the same shape: do the thing,
# then wait for the consumer's effect, then assert on it.

# %% [markdown]
# ## Waiting: poll with a deadline
#
# `seamlab.waiting.wait_for(check, timeout, what=...)` asks `check()` again every 20 ms
# until it returns something truthy, and returns that. It is as fast as the system allows,
# and when the deadline passes it fails with a sentence saying what it waited for.
#
# **Predict, then run.** Nobody publishes an event for `nobody@example.com`. What does the
# test see, and after how long?

# %%
import time

started = time.monotonic()
try:
    wait_for(consumer.handle_one, timeout=0.3, what="a UserRegistered event for nobody@example.com")
except AssertionError as error:
    waited = time.monotonic() - started
    print(f"the test fails after {waited:.1f} s with AssertionError:")
    print("  ... waiting for", str(error).split(" waiting for ")[1])

# %% [markdown]
# Compare with the alternatives:
#
# | how the test waits | when the event is fast | when CI is slow | when it never comes |
# |---|---|---|---|
# | `time.sleep(1)` then assert | wastes ~1 s | fails (flaky) | fails after 1 s, message says nothing |
# | loop without deadline | fast | fine | hangs the whole suite |
# | `wait_for(..., timeout=5)` | returns at once | fine, up to 5 s | fails after 5 s, says what was awaited |
#
# Also test the **content** of a message, not only its arrival: which fields, which types,
# which routing key. A consumer in another team depends on them exactly like an API client
# depends on JSON.

# %%
consumer.channel.exchange_delete(exchange)
consumer.connection.close()
publisher.close()

# %% [markdown]
# ## Key points
#
# - A message that describes a database change must be published after that change commits
#   (or through an outbox); otherwise fast consumers see nothing.
# - Integration-test the consumer's view: publish through the real broker, let a real
#   consumer look the data up on its own connection.
# - Wait with `wait_for` and a deadline, never `sleep`; assert the message's content too.
#
# **Your turn:** `12-publish-after-commit` (the welcome that arrived before the user). Run
# `seamlab check 12`, or the cell below. For a quick extra: change the "publishing too early"
# cell to commit before publishing, and run it again.

# %%
import seamlab

passed = seamlab.check("12")
