"""The directory service, with the repository replaced by a list (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from directory_repo import DirectoryUser
from directory_service import DirectoryService, InvalidCursor

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


class ListOfUsers:
    """Stands in for DirectoryRepository: users kept in a list, filtered like the query
    (including the tie-break on id, which the real repository applies)."""

    def __init__(self, count: int) -> None:
        self.users = [
            DirectoryUser(i, f"user {i}", f"user{i}@example.com", START + timedelta(minutes=i))
            for i in range(1, count + 1)
        ]

    def users_page(self, limit, after=None, after_id=None):
        chosen = [
            u
            for u in self.users
            if after is None
            or u.created_at > after
            or (after_id is not None and u.created_at == after and u.id > after_id)
        ]
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


def test_users_that_share_a_created_at_are_not_lost_between_pages():
    users = ListOfUsers(5)
    users.users = [
        DirectoryUser(u.id, u.name, u.email, START) for u in users.users
    ]  # five users, one instant
    service = DirectoryService(users)

    first = service.page(None, 2)
    second = service.page(first.next_cursor, 2)
    third = service.page(second.next_cursor, 2)

    assert [u.id for p in (first, second, third) for u in p.users] == [1, 2, 3, 4, 5]
