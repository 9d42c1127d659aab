"""The shop's order API (async FastAPI): `POST /orders`, `GET /orders/{id}`.

An order is stored and its receipt emailed in one go: when the receipt cannot be sent, the
order is rolled back and the client gets 503, so the customer can simply try again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from order_store import OrderStore
from receipt_mailer import ReceiptFailed, ReceiptMailer


class OrderForm(BaseModel):
    email: str = Field(min_length=3)
    item: str = Field(min_length=1)
    quantity: int = Field(gt=0)


async def get_store(request: Request) -> AsyncIterator[OrderStore]:
    """The order store for a request, on a session of its own (the unit tests replace it with a
    fake). An AsyncSession is one transaction on one connection: never share it between
    requests that are in flight at the same time. The session is closed when the request ends
    (whatever was not committed is rolled back)."""
    async with request.app.state.sessions() as session:
        yield OrderStore(session)


def get_mailer(request: Request) -> ReceiptMailer:
    return request.app.state.mailer


def create_app(engine: AsyncEngine, mail_url: str) -> FastAPI:
    app = FastAPI(title="orders")
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    # A session factory for the app; each request opens its own session (get_store).
    app.state.sessions = sessions
    app.state.mailer = ReceiptMailer(mail_url)

    @app.post("/orders", status_code=201)
    async def place_order(
        form: OrderForm,
        store: OrderStore = Depends(get_store),
        mailer: ReceiptMailer = Depends(get_mailer),
    ) -> dict:
        order = await store.add(form.email, form.item, form.quantity)
        try:
            await mailer.send_receipt(order.email, order.id, order.item, order.quantity)
        except ReceiptFailed:
            await store.rollback()
            raise HTTPException(503, "we could not confirm your order; please try again") from None
        await store.commit()
        return {"id": order.id, "email": order.email, "item": order.item,
                "quantity": order.quantity}

    @app.get("/orders/{order_id}")
    async def show_order(order_id: int, store: OrderStore = Depends(get_store)) -> dict:
        order = await store.get(order_id)
        if order is None:
            raise HTTPException(404, f"no order {order_id}")
        return {"id": order.id, "email": order.email, "item": order.item,
                "quantity": order.quantity}

    return app
