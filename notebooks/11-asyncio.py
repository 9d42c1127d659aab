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
# # 11 · asyncio code: event loops, async sessions and what only real services show
#
# **Objectives**
#
# - Test an async app in-process with httpx's AsyncClient and ASGITransport, and over a live server
# - Give each async test an AsyncSession inside a transaction rolled back at the end (savepoints)
# - Run async tests and fixtures with anyio's pytest plugin, and use the async Redis client
# - Probe concurrency deterministically: hold one request at a real service, then send another

# %% [markdown]
# Most new Python services are `async def` from top to bottom: FastAPI handlers,
# `httpx.AsyncClient` for the services they call, SQLAlchemy's `AsyncSession`, `redis.asyncio`.
# (Chapter 08 was about a different kind of asynchrony: a message queue between processes. This
# one is about one process running many requests at once on an **event loop**.)
#
# One thread runs every request. A request runs until it reaches an `await` on something slow
# (a query, an HTTP call); the loop then runs another request until *that* one awaits, and so
# on. So every `await` is a point where other requests run in the middle of yours:
#
# ```mermaid
# sequenceDiagram
#     participant A as request A
#     participant L as event loop
#     participant B as request B
#     A->>L: await warehouse.get(...)
#     L->>B: run B meanwhile
#     B->>L: await redis.incr(...)
#     L->>A: the warehouse answered: carry on
# ```
#
# Two things follow that a unit test with mocks never shows, because a mock answers at once and
# nothing ever runs "meanwhile": a **blocking call** (anything not awaited that waits, such as
# `time.sleep`, `requests.get`, a sync database driver) stops *every* request, and **state kept
# across an await** (a value read, a transaction, a session) can be changed by other requests
# before you use it. This chapter tests both against real services.

# %%
from seamlab import lab

settings = lab.ready(["postgres", "redis"])
box = lab.sandbox()  # a private database and Redis db for this notebook
work = lab.workdir()  # this notebook's scratch folder for the files below

# %% [markdown]
# ## A small async app
#
# A shop's front end: it counts page visits in Redis (`redis.asyncio`) and asks a warehouse
# service for stock over HTTP, once with `httpx.AsyncClient` (awaited) and once, in an older
# route nobody rewrote, with the synchronous `httpx.get`.

# %%
# %%writefile {work}/shop_app.py
import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI


def create_app(redis_url: str, warehouse_url: str) -> FastAPI:
    app = FastAPI()
    visits = aioredis.Redis.from_url(redis_url)

    @app.post("/visits/{page}")
    async def visit(page: str) -> dict:
        return {"page": page, "visits": await visits.incr(f"visits:{page}")}

    @app.get("/health")
    async def health() -> dict:
        return {"ok": True}

    @app.get("/stock/{sku}")
    async def stock(sku: str) -> dict:
        async with httpx.AsyncClient(base_url=warehouse_url, timeout=10) as client:
            return (await client.get(f"/stock/{sku}")).json()

    @app.get("/old/stock/{sku}")
    async def old_stock(sku: str) -> dict:
        return httpx.get(f"{warehouse_url}/stock/{sku}", timeout=10).json()  # not awaited

    return app

# %% [markdown]
# The warehouse is a real HTTP service, with one feature for tests: it can **hold** its
# answers until the test lets them go. A held request is certainly in flight, so the test
# decides what happens "meanwhile" instead of hoping for it.

# %%
# %%writefile {work}/warehouse.py
import threading

from fastapi import FastAPI


class Warehouse:
    """A real HTTP service; ``hold()`` keeps its answers back until ``let_go()``."""

    def __init__(self) -> None:
        self.arrived = threading.Event()  # a stock request has come in
        self.go = threading.Event()
        self.go.set()  # answer at once unless held
        self.app = FastAPI()

        @self.app.get("/stock/{sku}")
        def stock(sku: str) -> dict:  # a plain def runs in a worker thread: waiting is fine
            self.arrived.set()
            self.go.wait(10)
            return {"sku": sku, "in_stock": 7}

    def hold(self) -> None:
        self.arrived.clear()
        self.go.clear()

    def let_go(self) -> None:
        self.go.set()

# %%
import sys

sys.path.insert(0, str(work))
from shop_app import create_app
from warehouse import Warehouse

warehouse = Warehouse()
warehouse.url = lab.serve(warehouse.app, name="warehouse").url

# %% [markdown]
# ## In-process: `AsyncClient` with `ASGITransport`
#
# `httpx.ASGITransport` hands each request straight to the ASGI app, on the caller's event
# loop: no port, no server thread, and the app's handlers run as tasks of *this* loop (in a
# notebook, top-level `await` works; in pytest, an async test does the same). The services
# the app talks to are still the real ones.
#
# **Predict, then run.** Three visits to `home` through `ASGITransport`: what does the app
# answer the third time, and what is in Redis afterwards?

