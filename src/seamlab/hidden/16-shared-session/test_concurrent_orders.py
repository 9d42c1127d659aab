"""Exercise 16: every order is stored or rolled back on its own, even while other orders are in
flight at the same moment; and one order waiting for its receipt never holds the others up.

The API runs in-process (httpx ``ASGITransport``) on this test's event loop, with the
learner's ``create_app`` given a real async engine and a real mail provider. Concurrency is set
up by holding one order's receipt call open at the provider until the test releases it.

Which README promise each test decides: exercises/16-shared-session/.meta/requirements.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

#: Bound on anything the test waits for. Correct code needs milliseconds; code that waits for
#: another order to finish never gets there until the test releases that order.
DEADLINE = 5.0

ADA = {"email": "ada@example.com", "item": "teapot", "quantity": 2}
BOB = {"email": "bob@example.com", "item": "kettle", "quantity": 1}


@contextlib.asynccontextmanager
async def orders_api(db_engine, receipts) -> AsyncIterator[httpx.AsyncClient]:
    """The learner's app on a fresh async engine (psycopg async) of the test database."""
    from orders_api import create_app

    engine = create_async_engine(db_engine.url)
    app = create_app(engine, mail_url=receipts.url)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://orders.test",
                                     timeout=DEADLINE * 2) as client:
            yield client
    finally:
        receipts.release_all()
        await engine.dispose()


def said(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text.strip()[:200]}"


async def answer(what: str, request: Awaitable[httpx.Response]) -> httpx.Response:
    """The response to ``request``, or an AssertionError if none comes within DEADLINE."""
    try:
        return await asyncio.wait_for(request, DEADLINE)
    except TimeoutError:
        raise AssertionError(f"{what} got no answer within {DEADLINE:.0f} s") from None


