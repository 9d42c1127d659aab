"""Fixtures for exercise 16: the learner's async order API on a real Postgres (AsyncSession over
psycopg's async driver), sending receipts to a real HTTP mail provider whose answers each test
decides per recipient: accept, refuse with 500, or *hold* the request until the test lets go.

Holding is how the tests control concurrency without timing luck: a held order is certainly in
flight (its row flushed, its receipt call open) while the test sends the next one.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.responses import JSONResponse

#: Longest a held receipt call waits for the test to release it: a safety net only.
HOLD_LIMIT = 15.0


class ReceiptProvider:
    """The mail provider's `POST /api/emails/send`, answering as the test says per recipient."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrived: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self.released: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self.held: set[str] = set()
        self.refused: set[str] = set()
        self.accepted: list[dict] = []
        self.app = FastAPI()

        @self.app.post("/api/emails/send")
        def send(payload: dict):  # a plain def: FastAPI runs it in a thread, so holding is fine
            to = str(payload.get("to"))
            with self.lock:
                arrived, released = self.arrived[to], self.released[to]
            arrived.set()
            if to in self.held:
                released.wait(HOLD_LIMIT)
            if to in self.refused:
                return JSONResponse({"error": "provider down"}, status_code=500)
            with self.lock:
                self.accepted.append(payload)
            return JSONResponse({"messageId": uuid.uuid4().hex}, status_code=202)

    def hold(self, to: str) -> None:
        self.held.add(to)

    def refuse(self, to: str) -> None:
        self.refused.add(to)

    def release(self, to: str) -> None:
        with self.lock:
            self.released[to].set()

    def has_received(self, to: str) -> bool:
        with self.lock:
            return self.arrived[to].is_set()

    def receipts_to(self, to: str) -> list[dict]:
        with self.lock:
            return [p for p in self.accepted if p.get("to") == to]

    def release_all(self) -> None:
        with self.lock:
            for to in self.held:
                self.released[to].set()


@pytest.fixture
def receipts():
    """A real HTTP mail provider in a thread (``.url``) whose answers the test programs."""
    from mailprovider.server import AppServer

    provider = ReceiptProvider()
    with AppServer(provider.app, name="mail provider") as server:
        provider.url = server.url
        yield provider
        provider.release_all()


@pytest.fixture(scope="session")
def orders_table(db_engine):
    from order_tables import metadata  # the learner's module: imported once tests run

    metadata.create_all(db_engine)
    return db_engine


@pytest.fixture(autouse=True)
def no_orders(orders_table):
    with orders_table.begin() as connection:
        connection.execute(sa.text("DELETE FROM orders"))


@pytest.fixture
def stored_orders(orders_table):
    """``stored_orders()``: the rows committed in Postgres, as (id, email, item, quantity)."""

    def read() -> list[tuple]:
        with orders_table.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT id, email, item, quantity FROM orders ORDER BY id"))
            return [tuple(row) for row in rows]

    return read
