"""Middle-out: DirectoryService with the real repository on the real Postgres.

The API was tested with a stubbed service and the repository on its own; these tests put the
service between the real repository and real data, where the two halves meet.
"""

from __future__ import annotations

from directory_repo import DirectoryRepository
from directory_service import DirectoryService
from sqlalchemy import text


def seed_in_one_transaction(engine, count: int) -> list[int]:
    """``count`` users inserted together: they all get the same created_at (one now())."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO directory_users (name, email) "
                "SELECT 'User ' || g, 'user' || g || '@example.com' "
                "FROM generate_series(1, :count) AS g"
            ),
            {"count": count},
        )
        rows = connection.execute(text("SELECT id FROM directory_users ORDER BY created_at, id"))
        return [row.id for row in rows]


def page_through(service: DirectoryService, limit: int) -> list[int]:
    seen, cursor = [], None
    for _ in range(100):
        page = service.page(cursor, limit)
        seen += [user.id for user in page.users]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError(f"still a next_cursor after 100 pages; saw {len(seen)} users")


def test_paging_through_the_real_repository_returns_every_user_once(directory_engine):
    expected = seed_in_one_transaction(directory_engine, 23)
    service = DirectoryService(DirectoryRepository(directory_engine))

    assert page_through(service, limit=5) == expected


def test_users_added_one_by_one_page_in_the_order_they_were_added(directory_engine):
    repository = DirectoryRepository(directory_engine)
    added = [repository.add(f"User {i}", f"u{i}@example.com").id for i in range(7)]

    assert page_through(DirectoryService(repository), limit=3) == added
