"""Users in Postgres, through a SQLAlchemy session the caller owns (and commits)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from signup.models import User


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *, email: str, name: str, password_hash: str) -> User:
        """Insert a user and flush, so the id, ``created_at`` and uniqueness are known now.

        A duplicate email (in any letter case) raises ``sqlalchemy.exc.IntegrityError``.
        """
        user = User(email=email, name=name, password_hash=password_hash)
        self.session.add(user)
        self.session.flush()
        self.session.refresh(user)  # created_at is filled in by the server
        return user

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def find_by_email(self, email: str) -> User | None:
        """The user with this email, whatever its letter case."""
        statement = select(User).where(func.lower(User.email) == email.strip().lower())
        return self.session.scalars(statement).one_or_none()

    def rename(self, user_id: int, name: str) -> User | None:
        user = self.get(user_id)
        if user is not None:
            user.name = name
            self.session.flush()
        return user
