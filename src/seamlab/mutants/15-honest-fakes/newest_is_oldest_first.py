# mutates: memory_customers.py
"""The fake lists customers in the order they were added (oldest first), not newest first."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from customers import Customer, DuplicateEmail


class InMemoryCustomers:
    def __init__(self) -> None:
        self._rows: dict[int, Customer] = {}
        self._next_id = 1

    def add(self, email: str, name: str) -> Customer:
        if any(row.email.lower() == email.lower() for row in self._rows.values()):
            raise DuplicateEmail(email)
        customer = Customer(id=self._next_id, email=email, name=name,
                            created_at=dt.datetime.now(dt.UTC))
        self._next_id += 1
        self._rows[customer.id] = customer
        return copy.copy(customer)

    def get(self, customer_id: int) -> Customer | None:
        row = self._rows.get(customer_id)
        return None if row is None else copy.copy(row)

    def by_email(self, email: str) -> Customer | None:
        for row in self._rows.values():
            if row.email.lower() == email.lower():
                return copy.copy(row)
        return None

    def newest(self, limit: int = 10) -> list[Customer]:
        rows = list(self._rows.values())  # a dict keeps insertion order
        return [copy.copy(row) for row in rows[:limit]]

    @contextmanager
    def atomic(self) -> Iterator[None]:
        saved = dict(self._rows)  # the rows themselves are never changed in place
        try:
            yield
        except BaseException:
            self._rows = saved  # like ROLLBACK; ids are not reused (nor are Postgres's)
            raise