async def reaches_the_provider(receipts, to: str, order: asyncio.Task) -> None:
    """Wait until the order for ``to`` is at the provider (held there: certainly in flight)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not receipts.has_received(to):
        if order.done():
            raise AssertionError(
                f"the order for {to} answered {said(order.result())} without calling the mail "
                "provider; expected it to send a receipt")
        if loop.time() > deadline:
            raise AssertionError(
                f"the order for {to} never called the mail provider within {DEADLINE:.0f} s "
                "while other orders were in flight (orders must not wait for each other)")
        await asyncio.sleep(0.01)


def run(scenario) -> None:
    asyncio.run(scenario)


def test_an_order_is_stored_and_gets_one_receipt(db_engine, receipts, stored_orders):
    async def scenario():
        async with orders_api(db_engine, receipts) as api:
            response = await answer("POST /orders", api.post("/orders", json=ADA))
            assert response.status_code == 201, (
                f"POST /orders {ADA} answered {said(response)}; expected 201")
            order_id = response.json()["id"]
            assert stored_orders() == [(order_id, "ada@example.com", "teapot", 2)], (
                f"after 201 for order {order_id}, Postgres has {stored_orders()}")
            sent = receipts.receipts_to("ada@example.com")
            assert len(sent) == 1, f"ada@example.com got {len(sent)} receipts; expected one"
            assert f"#{order_id}" in sent[0]["subject"], (
                f"the receipt's subject is {sent[0]['subject']!r}; expected it to name #{order_id}")

    run(scenario())


def test_an_order_whose_receipt_fails_gets_503_and_is_not_stored(db_engine, receipts,
                                                                  stored_orders):
    receipts.refuse("ada@example.com")

    async def scenario():
        async with orders_api(db_engine, receipts) as api:
            response = await answer("POST /orders", api.post("/orders", json=ADA))
            assert response.status_code == 503, (
                f"the provider refused the receipt with 500; the API answered {said(response)}, "
                "expected 503")
            assert stored_orders() == [], (
                f"the order got 503, but Postgres has {stored_orders()}; expected no order")

    run(scenario())


@pytest.mark.seam
def test_a_confirmed_order_is_stored_even_when_another_order_fails_meanwhile(
        db_engine, receipts, stored_orders):
    receipts.hold("ada@example.com")
    receipts.refuse("bob@example.com")

    async def scenario():
        async with orders_api(db_engine, receipts) as api:
            ada = asyncio.create_task(api.post("/orders", json=ADA))
            await reaches_the_provider(receipts, "ada@example.com", ada)
            bob = await answer("Bob's order (while Ada's waited for its receipt)",
                               api.post("/orders", json=BOB))
            receipts.release("ada@example.com")
            ada_response = await answer("Ada's order", ada)

            assert bob.status_code == 503, (
                f"Bob's receipt was refused; his order answered {said(bob)}, expected 503")
            assert ada_response.status_code == 201, (
                f"Ada's order was in flight while Bob's failed; it answered {said(ada_response)}, "
                "expected 201")
            ada_id = ada_response.json()["id"]
            rows = stored_orders()
            assert [row[0] for row in rows] == [ada_id], (
                f"Ada's order {ada_id} was confirmed with 201 while Bob's order failed with 503 at "
                f"the same moment; Postgres has {rows or 'no orders'}. Expected exactly Ada's "
                "order: one order's rollback must not undo another order's work.")

    run(scenario())


@pytest.mark.seam
def test_a_failed_order_is_not_stored_even_when_another_order_succeeds_meanwhile(
        db_engine, receipts, stored_orders):
    receipts.hold("ada@example.com")
    receipts.refuse("ada@example.com")

    async def scenario():
        async with orders_api(db_engine, receipts) as api:
            ada = asyncio.create_task(api.post("/orders", json=ADA))
            await reaches_the_provider(receipts, "ada@example.com", ada)
            bob = await answer("Bob's order (while Ada's waited for its receipt)",
                               api.post("/orders", json=BOB))
            receipts.release("ada@example.com")
            ada_response = await answer("Ada's order", ada)

            assert bob.status_code == 201, f"Bob's order answered {said(bob)}, expected 201"
            assert ada_response.status_code == 503, (
                f"Ada's receipt was refused; her order answered {said(ada_response)}, "
                "expected 503")
            rows = stored_orders()
            assert [row[1] for row in rows] == ["bob@example.com"], (
                f"Ada's order failed with 503 (her receipt was refused) while Bob's order was "
                f"confirmed at the same moment; Postgres has {rows}. Expected only Bob's order: "
                "one order's commit must not commit another order's unfinished work.")

    run(scenario())


def test_a_second_order_is_answered_while_the_first_waits_for_its_receipt(
        db_engine, receipts, stored_orders):
    receipts.hold("ada@example.com")

    async def scenario():
        async with orders_api(db_engine, receipts) as api:
            ada = asyncio.create_task(api.post("/orders", json=ADA))
            await reaches_the_provider(receipts, "ada@example.com", ada)
            try:
                bob = await answer(
                    "Bob's order, sent while Ada's was waiting for the mail provider "
                    "(orders must not wait for each other)",
                    api.post("/orders", json=BOB))
            finally:
                receipts.release("ada@example.com")
            ada_response = await answer("Ada's order", ada)

            assert (bob.status_code, ada_response.status_code) == (201, 201), (
                f"Bob's order answered {said(bob)}, Ada's {said(ada_response)}; expected 201 both")
            assert sorted(row[1] for row in stored_orders()) == [
                "ada@example.com", "bob@example.com"], f"Postgres has {stored_orders()}"

    run(scenario())


def test_ten_orders_in_flight_at_once_are_all_confirmed_and_stored(db_engine, receipts,
                                                                   stored_orders):
    customers = [f"customer{i}@example.com" for i in range(10)]
    for email in customers:
        receipts.hold(email)

    async def scenario():
        async with orders_api(db_engine, receipts) as api:
            tasks = [asyncio.create_task(
                api.post("/orders", json={"email": email, "item": "mug", "quantity": 1}))
                for email in customers]
            try:
                for email, task in zip(customers, tasks):  # all ten are in flight together
                    await reaches_the_provider(receipts, email, task)
            finally:
                receipts.release_all()
            responses = [await answer("an order of the ten", task) for task in tasks]

            answered = [r.status_code for r in responses]
            assert answered == [201] * 10, (
                f"ten orders in flight at once answered {answered}; expected 201 each. "
                f"First other answer: {next((said(r) for r in responses if r.status_code != 201), '')}")
            rows = stored_orders()
            assert sorted(row[1] for row in rows) == sorted(customers), (
                f"ten orders were confirmed; Postgres has {len(rows)}: {[row[1] for row in rows]}")
            assert sorted(row[0] for row in rows) == sorted(r.json()["id"] for r in responses), (
                "the ids the API answered are not the ids stored in Postgres")

    run(scenario())


def test_a_stored_order_can_be_read_back_and_an_unknown_one_is_404(db_engine, receipts):
    async def scenario():
        async with orders_api(db_engine, receipts) as api:
            placed = await answer("POST /orders", api.post("/orders", json=ADA))
            assert placed.status_code == 201, f"POST /orders answered {said(placed)}"
            order = placed.json()
            shown = await answer("GET /orders/{id}", api.get(f"/orders/{order['id']}"))
            assert shown.status_code == 200 and shown.json() == order, (
                f"GET /orders/{order['id']} answered {said(shown)}; expected 200 {order}")
            missing = await answer("GET /orders/{id}", api.get(f"/orders/{order['id'] + 1000}"))
            assert missing.status_code == 404, (
                f"GET /orders/{order['id'] + 1000} (no such order) answered {said(missing)}; "
                "expected 404")

    run(scenario())
