"""The top half of the sandwich: the HTTP API, with the service stubbed."""

from __future__ import annotations

from datetime import UTC, datetime

from directory_api import create_api
from directory_repo import DirectoryUser
from directory_service import InvalidCursor, UserPage
from fastapi.testclient import TestClient

ADA = DirectoryUser(1, "Ada", "ada@example.com", datetime(2024, 3, 1, 9, 0, tzinfo=UTC))


class StubService:
    def __init__(self) -> None:
        self.calls = []

    def page(self, cursor, limit):
        self.calls.append((cursor, limit))
        if cursor == "bad":
            raise InvalidCursor("'bad' is not a cursor this directory issued")
        if cursor is None:
            return UserPage(users=[ADA], next_cursor="page-2")
        return UserPage(users=[], next_cursor=None)


def test_the_first_page_carries_a_cursor_for_the_next_one():
    service = StubService()
    client = TestClient(create_api(service))

    body = client.get("/users", params={"limit": 1}).json()

    assert body["users"][0]["email"] == "ada@example.com"
    assert body["next_cursor"] == "page-2"
    assert service.calls == [(None, 1)]


def test_the_cursor_is_passed_to_the_service_as_it_came():
    service = StubService()
    client = TestClient(create_api(service))

    body = client.get("/users", params={"cursor": "page-2", "limit": 5}).json()

    assert body == {"users": [], "next_cursor": None}
    assert service.calls == [("page-2", 5)]


def test_a_cursor_the_service_refuses_is_a_400():
    client = TestClient(create_api(StubService()))

    response = client.get("/users", params={"cursor": "bad"})

    assert response.status_code == 400
