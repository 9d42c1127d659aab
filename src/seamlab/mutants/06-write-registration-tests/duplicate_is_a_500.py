# mutates: users_repo.py
"""The unique violation from Postgres is not turned into EmailTaken: a duplicate gets 500, not 409."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.orm import Session
from user_tables import User


class EmailTaken(Exception):
    """Someone already registered with this address."""

    def __init__(self, email: str) -> None:
        super().__init__(f"{email} is already registered")
        self.email = email


def normalize_email(email: str) -> str:
    return email.strip().lower()


#: Low so that the course's test runs stay fast; a production service would use far more.
HASH_ITERATIONS = 20_000


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, HASH_ITERATIONS)
    return f"pbkdf2_sha256${HASH_ITERATIONS}${salt.hex()}${digest.hex()}"


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, email: str, name: str, password: str) -> User:
        """Stage a new user (flushed, not committed): raises EmailTaken for a known address."""
        user = User(email=normalize_email(email), name=name, password_hash=hash_password(password))
        self.session.add(user)
        self.session.flush()
        return user
