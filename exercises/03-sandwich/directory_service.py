"""The directory's use cases: pages of users, with an opaque cursor for the next page."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from directory_repo import DirectoryUser


class InvalidCursor(ValueError):
    """The cursor was not issued by this service (edited, truncated, from another API)."""


class UserSource(Protocol):
    def users_page(
        self, limit: int, after: datetime | None = None, after_id: int | None = None
    ) -> list[DirectoryUser]: ...


@dataclass(frozen=True)
class UserPage:
    users: list[DirectoryUser]
    next_cursor: str | None


class DirectoryService:
    def __init__(self, users: UserSource) -> None:
        self.users = users

    def page(self, cursor: str | None, limit: int) -> UserPage:
        """One page of users, oldest first; ``next_cursor`` is None after the last page."""
        after = decode_cursor(cursor) if cursor else None
        users = self.users.users_page(limit=limit, after=after)
        next_cursor = encode_cursor(users[-1]) if len(users) == limit else None
        return UserPage(users=users, next_cursor=next_cursor)


def encode_cursor(last: DirectoryUser) -> str:
    """Where the next page starts: just after the last user shown."""
    return base64.urlsafe_b64encode(last.created_at.isoformat().encode()).decode()


def decode_cursor(cursor: str) -> datetime:
    try:
        return datetime.fromisoformat(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor(f"{cursor!r} is not a cursor this directory issued") from None
