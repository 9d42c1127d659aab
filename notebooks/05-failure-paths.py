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
# # 05 · Failure paths: when the other side says no
#
# **Objectives**
#
# - Make a real provider fail, slow down or drop the connection, on purpose
# - Check that a failed email leaves no half-written signup behind
# - Spot an external call made while a database lock is held

# %% [markdown]
# The happy path is the one everybody tests. The bugs that page you at night are on the other
# paths: the provider answers 500, answers after ten seconds, or hangs up. What matters then
# is what your system **leaves behind**: a user row with no welcome email, a charge with no
# order, a lock that blocks everyone else.
#
# The sign-up service promises: *if the welcome email cannot be sent, no account is
# created, and the client gets `503 Service Unavailable`*. It keeps that promise by sending
# the email **inside** the database transaction and rolling back when the send fails.
#
# ```mermaid
# sequenceDiagram
#     participant C as client
#     participant API as signup API
#     participant PG as Postgres
#     participant MP as mail provider
#     C->>API: POST /register
#     API->>PG: BEGIN, INSERT user (row locked, not yet visible)
#     API->>MP: POST /api/emails/send
#     alt provider accepts
#         MP-->>API: 202
#         API->>PG: COMMIT
#         API-->>C: 201
#     else 500, timeout or dropped connection
#         MP--xAPI: failure
#         API->>PG: ROLLBACK
#         API-->>C: 503, no account created
#     end
# ```

# %%
import logging
import time

from seamlab import lab  # first: it also quiets a library deprecation notice
from fastapi.testclient import TestClient
from sqlalchemy import text

from signup import schema
from signup.app import create_app
from signup.mail import MailClient

lab.show_logs("signup", level=logging.ERROR)
box = lab.sandbox()
schema.create_all(box.engine)
provider = lab.mail_provider()
mail = provider.handle()


class RecordingPublisher:
    def __init__(self):
        self.events = []

    def publish(self, event):
        self.events.append(event)


app = create_app(box.settings, mailer=MailClient(provider.url), publisher=RecordingPublisher())
client = TestClient(app)


def register(email):
    return client.post(
        "/api/users/register", json={"email": email, "name": "Sam", "password": "long enough"}
    )


def users_with(email):
    with box.engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM users WHERE lower(email) = lower(:e)"), {"e": email})


# %% [markdown]
# ## Three ways to fail, on purpose
#
# The mail provider's admin API can make its next answers fail: `fail_next(status)`,
# `delay_next(seconds)` and `drop_next()` (close the connection without a word). Everything
# else is real: the HTTP client, its timeouts, the transaction.
#
# **Predict, then run.** For each failure: what status does the client get, is there a user
# row afterwards, and what did the provider record?

# %%
failures = {
    "500 from the provider": lambda: mail.fail_next(status=500, body={"error": "overloaded"}),
    "connection dropped": lambda: mail.drop_next(),
    "answer after 3 s (client timeout is 2 s)": lambda: mail.delay_next(3.0),
}

def what_the_provider_logged():
    logged = []
    for entry in mail.send_requests():
        status = entry["response_status"]
        logged.append(f"answered {status}" if status else entry.get("outcome", "no answer"))
    return "; ".join(logged) or "nothing"


print(f"{'failure':<41} {'client got':<11} {'user rows':<10} provider's journal")
for index, (what, program) in enumerate(failures.items()):
    mail.reset()
    program()
    email = f"fail{index}@example.com"
    response = register(email)
    print(f"{what:<41} {response.status_code:<11} {users_with(email):<10} "
          f"{what_the_provider_logged()}")

# %% [markdown]
# Each failure gives `503` and no row: the rollback works. Notice the journal of the
# slow case: the provider recorded the request (its answer would have been a success, sent
# too late), so **the email may well arrive** although the account does not exist. Timeouts
# make the outcome unknown, not failed. Providers that accept an idempotency key let you
# retry safely; otherwise, design for "sent, but we do not know".
#
# A mock that raises `TimeoutException` at once would have shown the same 503, in
# microseconds. It would not show the two seconds the request spent waiting, and what else
# was waiting with it.

# %% [markdown]
# ## The call made under a lock
#
# While the email is being sent, the transaction is open and the new row is locked: the
# unique index on `lower(email)` holds the key until commit or rollback. Anybody else trying
# to insert the same email has to **wait**, whatever their timeout.
#
# **Predict, then run.** The provider is slowed to 1 second. Two people submit the same
# address at almost the same moment (a double click is enough). What does the second one see,
# and when?

# %%
import threading

from seamlab.waiting import wait_for

mail.reset()
mail.delay_next(1.0)
results = {}


def submit(name, email):
    started = time.monotonic()
    response = TestClient(app).post(
        "/api/users/register", json={"email": email, "name": name, "password": "long enough"}
    )
    results[name] = (response.status_code, time.monotonic() - started)


first = threading.Thread(target=submit, args=("first", "twice@example.com"))
first.start()
wait_for(lambda: mail.send_requests(), timeout=5, what="the first request to reach the provider")
second = threading.Thread(target=submit, args=("second", "TWICE@example.com"))
second.start()

with box.connect() as observer:
    blocked = wait_for(
        lambda: observer.execute(
            "SELECT wait_event_type, left(query, 17) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchall(),
        timeout=5,
        what="the second insert to wait on a lock",
    )
for kind, query in blocked:
    print(f"while the provider thinks, Postgres shows '{query} ...' waiting on a {kind.lower()}")
first.join()
second.join()
for name, (status, took) in sorted(results.items()):
    print(f"{name:<6} -> {status}, waited for the slow email: {took > 0.5}")

# %% [markdown]
# The second request waited for the first one's **email** before Postgres could tell it
# "duplicate". Now imagine the provider takes 10 seconds during an incident: every sign-up
# for a contested address hangs, every one holds a pooled database connection, and the pool
# (5 connections by default) is soon empty, so even unrelated pages stop.
#
# A unit test with a mocked provider answers instantly and can never show this. Ways out,
# each with its own failure path to test:
#
# 1. **Short, explicit timeouts** on every external call (the sample uses 1 s to connect,
#    2 s overall). This bounds the damage; it does not remove it.
# 2. **Commit first, call afterwards**: store the user as *pending*, commit, send the email
#    outside any transaction, then mark the user *active*, or clean up on failure.
# 3. **An outbox**: in the same transaction as the user, insert a row "send welcome email";
#    a worker sends it later and retries. No network call under a lock at all (chapter 08).

# %%
client.close()

# %% [markdown]
# ## Key points
#
# - Test failure paths against the real provider made to fail: error status, slowness,
#   dropped connection. Assert what is left behind (rows, emails), not only the status.
# - Rollback-on-failure keeps the database consistent, but a timeout means "unknown", not
#   "not sent".
# - An external call inside a transaction holds its locks for the duration of the call; a
#   mock that answers instantly hides it. Keep network calls out of transactions, or bound
#   them tightly.
#
# **Your turn:** `07-provider-failure` (a failure that leaves a half-made account) and
# `08-call-under-lock` (a slow provider that blocks other requests). Run `seamlab check 07`
# and `seamlab check 08`, or the cells below.

# %%
import seamlab

passed = seamlab.check("07")

# %%
passed = seamlab.check("08")
