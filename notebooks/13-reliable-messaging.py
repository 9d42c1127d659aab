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
# # 13 · Reliable messaging: at-least-once, idempotent consumers, dead letters, the outbox
#
# **Objectives**
#
# - Watch RabbitMQ deliver a message again after a consumer dies before its ack, and make the consumer idempotent
# - Send a poison message to a dead-letter queue instead of requeueing it for ever
# - Know a message reached a queue: publisher confirms and `mandatory`
# - Run a transactional outbox for real: the relay publishes what the transaction wrote

# %% [markdown]
# Chapter 08 stopped at "publish after the commit". That is where the real questions start.
# A message broker does not promise **exactly once**; RabbitMQ promises **at least once** to a
# consumer that acknowledges after its work: a message that was delivered but not acknowledged
# (the consumer crashed, its connection dropped) is delivered **again**. And a publisher that
# did not hear back from the broker cannot know whether its message got there, so it sends it
# again. Both ends therefore see duplicates, and a consumer has to be written for them.
#
# ```mermaid
# flowchart LR
#     P[publisher] -- confirm? --> X((exchange)) -- mandatory: routable? --> Q[(queue)]
#     Q -- deliver --> C[consumer]
#     C -- ack after the work --> Q
#     C -. crash before the ack: delivered again .-> Q
#     C -- reject, requeue=False --> D[(dead-letter queue)]
# ```

# %%
import json
import uuid

import pika
import sqlalchemy as sa
from seamlab import lab

settings = lab.ready(["postgres", "rabbitmq"])
box = lab.sandbox()  # a private database (and Redis db) for this notebook


def connect() -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(settings.amqp_url))


def new_queue(channel, **arguments) -> str:
    """A queue of this notebook's own (a unique name), durable, deleted when the kernel stops."""
    name = f"nb13-{uuid.uuid4().hex[:8]}"
    channel.queue_declare(name, durable=True, arguments=arguments or None)
    return name


admin = connect()
channel = admin.channel()

# %% [markdown]
# ## A crash before the ack
#
# A consumer receives a message and dies before acknowledging it (here: it closes its
# connection without an ack, which is what the broker sees when a process is killed). Then a
# second consumer, a new process, connects to the same queue.
#
# **Predict, then run.** Does the second consumer get the message? What does it know about it?

# %%
queue = new_queue(channel)
channel.basic_publish("", queue, b'{"user_id": 7}',
                      pika.BasicProperties(delivery_mode=2, message_id="welcome-7"))

first = connect()
method, properties, body = first.channel().basic_get(queue, auto_ack=False)
print("first consumer got:", body, "redelivered:", method.redelivered)
first.close()  # dies before basic_ack

second = connect()
method, properties, body = second.channel().basic_get(queue, auto_ack=False)
print("second consumer got:", body, "redelivered:", method.redelivered,
      "message_id:", properties.message_id)
second.close()

# %% [markdown]
# The same message again, flagged `redelivered`. If the first consumer had already done its
# work (sent the welcome email, charged the card), the second does it a second time. Acking
# *before* the work is no cure: a crash then loses the message instead (at most once). The
# cure is to make doing the work twice harmless: an **idempotent consumer**.
#
# ## An idempotent consumer
#
# Record each message you have handled, by a key the *sender* chose (the AMQP `message_id`, or
# a business key such as a payment id), **in the same transaction** as the work. A second
# delivery finds the key and only acknowledges. In memory is not enough: the process that
# remembered is the one that died.

# %%
metadata = sa.MetaData()
processed = sa.Table("processed_messages", metadata,
                     sa.Column("message_id", sa.Text, primary_key=True))
welcomes = sa.Table("welcomes", metadata, sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("user_id", sa.Integer, nullable=False))
metadata.create_all(box.engine)


def handle_welcome(properties, body: bytes) -> str:
    """Welcome the user once per message_id, however often the message comes."""
    from sqlalchemy.dialects.postgresql import insert

    with box.engine.begin() as conn:
        first_time = conn.execute(
            insert(processed).values(message_id=properties.message_id)
            .on_conflict_do_nothing().returning(processed.c.message_id)).first()
        if first_time is None:
            return "already done: ack only"
        conn.execute(sa.insert(welcomes).values(user_id=json.loads(body)["user_id"]))
        return "welcomed"

