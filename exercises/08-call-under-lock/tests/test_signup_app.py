"""The HTTP layer: status codes for each outcome (SQLite and a fake mailer behind it)."""

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from invites import Base, Invite
from seamlab.config import Settings
from signup_app import create_app
from welcome_mail import MailUnavailable


class FakeMailer:
    def __init__(self) -> None:
        self.fail = False

    def send_welcome(self, email: str, name: str) -> None:
        if self.fail:
            raise MailUnavailable("provider down (fake)")


@pytest.fixture
def mailer():
    return FakeMailer()


@pytest.fixture
def client(mailer):
    engine = sa.create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add(Invite(code="MAKERS", uses_left=1))
    with TestClient(create_app(Settings(), engine=engine, mailer=mailer)) as client:
        yield client
    engine.dispose()


def signup(client, email, code="MAKERS"):
    return client.post("/signup", json={"email": email, "name": "Sam", "invite_code": code})


def test_a_signup_answers_201_with_the_new_account(client):
    response = signup(client, "sam@example.org")
    assert response.status_code == 201
    assert response.json()["email"] == "sam@example.org"


def test_an_unknown_invite_answers_404(client):
    assert signup(client, "sam@example.org", code="NOPE").status_code == 404


def test_a_used_up_invite_answers_410(client):
    assert signup(client, "sam@example.org").status_code == 201
    assert signup(client, "kim@example.org").status_code == 410


def test_a_taken_email_answers_409(client):
    with Session(client.app.state.engine) as session, session.begin():
        session.get(Invite, "MAKERS").uses_left = 5
    assert signup(client, "sam@example.org").status_code == 201
    assert signup(client, "sam@example.org").status_code == 409


def test_a_failed_welcome_email_answers_503(client, mailer):
    mailer.fail = True
    response = signup(client, "sam@example.org")
    assert response.status_code == 503
    assert "try again" in response.json()["detail"]
