"""Unit tests for the order API: a fake order store and a mocked email provider (respx).

They run on the event loop with anyio's pytest plugin (`@pytest.mark.anyio`) and call the app
in-process through httpx's ASGITransport.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from orders_api import create_app, get_store
from receipt_mailer import ReceiptFailed, ReceiptMailer

MAIL_URL = "http://mail.test"
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


class FakeOrder:
    def __init__(self, id: int, email: str, item: str, quantity: int) -> None:
        self.id, self.email, self.item, self.quantity = id, email, item, quantity


class FakeOrderStore:
    def __init__(self) -> None:
        self.pending: list[FakeOrder] = []
        self.committed: list[FakeOrder] = []

    async def add(self, email: str, item: str, quantity: int) -> FakeOrder:
        order = FakeOrder(len(self.pending) + len(self.committed) + 1, email, item, quantity)
        self.pending.append(order)
        return order

    async def get(self, order_id: int) -> FakeOrder | None:
        return next((o for o in self.committed if o.id == order_id), None)

    async def commit(self) -> None:
        self.committed += self.pending
        self.pending = []

    async def rollback(self) -> None:
        self.pending = []


@pytest.fixture
def store():
    return FakeOrderStore()


@pytest.fixture
async def api(store):
    app = create_app(engine=None, mail_url=MAIL_URL)
    app.dependency_overrides[get_store] = lambda: store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders.test") as client:
        yield client


def provider_accepts(respx_mock):
    return respx_mock.post(f"{MAIL_URL}/api/emails/send").mock(
        return_value=httpx.Response(202, json={"messageId": "m-1"}))


ADA = {"email": "ada@example.com", "item": "teapot", "quantity": 2}
BOB = {"email": "bob@example.com", "item": "kettle", "quantity": 1}


async def test_an_order_gets_201_is_committed_and_its_receipt_is_sent(api, store, respx_mock):
    send = provider_accepts(respx_mock)

    response = await api.post("/orders", json=ADA)

    assert response.status_code == 201
    assert [o.email for o in store.committed] == ["ada@example.com"]
    sent = json.loads(send.calls.last.request.content)
    assert sent["to"] == "ada@example.com"
    assert f"#{response.json()['id']}" in sent["subject"]


async def test_an_order_whose_receipt_fails_gets_503_and_is_rolled_back(api, store, respx_mock):
    respx_mock.post(f"{MAIL_URL}/api/emails/send").mock(return_value=httpx.Response(500))

    response = await api.post("/orders", json=ADA)

    assert response.status_code == 503
    assert store.committed == [] and store.pending == []


async def test_two_orders_placed_at_once_are_both_confirmed(api, store, respx_mock):
    provider_accepts(respx_mock)

    first, second = await asyncio.gather(api.post("/orders", json=ADA),
                                         api.post("/orders", json=BOB))

    assert (first.status_code, second.status_code) == (201, 201)
    assert sorted(o.email for o in store.committed) == ["ada@example.com", "bob@example.com"]


async def test_a_stored_order_can_be_read_back(api, store, respx_mock):
    provider_accepts(respx_mock)
    placed = (await api.post("/orders", json=ADA)).json()

    response = await api.get(f"/orders/{placed['id']}")

    assert response.status_code == 200
    assert response.json() == placed


async def test_an_order_without_a_quantity_is_rejected_with_422(api, store):
    response = await api.post("/orders", json={"email": "ada@example.com", "item": "teapot",
                                               "quantity": 0})

    assert response.status_code == 422
    assert store.pending == [] and store.committed == []


async def test_the_mailer_raises_receipt_failed_when_the_provider_refuses(respx_mock):
    respx_mock.post(f"{MAIL_URL}/api/emails/send").mock(return_value=httpx.Response(503))

    with pytest.raises(ReceiptFailed):
        await ReceiptMailer(MAIL_URL).send_receipt("ada@example.com", 1, "teapot", 2)
