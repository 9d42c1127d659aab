"""Orders in Postgres, through SQLAlchemy's AsyncSession."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from order_tables import Order


class OrderStore:
    """Adds and reads orders; the caller decides when to commit or roll back."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, email: str, item: str, quantity: int) -> Order:
        """Add an order (not committed yet) and return it with its id."""
        order = Order(email=email, item=item, quantity=quantity)
        self.session.add(order)
        await self.session.flush()  # Postgres gives the order its id
        return order

    async def get(self, order_id: int) -> Order | None:
        return await self.session.get(Order, order_id)

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
