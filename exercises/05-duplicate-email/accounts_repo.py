"""Stores accounts in Postgres. The email column is unique, so Postgres guards against doubles."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from account_tables import Account


class DuplicateEmail(Exception):
    """An account with this email address already exists."""

    def __init__(self, email: str) -> None:
        super().__init__(f"an account with {email} already exists")
        self.email = email


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, email: str, name: str) -> Account:
        account = Account(email=email, name=name)
        self.session.add(account)
        try:
            self.session.flush()
        except IntegrityError as exc:
            raise DuplicateEmail(email) from exc
        return account
