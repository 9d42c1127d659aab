"""Stores accounts in Postgres. The email column is unique, so Postgres guards against doubles."""

from __future__ import annotations

from psycopg.errors import UniqueViolation
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from account_tables import Account


class DuplicateEmail(Exception):
    """An account with this email address already exists."""

    def __init__(self, email: str) -> None:
        super().__init__(f"an account with {email} already exists")
        self.email = email


def normalize_email(email: str) -> str:
    """One spelling per mailbox: ``Ada@Example.com`` and ``ada@example.com`` are one address."""
    return email.strip().lower()


class AccountRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, email: str, name: str) -> Account:
        account = Account(email=normalize_email(email), name=name)
        try:
            # A savepoint: if Postgres refuses the row, only the savepoint is rolled back and
            # the session's transaction stays usable for the audit entry that follows.
            with self.session.begin_nested():
                self.session.add(account)
        except IntegrityError as exc:
            if isinstance(exc.orig, UniqueViolation):
                raise DuplicateEmail(email) from exc
            raise
        return account
