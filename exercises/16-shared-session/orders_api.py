"""The shop's order API (async FastAPI): `POST /orders`, `GET /orders/{id}`.

An order is stored and its receipt emailed in one go: when the receipt cannot be sent, the
order is rolled back and the client gets 503, so the customer can simply try again.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from order_store import OrderStore
from receipt_mailer import ReceiptFailed, ReceiptMailer


class OrderForm(BaseModel):
    email: str = Field(min_length=3)
    item: str = Field(min_length=1)
    quantity: int = Field(gt=0)


def get_store(request: Request) -> OrderStore:
    """The order store for a request (the unit tests replace it with a fake)."""
    return request.app.state.store


def get_mailer(request: Request) -> ReceiptMailer:
    return request.app.state.mailer


def create_app(engine: AsyncEngine, mail_url: str) -> FastAPI:
    app = FastAPI(title="orders")
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    # One session for the app, opened once: a session per request showed up in the profile.
    app.state.store = OrderStore(sessions())
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