# %%
import httpx

shop = create_app(box.settings.redis_url, warehouse.url)
transport = httpx.ASGITransport(app=shop)
async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
    for _ in range(3):
        response = await client.post("/visits/home")
print(response.status_code, response.json())
print("Redis has visits:home =", box.redis.get("visits:home"))

# %% [markdown]
# The count lives in the real Redis: `ASGITransport` skips the network between the test and
# the app, not between the app and its services. Two more things to know about it:
# it does not run the app's **lifespan** (startup and shutdown handlers: run
# `app.router.lifespan_context(app)` yourself, or build clients in the factory as here), and
# an exception in a handler is raised in the test unless you pass
# `raise_app_exceptions=False` (then you get the 500 a real client would).
#
# ## Over a live server, and a blocking call
#
# The same app on a real uvicorn (`lab.serve`, like the `live_server` fixture in tests) runs
# on **its own** event loop in its own thread, and the client talks to it over a socket. An
# object bound to one loop (an async engine's pooled connections, an async Redis client that
# has connected) must not be used from another: build a fresh app for the server.
#
# The probe: hold the warehouse, start a stock request (it is now certainly waiting there),
# then ask the same server for `/health`, with a deadline.

# %%
import asyncio

live_url = lab.serve(create_app(box.settings.redis_url, warehouse.url), name="shop").url


async def health_while_waiting_on(path: str) -> str:
    """Ask for /health while a request to ``path`` is held at the warehouse."""
    warehouse.hold()
    async with httpx.AsyncClient(base_url=live_url, timeout=10) as client:
        waiting = asyncio.create_task(client.get(path))
        arrived = await asyncio.to_thread(warehouse.arrived.wait, 5)  # certainly in flight now
        try:
            health = await asyncio.wait_for(client.get("/health"), 2)
            said = f"/health answered {health.status_code}"
        except TimeoutError:
            said = "/health got no answer within 2 s"
        finally:
            warehouse.let_go()
        stock = await waiting
    return f"{said} while {path} waited at the warehouse (it got there: {arrived}); then {path}: {stock.json()}"

# %% [markdown]
# **Predict, then run.** Both routes are `async def`. While each one waits for the warehouse,
# does `/health` get its answer?

# %%
print(await health_while_waiting_on("/stock/teapot"))
print(await health_while_waiting_on("/old/stock/teapot"))

# %% [markdown]
# `httpx.get` inside `async def` waits without letting the loop run anything else: while it
# waits, the whole server is frozen, `/health` included. With a mocked warehouse (respx
# answers at once) both routes look the same; only a real, slow service shows the difference.
# Notice what made the probe trustworthy: not a `sleep` and a hope, but a request *held* at the
# real service until the test had asked its question. The deadline is only a bound: a correct
# server answers in milliseconds, a blocked one cannot answer at all until the test lets go.
# The fix is to await (`httpx.AsyncClient`), or to move an unavoidable blocking call off the
# loop with `await asyncio.to_thread(...)` (`anyio.to_thread.run_sync`).
#
# ## Async tests with anyio's pytest plugin
#
# pytest itself cannot run `async def` tests. Two plugins can: **anyio's**, which comes with
# anyio (installed with httpx and Starlette), and **pytest-asyncio**. With anyio, mark the
# tests `@pytest.mark.anyio` (or `pytestmark = pytest.mark.anyio` for a module) and let an
# `anyio_backend` fixture return `"asyncio"`; async fixtures then work like any other
# (a `yield` in an `async def` fixture is its teardown). pytest-asyncio does the same with
# `@pytest.mark.asyncio` or `asyncio_mode = "auto"`. Pick one per project.
#
# ## `AsyncSession` and the savepoint recipe
#
# Chapter 06's rollback fixture, in async: open one connection, begin the outer transaction,
# and bind the `AsyncSession` to that connection with
# `join_transaction_mode="create_savepoint"`. The code under test may `await
# session.commit()`: that only releases a savepoint, and the outer rollback undoes everything
# at the end. The engine uses psycopg 3's async mode (the same `postgresql+psycopg://` URL:
# `create_async_engine` picks the async driver; asyncpg would be `postgresql+asyncpg://`).

# %%
# %%writefile {work}/notes_repo.py
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

metadata = sa.MetaData()
notes = sa.Table(
    "notes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
)


async def add_note(session: AsyncSession, text: str) -> None:
    await session.execute(sa.insert(notes).values(text=text))
    await session.commit()  # the code under test commits, as real code does


async def count_notes(session: AsyncSession) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(notes))).scalar_one()

# %%
# %%writefile {work}/conftest.py
import pytest
from notes_repo import metadata
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="session")
def notes_tables(db_engine):
    """Tables once per session, with the plugin's (sync) engine on the session's database."""
    metadata.create_all(db_engine)
    return db_engine


