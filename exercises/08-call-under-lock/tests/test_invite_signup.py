"""Unit tests for the signup rules, on an in-memory SQLite database and a fake mailer."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from invite_signup import EmailTaken, InviteUsedUp, UnknownInvite, register_with_invite
from invites import Account, Base, Invite
from welcome_mail import MailUnavailable


class FakeMailer:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[tuple[str, str]] = []

    def send_welcome(self, email: str, name: str) -> None:
        if self.fail:
            raise MailUnavailable("provider down (fake)")
        self.sent.append((email, name))


@pytest.fixture
def sessions():
    engine = sa.create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory.begin() as session:
        session.add_all([Invite(code="MAKERS", uses_left=2), Invite(code="SPENT", uses_left=0)])
    yield factory
    engine.dispose()


def uses_left(sessions, code):
    with sessions() as session:
        return session.get(Invite, code).uses_left


def account_emails(sessions):
    with sessions() as session:
        return sorted(session.scalars(sa.select(Account.email)))


def test_signup_creates_the_account_and_uses_one_invite(sessions):
    mailer = FakeMailer()
    member = register_with_invite(
        sessions, mailer, email="Ada@Example.org", name="Ada", invite_code="MAKERS"
    )
    assert member.email == "ada@example.org"
    assert account_emails(sessions) == ["ada@example.org"]
    assert uses_left(sessions, "MAKERS") == 1
    assert mailer.sent == [("ada@example.org", "Ada")]


def test_the_last_use_of_an_invite_admits_exactly_one_more_member(sessions):
    mailer = FakeMailer()
    register_with_invite(sessions, mailer, email="a@example.org", name="A", invite_code="MAKERS")
    register_with_invite(sessions, mailer, email="b@example.org", name="B", invite_code="MAKERS")
    with pytest.raises(InviteUsedUp):
        register_with_invite(
            sessions, mailer, email="c@example.org", name="C", invite_code="MAKERS"
        )
    assert uses_left(sessions, "MAKERS") == 0
    assert account_emails(sessions) == ["a@example.org", "b@example.org"]


def test_a_used_up_invite_is_refused(sessions):
    with pytest.raises(InviteUsedUp):
        register_with_invite(
            sessions, FakeMailer(), email="d@example.org", name="D", invite_code="SPENT"
        )


def test_an_unknown_invite_is_refused(sessions):
    with pytest.raises(UnknownInvite):
        register_with_invite(
            sessions, FakeMailer(), email="e@example.org", name="E", invite_code="NOPE"
        )


def test_an_email_gets_one_account_only(sessions):
    register_with_invite(
        sessions, FakeMailer(), email="f@example.org", name="F", invite_code="MAKERS"
    )
    with pytest.raises(EmailTaken):
        register_with_invite(
            sessions, FakeMailer(), email="F@example.org", name="F again", invite_code="MAKERS"
        )
    assert uses_left(sessions, "MAKERS") == 1


def test_a_refused_welcome_email_keeps_neither_account_nor_invite_use(sessions):
    with pytest.raises(MailUnavailable):
        register_with_invite(
            sessions, FakeMailer(fail=True), email="g@example.org", name="G", invite_code="MAKERS"
        )
    assert account_emails(sessions) == []
    assert uses_left(sessions, "MAKERS") == 2
