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
# # 06 · State between tests: transactions, savepoints and Redis
#
# **Objectives**
#
# - Isolate tests with a rollback fixture, and know why savepoints are needed when code commits
# - Measure the cost of each cleanup strategy on a live database
# - Clean Redis between tests and see what a dict-based fake hides

# %% [markdown]
# **Test pollution** is one test leaving something behind that changes another test's result:
# a row, a Redis key, a queue message. Its symptoms are the worst kind: tests that pass alone
# and fail together, or fail only on CI, or only on Tuesdays. The cure is that every test
# starts from the same state and cleans up after itself, whatever happens inside it.
#
# ## Pollution, live
#
# Two small tests that commit through a real engine and never clean up. Each is correct.

# %%
from seamlab import lab

work = lab.workdir()  # this notebook's scratch folder for the files below

# %%
# %%writefile {work}/test_coupons.py
import pytest
from sqlalchemy import text


@pytest.fixture
def conn(db_engine):
    with db_engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS coupons (code text PRIMARY KEY)"))
    with db_engine.connect() as conn:
        yield conn


def test_a_coupon_can_be_created(conn):
    conn.execute(text("INSERT INTO coupons VALUES ('WELCOME10')"))
    conn.commit()
    assert conn.execute(text("SELECT count(*) FROM coupons")).scalar() == 1


def test_a_new_shop_has_no_coupons(conn):
    assert conn.execute(text("SELECT count(*) FROM coupons")).scalar() == 0

# %% [markdown]
# **Predict, then run:** run together, in file order, do both pass? And the second alone?

# %%
print("Both tests, in file order:")
together = lab.run_tests("test_coupons.py")
print("\nThe second test alone:")
alone = lab.run_tests("test_coupons.py", args=["-k", "no_coupons"])

# %% [markdown]
# The second test is fine; the first one left a row. With a random test order (pytest-randomly)
# or parallel workers, the failure would hop between tests from run to run.
#
# ## The rollback fixture, and why it needs savepoints
#
# The cheapest cleanup for a database is not to keep anything: open a transaction before the
# test, hand the test (and the code under test) a session inside it, and roll it back
# afterwards. Nothing was ever committed, so there is nothing to delete.
#
# The catch: the code under test often calls `commit()` or `rollback()` itself (the sign-up
# service does both). What happens to the test's outer transaction then depends on how the
# session joins it. SQLAlchemy 2 offers several modes; here they are side by side, each doing
# what a test does: insert a user as "arrange", then run code that commits.
#
# **Predict, then run.** After the test's final rollback, which modes leave the committed
# user in the database for the next test?

# %%
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from signup import schema
from signup.models import User

box = lab.sandbox()
schema.create_all(box.engine)


def leftover_users():
    with box.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(User))


def a_test_in(mode):
    """Arrange a user, let the 'code under test' commit another one, then clean up."""
    connection = box.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode=mode)
    session.add(User(email="arranged@example.com", name="Arranged", password_hash="x"))
    session.flush()
    session.add(User(email="committed@example.com", name="Committed", password_hash="x"))
    session.commit()  # what UserService.rename does
    session.close()
    if outer.is_active:
        outer.rollback()
    connection.close()


for mode in ("control_fully", "rollback_only", "create_savepoint"):
    a_test_in(mode)
    print(f"{mode:<17} rows left behind: {leftover_users()}")
    with box.engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))

# %% [markdown]
# `control_fully` lets the session commit the outer transaction: the classic recipe from
# SQLAlchemy 1.x without its event-listener workaround, and the rollback afterwards undoes
# nothing. The other two keep the outer transaction alive. Now the other half: code that
# calls **`rollback()`**, as the sign-up service does after a duplicate email.
#
# **Predict, then run.** The test arranged an existing user; the code under test hits the
# unique index and rolls back. Is the arranged user still there for the test's assertions?

# %%
from sqlalchemy.exc import IntegrityError


def arranged_user_survives(mode):
    connection = box.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode=mode)
    session.add(User(email="taken@example.com", name="Existing", password_hash="x"))
    session.commit()  # the test's arrange step, committed as a test would
    try:  # the code under test: insert a duplicate, catch the error, roll back
        session.add(User(email="TAKEN@example.com", name="Second", password_hash="y"))
        session.flush()
    except IntegrityError:
        session.rollback()
    still_there = session.scalar(select(func.count()).select_from(User))
    session.close()
    if outer.is_active:
        outer.rollback()
    connection.close()
    return still_there


for mode in ("rollback_only", "create_savepoint"):
    print(f"{mode:<17} arranged users visible after the code's rollback: {arranged_user_survives(mode)}")

# %% [markdown]
# Only `create_savepoint` survives both: each `commit()` or `rollback()` of the code under
# test ends a **savepoint** inside the test's transaction, never the transaction itself. That
# is the mode of the course's `db_session` fixture:
#
# ```mermaid
# sequenceDiagram
#     participant F as db_session fixture
#     participant C as code under test
#     participant PG as Postgres
#     F->>PG: BEGIN (outer transaction)
#     C->>PG: SAVEPOINT sa_1
#     C->>PG: INSERT …
#     C->>PG: RELEASE SAVEPOINT sa_1 (its "commit")
#     C->>PG: SAVEPOINT sa_2
#     C->>PG: INSERT duplicate → error
#     C->>PG: ROLLBACK TO SAVEPOINT sa_2 (its "rollback")
#     F->>PG: ROLLBACK (everything is gone)
# ```
#
# Two limits: data in the outer transaction is **invisible to other connections**, so a
# separate process (a real server, a queue consumer) cannot see it; and anything outside
# Postgres (Redis keys, sent emails, queue messages) is not rolled back at all.

