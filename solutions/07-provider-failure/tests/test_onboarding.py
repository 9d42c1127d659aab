"""Unit tests for onboarding: an in-memory repository and a mocked email provider (respx)."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from onboarding_api import create_app, member_repository, open_session
from welcome_mailer import WelcomeMailer, WelcomeMailFailed

MAIL_URL = "http://mail.test"


class FakeMember:
    def __init__(self, id: int, email: str, name: str) -> None:
        self.id, self.email, self.name = id, email, name


class FakeMemberRepository:
    def __init__(self) -> None:
        self.members: list[FakeMember] = []

    def add(self, email: str, name: str) -> FakeMember:
        member = FakeMember(len(self.members) + 1, email, name)
        self.members.append(member)
        return member


class FakeSession:
    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass


@pytest.fixture
def members():
    return FakeMemberRepository()


@pytest.fixture
def client(members):
    app = create_app(engine=create_engine("sqlite://"), mail_url=MAIL_URL)
    app.dependency_overrides[member_repository] = lambda: members
    app.dependency_overrides[open_session] = lambda: FakeSession()
    with TestClient(app) as client:
        yield client


def test_new_member_gets_201_and_a_welcome_email(client, members, respx_mock):
    send = respx_mock.post(f"{MAIL_URL}/api/emails/send").mock(
        return_value=httpx.Response(202, json={"messageId": "m-1"})
    )
    response = client.post("/members", json={"email": "lin@example.com", "name": "Lin"})
    assert response.status_code == 201
    assert [m.email for m in members.members] == ["lin@example.com"]
    assert send.call_count == 1
    sent = json.loads(send.calls.last.request.content)
    assert sent["to"] == "lin@example.com"
    assert "Lin" in sent["text"]


def test_member_without_a_name_is_rejected_with_422(client, members):
    response = client.post("/members", json={"email": "lin@example.com", "name": ""})
    assert response.status_code == 422
    assert members.members == []


def test_mailer_returns_the_providers_message_id(respx_mock):
    respx_mock.post(f"{MAIL_URL}/api/emails/send").mock(
        return_value=httpx.Response(202, json={"messageId": "m-42"})
    )
    assert WelcomeMailer(MAIL_URL).send_welcome("lin@example.com", "Lin") == "m-42"


def test_mailer_raises_welcome_mail_failed_when_the_provider_refuses(respx_mock):
    respx_mock.post(f"{MAIL_URL}/api/emails/send").mock(
        return_value=httpx.Response(500, json={"error": "internal"})
    )
    with pytest.raises(WelcomeMailFailed):
        WelcomeMailer(MAIL_URL).send_welcome("lin@example.com", "Lin")
