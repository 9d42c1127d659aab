"""The customer repository port: what every implementation promises (the contract).

The service code depends on this, never on Postgres. Two implementations keep it:
``postgres_customers.PostgresCustomers`` (production) and ``memory_customers.InMemoryCustomers``
(the fake the service's unit tests use). The promises, in words:

- ``add(email, name)`` stores a new customer and returns it with an ``id`` and a ``created_at``.
  An address is unique *ignoring case*: adding ``Ada@Example.com`` when ``ada@example.com`` is
  stored raises ``DuplicateEmail``. The address is kept as typed.
- ``get(id)`` and ``by_email(email)`` (any case) return the customer, or ``None``.
- ``newest(limit)`` lists customers newest first (ties broken by the higher id first).
- ``created_at`` is a time-zone-aware ``datetime`` (the moment of ``add``).
- Every customer handed out is the caller's own copy: changing its fields changes nothing stored.
- ``with repo.atomic():`` is all or nothing: if the block raises, none of its writes are kept.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass
class Customer:
    id: int
    email: str
    name: str
    created_at: dt.datetime


class DuplicateEmail(Exception):
    """Another customer already has this address (in any mix of upper and lower case)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"{email} is already a customer")
        self.email = email


class Customers(Protocol):
    def add(self, email: str, name: str) -> Customer: ...

    def get(self, customer_id: int) -> Customer | None: ...

    def by_email(self, email: str) -> Customer | None: ...

    def newest(self, limit: int = 10) -> list[Customer]: ...

    def atomic(self) -> AbstractContextManager[None]: ...