# %% [markdown]
# **Predict, then run.** The message is delivered twice, as above, and handled each time.
# How many welcomes are stored?

# %%
for attempt in (1, 2):
    conn = connect()
    ch = conn.channel()
    method, properties, body = ch.basic_get(queue, auto_ack=False)
    print(f"delivery {attempt}: redelivered={method.redelivered}:", handle_welcome(properties, body))
    if attempt == 2:
        ch.basic_ack(method.delivery_tag)
    conn.close()  # delivery 1 closes without its ack: it crashed after the work
with box.engine.connect() as conn:
    print("welcomes stored:", conn.execute(sa.text("SELECT count(*) FROM welcomes")).scalar())

# %% [markdown]
# One welcome for two deliveries. The key and the work commit together, so there is no moment
# where one is stored without the other. (For effects outside the database, such as an email
# provider, send an idempotency key the provider honours, or accept "at least once" there.)
#
# ## Poison messages and the dead-letter queue
#
# A message that can never be handled (not JSON, a field missing) is a **poison message**.
# The tempting `basic_nack(requeue=True)` puts it back at the head of the queue: with prefetch
# 1 the consumer receives it again at once, for ever, and every message behind it waits.
# Give the queue a **dead-letter exchange** instead, and reject poison with `requeue=False`:
# RabbitMQ moves it to the dead-letter queue, intact, for a person to look at.

# %%
def deliveries_until_the_good_one(queue: str, requeue: bool, limit: int = 50) -> tuple[int, bool]:
    """Take messages one at a time, rejecting what is not JSON; stop at the good message or
    after ``limit`` deliveries. Returns (deliveries, the good message was reached)."""
    conn = connect()
    ch = conn.channel()
    try:
        for count in range(1, limit + 1):
            method, _, body = ch.basic_get(queue, auto_ack=False)
            if method is None:
                return count - 1, False
            try:
                json.loads(body)
            except ValueError:
                ch.basic_nack(method.delivery_tag, requeue=requeue)
                continue
            ch.basic_ack(method.delivery_tag)
            return count, True
        return limit, False
    finally:
        conn.close()


dead = f"nb13-dead-{uuid.uuid4().hex[:8]}"
channel.queue_declare(dead, durable=True)
with_requeue = new_queue(channel)
with_dead_letters = new_queue(channel, **{"x-dead-letter-exchange": "",
                                          "x-dead-letter-routing-key": dead})
for name in (with_requeue, with_dead_letters):
    channel.basic_publish("", name, b"{not json")
    channel.basic_publish("", name, b'{"user_id": 8}')

# %% [markdown]
# **Predict, then run.** The same two messages (poison first) in each queue. How many
# deliveries until the good message is reached, and where does the poison end up?

# %%
print("nack(requeue=True):   deliveries, good one reached =",
      deliveries_until_the_good_one(with_requeue, requeue=True))
print("nack(requeue=False):  deliveries, good one reached =",
      deliveries_until_the_good_one(with_dead_letters, requeue=False))
method, _, body = channel.basic_get(dead, auto_ack=True)
print("in the dead-letter queue:", body)

# %% [markdown]
# The requeueing consumer was stopped by our limit of 50, not by itself: a real one spins
# until someone notices. Two refinements worth knowing: a *transient* failure (Postgres down)
# should not dead-letter a good message (leave it unacknowledged, or retry a few times with a
# delay queue), and RabbitMQ's quorum queues count deliveries themselves (`x-delivery-limit`)
# and dead-letter a message past the limit.
#
# ## Did the broker get it? Publisher confirms and `mandatory`
#
# `basic_publish` returns before the broker has done anything. Two switches make it tell:
# `confirm_delivery()` makes each publish wait for the broker's confirm (or raise), and
# `mandatory=True` makes a message that no queue receives come back instead of vanishing.
# A common way to lose every message: a typo in the routing key, or an exchange whose queue
# was never bound.
#
# **Predict, then run.** An exchange with **no queue bound** to it. What does each publish do?

# %%
lonely = f"nb13-lonely-{uuid.uuid4().hex[:8]}"
channel.exchange_declare(lonely, exchange_type="direct")
confirming = connect().channel()
confirming.confirm_delivery()

confirming.basic_publish(lonely, "user.registered", b"{}")
print("without mandatory: published, no complaint (and the message is gone)")
try:
    confirming.basic_publish(lonely, "user.registered", b"{}", mandatory=True)
    print("with mandatory: published")
