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
# # 10 · Fakes that stay honest: one contract suite for fake and real
#
# **Objectives**
#
# - Write one contract suite for a port and run it on the fake and the real adapter alike
# - Watch a drifted fake fail the contract while the real adapter passes
# - Decide which promises belong in the contract (case, order, time zones, copies, transactions)

# %% [markdown]
# The course has said it in almost every chapter: the fake lied. The dict that was not Redis
# (chapter 06), the list that was not Postgres (chapter 01), the stub that was not the new
# provider (chapter 07). Fakes are still worth having: a service tested on an in-memory fake
# runs two hundred tests in seconds. The cure is not to drop the fake but to **hold it to the
# same tests as the real thing**.
#
# A fake is a second implementation of a port (an interface your code depends on). Its
# author's unit tests check it against the author's beliefs. A **contract suite** checks it
# against the real adapter instead: one set of tests, parametrized over both implementations,
# run in the same suite. When the fake drifts, a test fails on the fake while the real
# adapter, on the real service, passes beside it.
#
# ```mermaid
# flowchart LR
#     S[service code] --> P[port: RecentlyViewed]
#     P --> F[ListRecentlyViewed, the fake]
#     P --> R[RedisRecentlyViewed, the adapter]
#     C[one contract suite] -. same tests .-> F
#     C -. same tests .-> R
#     R --> RD[(real Redis)]
# ```
#
# ## A port, a fake and a real adapter
#
# The example is a shop's "recently viewed" strip: a port with two promises written down in
# its docstring.

# %%
from seamlab import lab

settings = lab.ready(["redis"])
work = lab.workdir()  # this notebook's scratch folder for the files below

# %%
# %%writefile {work}/recent.py
"""Port: the products a shopper viewed last.

- items(user) lists the products newest first, each product once (viewing one again moves
  it to the front), at most LIMIT of them;
- products come back as str, exactly as they were pushed.
"""
from typing import Protocol

LIMIT = 3


class RecentlyViewed(Protocol):
    def push(self, user: str, product: str) -> None: ...

    def items(self, user: str) -> list[str]: ...

# %% [markdown]
# The real adapter keeps one Redis list per user: remove the product if it is there, push it
# to the front, trim the list to the limit, all in one transaction (`MULTI`/`EXEC`).

# %%
# %%writefile {work}/recent_redis.py
from recent import LIMIT


class RedisRecentlyViewed:
    def __init__(self, redis):
        self.redis = redis

    def push(self, user, product):
        key = f"recent:{user}"
        with self.redis.pipeline() as tx:  # MULTI ... EXEC
            tx.lrem(key, 0, product)
            tx.lpush(key, product)
            tx.ltrim(key, 0, LIMIT - 1)
            tx.execute()

    def items(self, user):
        return [raw.decode() for raw in self.redis.lrange(f"recent:{user}", 0, -1)]

# %% [markdown]
# And the fake, as someone wrote it in a hurry for the service's unit tests:

# %%
# %%writefile {work}/recent_fake.py
from recent import LIMIT


class ListRecentlyViewed:
    def __init__(self):
        self.viewed = {}

    def push(self, user, product):
        self.viewed.setdefault(user, []).insert(0, product)

    def items(self, user):
        return self.viewed.get(user, [])[:LIMIT]

# %% [markdown]
# ## One suite, two implementations
#
# The contract suite has one fixture, parametrized over the implementations. Every test
# asks for `recent` and so runs twice: once on the fake, once on the adapter over the real
# Redis (the course's `redis_client` fixture: a private Redis database, flushed per test).

# %%
# %%writefile {work}/test_recent_contract.py
import pytest

from recent_fake import ListRecentlyViewed
from recent_redis import RedisRecentlyViewed


@pytest.fixture(params=["fake", "redis"])
def recent(request):
    if request.param == "fake":
        return ListRecentlyViewed()
    return RedisRecentlyViewed(request.getfixturevalue("redis_client"))


def test_the_last_product_viewed_comes_first(recent):
    for product in ("kettle", "toaster", "mug"):
        recent.push("ada", product)

    assert recent.items("ada") == ["mug", "toaster", "kettle"]


def test_a_product_viewed_again_moves_to_the_front_and_appears_once(recent):
    for product in ("kettle", "toaster", "kettle"):
        recent.push("ada", product)

    assert recent.items("ada") == ["kettle", "toaster"]


def test_only_the_last_three_are_kept(recent):
    for product in ("a", "b", "c", "d"):
        recent.push("ada", product)

    assert recent.items("ada") == ["d", "c", "b"]


