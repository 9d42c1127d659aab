"""Yours: middle-out tests for DirectoryService, with the real repository on the real Postgres.

The API was tested with a stubbed service and the repository on its own; nothing tests the
service with the real repository under it. Write that test here: seed users the way real data
looks (for example many users inserted in one transaction), page through them with the service,
and check that every user comes back exactly once, in order. The `directory_engine` fixture
(tests/conftest.py) gives you the engine on an empty `directory_users` table.
"""


def test_paging_through_the_real_repository_returns_every_user_once(directory_engine):
    # TODO: seed users, page through DirectoryService(DirectoryRepository(directory_engine)),
    #       and compare the ids you saw with the ids in the table.
    pass
