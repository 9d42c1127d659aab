"""The bottom half of the sandwich: the repository, tested against the real Postgres."""

from __future__ import annotations

from directory_repo import DirectoryRepository
from sqlalchemy import text


def test_a_first_page_lists_the_oldest_users_first(directory_engine):
    repository = DirectoryRepository(directory_engine)
    names = ["Ada", "Grace", "Edsger"]
    for name in names:
        repository.add(name, f"{name.lower()}@example.com")

    page = repository.users_page(limit=2)

    assert [user.name for user in page] == ["Ada", "Grace"]


def test_users_created_at_the_same_instant_are_ordered_by_id_and_not_skipped(directory_engine):
    with directory_engine.begin() as connection:  # one transaction: one now() for all three
        connection.execute(
            text(
                "INSERT INTO directory_users (name, email) "
                "VALUES ('Ada', 'ada@x.org'), ('Grace', 'grace@x.org'), ('Edsger', 'e@x.org')"
            )
        )
    repository = DirectoryRepository(directory_engine)
    first = repository.users_page(limit=1)[0]

    rest = repository.users_page(limit=10, after=first.created_at, after_id=first.id)

    assert [user.name for user in rest] == ["Grace", "Edsger"]