except pika.exceptions.UnroutableError:
    print("with mandatory: UnroutableError, the broker returned it: no queue would get it")

# %% [markdown]
# With confirms, a publish that raises can be retried, and one that returns reached a queue
# (durable queue, persistent message: on disk). A retry after a lost confirm sends the
# message twice, which is one more reason for idempotent consumers.
#
# ## The transactional outbox, for real
#
# Publishing after the commit (chapter 08) still loses the event if the process dies between
# the two. The **outbox**: the transaction writes the row *and* the event (a row in `outbox`),
# so both or neither happen; a separate **relay** reads unsent outbox rows, publishes each with
# confirms, and marks it sent. If the relay dies after publishing and before marking, it
# publishes again: at least once, again.

# %%
outbox = sa.Table("outbox", metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("message_id", sa.Text, nullable=False),
                  sa.Column("body", sa.Text, nullable=False),
                  sa.Column("sent", sa.Boolean, nullable=False, server_default=sa.false()))
users = sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("email", sa.Text, nullable=False))
metadata.create_all(box.engine)
events = new_queue(channel)


def register(email: str, fail_after_insert: bool = False) -> None:
    with box.engine.begin() as conn:
        user_id = conn.execute(sa.insert(users).values(email=email).returning(users.c.id)).scalar()
        conn.execute(sa.insert(outbox).values(message_id=f"user-{user_id}",
                                              body=json.dumps({"user_id": user_id})))
        if fail_after_insert:
            raise RuntimeError("something failed before the commit")


def relay_once() -> int:
    """Publish every unsent outbox row with confirms, then mark it sent; returns how many."""
    with box.engine.begin() as conn:
        rows = conn.execute(sa.select(outbox).where(~outbox.c.sent).order_by(outbox.c.id)
                            .with_for_update(skip_locked=True)).all()
        for row in rows:
            confirming.basic_publish("", events, row.body.encode(), pika.BasicProperties(
                delivery_mode=2, message_id=row.message_id), mandatory=True)
            conn.execute(sa.update(outbox).where(outbox.c.id == row.id).values(sent=True))
    return len(rows)

# %% [markdown]
# **Predict, then run.** Ada registers; Bob's registration fails before its commit. The relay
# runs twice. What is in the events queue?

# %%
register("ada@example.com")
try:
    register("bob@example.com", fail_after_insert=True)
except RuntimeError:
    pass
print("relay, first run: published", relay_once())
print("relay, second run: published", relay_once())
received = []
while True:
    method, properties, body = channel.basic_get(events, auto_ack=True)
    if method is None:
        break
    received.append(json.loads(body) | {"message_id": properties.message_id})
print("events queue:", received)

# %% [markdown]
# Only Ada's event, once: Bob's rolled-back transaction took its outbox row with it, and the
# second relay run found nothing unsent. `FOR UPDATE SKIP LOCKED` lets several relays run side
# by side without publishing the same row twice in the usual case (a crash still can).
# The relay's `message_id` is what the consumer's idempotency check keys on.

# %%
for name in (queue, with_requeue, with_dead_letters, dead, events):
    channel.queue_delete(name)
channel.exchange_delete(lonely)
confirming.connection.close()
admin.close()

# %% [markdown]
# ## Key points
#
# - RabbitMQ delivers **at least once**: ack after the work, and a message not acknowledged
#   (crash, dropped connection) is delivered again, `redelivered=True`, to another consumer.
# - Make consumers **idempotent**: record a key the sender chose in the same transaction as the
#   work (a unique column, a processed-messages table); never in memory.
# - A poison message with `requeue=True` loops for ever and blocks the queue. Dead-letter it:
#   `x-dead-letter-exchange` on the queue, `basic_reject`/`nack` with `requeue=False`.
# - `confirm_delivery()` and `mandatory=True`: a publish that returns has reached a queue;
#   one that raises can be retried (and a retry is a duplicate).
# - The outbox writes the event in the business transaction; a relay publishes it with confirms
#   and marks it sent. Test it for real: rolled-back work publishes nothing, a second relay run
#   publishes nothing new.
#
# **Your turn:** `18-redelivered-charge` (a card charged twice, and a queue stuck behind one bad
# message). Run `seamlab check 18`, or the cell below.

# %%
import seamlab

passed = seamlab.check("18")
