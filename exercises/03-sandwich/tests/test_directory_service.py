"""The directory service, with the repository replaced by a list (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from directory_repo import DirectoryUser
from directory_service import DirectoryService, InvalidCursor

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class ListOfUsers:
    """Stands in for DirectoryRepository: users kept in a list, filtered like the query."""

    def __init__(self, count: int) -> None:
        self.users = [
            DirectoryUser(i, f"user {i}", f"user{i}@example.com", START + timedelta(minutes=i))
            for i in range(1, count + 1)
        ]

    def users_page(self, limit, after=None, after_id=None):
        chosen = [u for u in self.users if after is None or u.created_at > after]
        return chosen[:limit]


def test_pages_follow_each_other_without_gaps():
    service = DirectoryService(ListOfUsers(7))

    first = service.page(None, 3)
    second = service.page(first.next_cursor, 3)
    third = service.page(second.next_cursor, 3)

    seen = [u.id for page in (first, second, third) for u in page.users]
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert third.next_cursor is None


def test_a_cursor_that_was_edited_is_refused():
    with pytest.raises(InvalidCursor):
        DirectoryService(ListOfUsers(3)).page("not-a-cursor", 3)