# %% [markdown]
# ## What each cleanup costs, measured
#
# Rollback is not the only way. Here are four, each timed on the live database for the part
# that a test suite pays per test:
#
# - **transaction rollback**: `ROLLBACK` of the test's outer transaction after it inserted a
#   few rows (the savepoints inside it cost next to nothing);
# - **DELETE**: `DELETE FROM` the tables the test touched (rows committed);
# - **TRUNCATE**: `TRUNCATE ... CASCADE` of those tables;
# - **fresh database**: `CREATE DATABASE ... TEMPLATE` then `DROP DATABASE` (full isolation,
#   what the grader does per run).
#
# **Predict, then run.** Order them from cheapest to dearest. How far apart are they?

# %%
# NBVAL_IGNORE_OUTPUT
from seamlab import isolation

with box.connect() as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, note text)")
    conn.execute("CREATE TABLE IF NOT EXISTS order_lines (order_id int REFERENCES orders, qty int)")

    def insert_rows():
        conn.execute("INSERT INTO orders (note) SELECT 'n' FROM generate_series(1, 5)")
        conn.execute("INSERT INTO order_lines SELECT id, 1 FROM orders")

    def test_in_transaction():  # what the db_session fixture does before a test
        conn.execute("BEGIN")
        insert_rows()

    figures = {
        "transaction rollback": lab.per_call_ms(
            lambda: conn.execute("ROLLBACK"), setup=test_in_transaction
        ),
        "DELETE": lab.per_call_ms(
            lambda: (conn.execute("DELETE FROM order_lines"), conn.execute("DELETE FROM orders")),
            setup=insert_rows,
        ),
        "TRUNCATE … CASCADE": lab.per_call_ms(
            lambda: conn.execute("TRUNCATE order_lines, orders CASCADE"), setup=insert_rows
        ),
    }


def fresh_database():
    name = isolation.database_name("seamlab_nb_bench")
    isolation.create_database(box.settings, name)
    isolation.drop_database(box.settings, name)


figures["fresh database (template)"] = lab.per_call_ms(fresh_database, repeat=4)
for name, ms in figures.items():
    print(f"{name:<27} {ms:7.2f} ms per test")

# %%
fig = lab.bar_chart(figures, "Per-test cleanup cost on the live Postgres (median)")

# %% [markdown]
# Your figures depend on the machine and on what else it is doing, but the order rarely
# changes. On a quiet 2-core laptop: rollback well under a millisecond, `DELETE` about a
# millisecond, `TRUNCATE` several (it creates new files for each table and must wait for
# other sessions' locks), and a fresh database a few tens of milliseconds, much more while
# other databases are busy. For a suite of 2,000 tests that is the difference between about
# a second and about a minute of pure cleanup. So:
#
# - per test: **rollback (with savepoints)** whenever the test and the code share one
#   connection;
# - when a real server or another process must see committed rows: **DELETE** the tables
#   you touched (TRUNCATE pays off only for big tables);
# - per run or per worker: a **fresh database from a template**, which also isolates
#   parallel runs from each other (chapter 09 relies on it for `-n auto`).

# %% [markdown]
# ## Redis: clean it, and do not fake it with a dict
#
# Redis has no transactions to roll back in this sense; clean it explicitly. The course's
# `redis_client` fixture gives each session its own numbered database and runs `FLUSHDB`
# before and after each test.
#
# It is tempting to replace Redis with a dict in tests. **Predict, then run:** which of
# these behaviours does the dict share with real Redis?

# %%
from seamlab.waiting import wait_for

real = box.redis
fake = {}

real.set("visits", 1)
fake["visits"] = 1
print("read back     real:", repr(real.get("visits")), "| dict:", repr(fake["visits"]))

real.set("session:abc", "user-7", px=200)  # expires after 200 ms
fake["session:abc"] = "user-7"
wait_for(lambda: real.get("session:abc") is None, timeout=3, what="the session key to expire")
print("after its TTL real:", real.get("session:abc"), "| dict:", repr(fake.get("session:abc")))

real.incr("visits")
print("INCR          real:", repr(real.get("visits")), "| dict: no such operation")
real.flushdb()
print("after FLUSHDB real keys:", real.keys("*"))

# %% [markdown]
# Real Redis returns **bytes** (`b'1'`, not `1`), forgets keys when their TTL runs out, and
# has atomic operations a dict lacks. Code that passed against the dict, `cache.get(...) ==
# 1` or a session that never expires, breaks against the real thing. A dict fake tests your
# assumptions about Redis, not Redis.

# %% [markdown]
# ## Key points
#
# - Every test starts from a known state and cleans up after itself; otherwise results depend
#   on test order.
# - A rollback fixture must use savepoints (`join_transaction_mode="create_savepoint"`) when
#   the code under test commits or rolls back; otherwise data leaks out or vanishes mid-test.
# - Measured per test: rollback ≲ DELETE < TRUNCATE < fresh database; use the
#   cheap ones per test and a fresh database per run or worker.
# - Clean Redis explicitly (`FLUSHDB` on a private db), and test against a real one: bytes,
#   TTLs and atomic operations are where dict fakes lie.
#
# **Your turn:** `09-redis-not-a-dict` (a cache that only worked against a dict), then
# `10-isolation-fixtures` (write fixtures that keep tests apart). Run `seamlab check 09`
# and `seamlab check 10`, or the cells below.

# %%
import seamlab

passed = seamlab.check("09")

# %%
passed = seamlab.check("10")