@pytest.fixture
async def async_session(notes_tables):
    """An AsyncSession inside a transaction rolled back after the test; the code's own
    commit() and rollback() only end a savepoint."""
    engine = create_async_engine(notes_tables.url)  # this test's event loop owns it
    async with engine.connect() as connection:
        outer = await connection.begin()
        session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()
    await engine.dispose()

# %% [markdown]
# The engine is made per test on purpose: an async engine's connections belong to the event
# loop that opened them, and anyio gives each test its own loop unless `anyio_backend` is
# session-scoped. A new connection costs a few milliseconds (chapter 06); a session-scoped
# `anyio_backend` and engine fixture saves them when a suite is large.

# %%
# %%writefile {work}/test_notes.py
import pytest
from notes_repo import add_note, count_notes

pytestmark = pytest.mark.anyio


async def test_a_note_is_stored(async_session):
    await add_note(async_session, "buy milk")

    assert await count_notes(async_session) == 1


async def test_the_next_test_starts_without_notes(async_session):
    assert await count_notes(async_session) == 0

# %% [markdown]
# **Predict, then run.** `add_note` commits. Does the second test still start with no notes?

# %%
run = lab.run_tests("test_notes.py", plugins=("seamlab.pytest_plugin", "anyio"))

# %% [markdown]
# Both pass: the commit ended a savepoint inside the fixture's transaction, and the rollback
# took the note away. The rows were real (Postgres checked the `NOT NULL`, issued the ids);
# nothing outlived the test.
#
# ## State across an await: the async Redis client and a barrier
#
# `redis.asyncio` has the same commands as `redis.Redis`, awaited. Here ten tasks each add one
# to a counter. One way reads the value, then writes value + 1; the other asks Redis to do it
# (`INCR`). To make the dangerous interleaving happen **every time** rather than once a week,
# an `asyncio.Barrier` holds each task after its read until all ten have read.

# %%
import redis.asyncio as aioredis

counter = aioredis.Redis.from_url(box.settings.redis_url)


async def read_then_write(key: str, everyone: asyncio.Barrier) -> None:
    value = int(await counter.get(key) or 0)
    await everyone.wait()  # every task has read before any task writes
    await counter.set(key, value + 1)


async def incr(key: str, everyone: asyncio.Barrier) -> None:
    await everyone.wait()
    await counter.incr(key)

# %% [markdown]
# **Predict, then run.** Ten tasks, each adding one. What is each counter at the end?

# %%
for add_one in (read_then_write, incr):
    key = f"counter:{add_one.__name__}"
    await counter.delete(key)
    everyone = asyncio.Barrier(10)
    await asyncio.gather(*(add_one(key, everyone) for _ in range(10)))
    print(f"{add_one.__name__:<16} ten tasks added one each: {int(await counter.get(key))}")
await counter.aclose()

# %% [markdown]
# Read-then-write lost nine of the ten: each task wrote back what it had read *before the
# others ran*. Without the barrier the same code usually works in a quiet test and fails under
# load; with it, the test fails every time, which is what a test is for. `INCR` (or a
# `WATCH`/`MULTI` transaction, or a Lua script) does the read and the write inside Redis, where
# nothing runs in between.
#
# The same goes for anything a request keeps across an `await`, and a database session is the
# biggest such thing: an `AsyncSession` is one connection and one transaction. SQLAlchemy's
# documentation says it plainly: an `AsyncSession` is not safe to use in concurrent tasks; each
# task (each request) needs its own. Tests with mocks run one request at a time, or two that
# never interleave, so they cannot tell.

# %% [markdown]
# ## Key points
#
# - Every `await` lets other requests run in the middle of yours. Mocks answer at once, so
#   unit tests never see "meanwhile"; real, slow services do.
# - `httpx.AsyncClient(transport=httpx.ASGITransport(app=app))` runs the app in-process on the
#   test's loop (no lifespan; `raise_app_exceptions=False` for real 500s). A live server runs
#   it on its own loop: give it objects that loop owns.
# - Probe concurrency deterministically: hold a request at a real service (an event the test
#   sets), ask your question while it is certainly in flight, bound the wait with a deadline.
#   Barriers force the interleaving you fear.
# - A blocking call inside `async def` freezes every request; await, or `asyncio.to_thread`.
# - Async tests: `@pytest.mark.anyio` with an `anyio_backend` fixture (or pytest-asyncio).
#   `AsyncSession(bind=connection, join_transaction_mode="create_savepoint")` inside an outer
#   transaction that the fixture rolls back is chapter 06's recipe, async.
# - One `AsyncSession` per task: it is a connection and a transaction, not a connection pool.
#
# **Your turn:** `16-shared-session` (orders confirmed but never stored, and stored though
# refused, only when several are in flight). Run `seamlab check 16`, or the cell below.

# %%
import seamlab

passed = seamlab.check("16")
