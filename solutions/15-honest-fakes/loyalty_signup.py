"""The loyalty-card signup: the service code, written against the repository port only."""

from __future__ import annotations

from dataclasses import dataclass

from customers import Customers, DuplicateEmail


@dataclass(frozen=True)
class SignupResult:
    created: bool
    customer_id: int
    message: str


def sign_up(customers: Customers, email: str, name: str) -> SignupResult:
    """Give a new customer a loyalty card; an address already known gets the existing card."""
    email, name = email.strip(), name.strip()
    try:
        with customers.atomic():
            customer = customers.add(email, name)
    except DuplicateEmail:
        existing = customers.by_email(email)
        return SignupResult(False, existing.id, f"{email} already has a card")
    return SignupResult(True, customer.id, f"Welcome, {customer.name}!")
