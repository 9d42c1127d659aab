"""The production adapter: customers in Postgres (SQLAlchemy 2 Core, psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from customers import Customer, DuplicateEmail

metadata = sa.MetaData()

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)
# Unique ignoring case: the index is on lower(email), so Ada@ and ada@ collide.
sa.Index("customers_email_lower_key", sa.func.lower(customers.c.email), unique=True)


class PostgresCustomers:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._connection: sa.Connection | None = None  # inside atomic()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        if self._connection is not None:  # nested: a savepoint inside the outer transaction
            with self._connection.begin_nested():
                yield
            return
        with self._engine.begin() as connection:
            self._connection = connection
            try:
                yield
            finally:
                self._connection = None

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        if self._connection is not None:
            yield self._connection
        else:
            with self._engine.begin() as connection:
                yield connection

    def add(self, email: str, name: str) -> Customer:
        with self._connect() as connection:
            try:
                with connection.begin_nested():  # a refused row leaves the transaction usable
                    row = connection.execute(
                        customers.insert().values(email=email, name=name).returning(customers)
                    ).one()
            except sa.exc.IntegrityError:
                raise DuplicateEmail(email) from None
        return Customer(**row._mapping)

    def get(self, customer_id: int) -> Customer | None:
        return self._one(customers.c.id == customer_id)

    def by_email(self, email: str) -> Customer | None:
        return self._one(sa.func.lower(customers.c.email) == email.lower())

    def newest(self, limit: int = 10) -> list[Customer]:
        query = (sa.select(customers)
                 .order_by(customers.c.created_at.desc(), customers.c.id.desc()).limit(limit))
        with self._connect() as connection:
            return [Customer(**row._mapping) for row in connection.execute(query)]

    def _one(self, condition) -> Customer | None:
        with self._connect() as connection:
            row = connection.execute(sa.select(customers).where(condition)).one_or_none()
        return None if row is None else Customer(**row._mapping)