def test_shoppers_do_not_see_each_others_products(recent):
    recent.push("ada", "kettle")

    assert recent.items("grace") == []

# %% [markdown]
# **Predict, then run.** Four tests, two implementations: eight results. Which fail, and on
# which implementation?

# %%
run = lab.run_tests("test_recent_contract.py")

# %% [markdown]
# The real adapter passes everything; the fake fails the one promise its author forgot (a
# product viewed again appears twice). The service's unit tests, which run on the fake, would
# have been green while production showed a deduplicated strip: tests of the service that
# depend on the strip's length or order would be testing a Redis that does not exist.
#
# Note what the suite does *not* do: it never mocks Redis, and it never looks inside either
# implementation. It states the promise once, as behaviour through the port.
#
# ## Making the fake honest
#
# Fix the fake until the same suite passes on it. Nothing else changes: not the tests, not
# the adapter.

# %%
# %%writefile {work}/recent_fake.py
from recent import LIMIT


class ListRecentlyViewed:
    def __init__(self):
        self.viewed = {}

    def push(self, user, product):
        products = [p for p in self.viewed.get(user, []) if p != product]
        self.viewed[user] = [product, *products][:LIMIT]

    def items(self, user):
        return list(self.viewed.get(user, []))  # a copy: callers cannot rewrite our state

# %%
run = lab.run_tests("test_recent_contract.py")

# %% [markdown]
# From now on, the day someone "simplifies" the fake, the contract fails next to an adapter
# that passes, and the failure names the promise that broke.
#
# ## Drift the other way: the adapter breaks
#
# The suite guards both sides. **Predict, then run.** Someone drops the `LREM` from the
# adapter to save a round trip. Which tests fail now, and on which implementation?

# %%
# %%writefile {work}/recent_redis.py
from recent import LIMIT


class RedisRecentlyViewed:
    def __init__(self, redis):
        self.redis = redis

    def push(self, user, product):
        key = f"recent:{user}"
        with self.redis.pipeline() as tx:  # "LREM is an extra round trip, drop it"
            tx.lpush(key, product)
            tx.ltrim(key, 0, LIMIT - 1)
            tx.execute()

    def items(self, user):
        return [raw.decode() for raw in self.redis.lrange(f"recent:{user}", 0, -1)]

# %%
run = lab.run_tests("test_recent_contract.py")

# %% [markdown]
# Now the honest fake passes and the adapter fails: the same test, the same message, the
# other side. A suite that only ran the fake would have missed this; a suite that only ran
# Redis would have let the fake drift. The contract suite runs both, always.
#
# ## What belongs in a contract
#
# A contract test pins a promise of the port that callers rely on, and that a hand-written
# fake easily gets wrong because the real service does it for free. The usual suspects for a
# repository on Postgres:
#
# | promise | what the real service does | what a fake is tempted to do |
# |---|---|---|
# | uniqueness | a unique index, maybe on `lower(email)` | `email in emails`, exact case |
# | order | `ORDER BY created_at DESC, id DESC` | dict insertion order |
# | time | `timestamptz` comes back with an offset | `datetime.now()`, naive |
# | identity | every query builds fresh objects | hand out the stored object itself |
# | transactions | `ROLLBACK` undoes the block | no transactions at all |
# | errors | a unique violation, mapped to the port's own exception | raise it early, or never |
# | types | `bytes` from Redis, `Decimal` from `numeric` | whatever Python had |
#
# Keep the contract at the port: assert through the port's methods, never the fake's
# attributes or the adapter's SQL, so both implementations can be checked by one test.
# Put the suite next to the service's unit tests and run it in the same `pytest` run: the
# Postgres half is a few milliseconds per test with the course fixtures, and it is the only
# thing that makes the other two hundred fast tests worth trusting.

# %% [markdown]
# ## Key points
#
# - A fake is a second implementation of a port; its own unit tests only check it against its
#   author's beliefs.
# - A contract suite is one set of tests over the port, parametrized over the fake and the
#   real adapter (`@pytest.fixture(params=[...])` and `request.getfixturevalue`), run together.
# - When the fake drifts, the contract fails on the fake beside a real adapter that passes;
#   when the adapter breaks, the same test fails the other way.
# - Pin what the real service does for free: case rules, order, time zones, copies,
#   transactions, error types.
#
# **Your turn:** `15-honest-fakes` (write the contract suite for a customer repository; it is
# graded against fakes that drifted in each of those ways). Run `seamlab check 15`, or the
# cell below.

# %%
import seamlab

passed = seamlab.check("15")
