"""Unit tests for the sign-up endpoint, with an in-memory repository and audit trail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from accounts_repo import DuplicateEmail
from registration_api import account_repository, create_app, open_session, signup_audit


class FakeAccount:
    def __init__(self, id: int, email: str, name: str) -> None:
        self.id, self.email, self.name = id, email, name


class FakeAccountRepository:
    def __init__(self) -> None:
        self.accounts: dict[str, FakeAccount] = {}

    def add(self, email: str, name: str) -> FakeAccount:
        if email in self.accounts:
            raise DuplicateEmail(email)
        account = FakeAccount(len(self.accounts) + 1, email, name)
        self.accounts[email] = account
        return account


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []

    def record(self, email: str, outcome: str, reason: str | None = None) -> None:
        self.entries.append((email, outcome))


class FakeSession:
    def __init__(self) -> None:
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass


@pytest.fixture
def fakes():
    accounts, audit, session = FakeAccountRepository(), FakeAudit(), FakeSession()
    app = create_app(engine=_unused_engine())
    app.dependency_overrides[account_repository] = lambda: accounts
    app.dependency_overrides[signup_audit] = lambda: audit
    app.dependency_overrides[open_session] = lambda: session
    with TestClient(app) as client:
        yield client, accounts, audit, session


def _unused_engine():
    from sqlalchemy import create_engine

    return create_engine("sqlite://")


def test_new_signup_is_created_with_201(fakes):
    client, accounts, _, _ = fakes
    response = client.post("/signups", json={"email": "ada@example.com", "name": "Ada"})
    assert response.status_code == 201
    assert response.json()["email"] == "ada@example.com"
    assert "ada@example.com" in accounts.accounts


def test_second_signup_with_the_same_email_is_refused_with_409(fakes):
    client, _, _, _ = fakes
    client.post("/signups", json={"email": "ada@example.com", "name": "Ada"})
    response = client.post("/signups", json={"email": "ada@example.com", "name": "Ada L."})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_refused_signup_is_written_to_the_audit_trail(fakes):
    client, _, audit, session = fakes
    client.post("/signups", json={"email": "ada@example.com", "name": "Ada"})
    client.post("/signups", json={"email": "ada@example.com", "name": "Ada L."})
    assert audit.entries == [("ada@example.com", "created"), ("ada@example.com", "rejected")]
    assert session.commits == 2


def test_signup_without_a_name_is_rejected_with_422(fakes):
    client, accounts, _, _ = fakes
    response = client.post("/signups", json={"email": "ada@example.com", "name": ""})
    assert response.status_code == 422
    assert accounts.accounts == {}
