"""Signup with an invite code: one account per email, never more signups than the code allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from invites import Account, Invite


class UnknownInvite(Exception):
    pass


class InviteUsedUp(Exception):
    pass


class EmailTaken(Exception):
    pass


class Mailer(Protocol):
    def send_welcome(self, email: str, name: str) -> None: ...


@dataclass(frozen=True)
class NewMember:
    id: int
    email: str
    name: str


def register_with_invite(
    sessions: sessionmaker[Session], mailer: Mailer, *, email: str, name: str, invite_code: str
) -> NewMember:
    """Create the account, use up one invite, send the welcome email: all of it or none of it.

    Three short steps, so that no lock is held while the mail provider takes its time:
    1. reserve: lock the invite row, use one, create the account, commit (milliseconds);
    2. send the welcome email with no transaction open;
    3. if the provider refuses, undo the reservation (delete the account, give the use back).

    Raises UnknownInvite, InviteUsedUp, EmailTaken, or the mailer's error (then nothing is kept).
    """
    email = email.strip().lower()
    member = _reserve(sessions, email=email, name=name, invite_code=invite_code)
    try:
        mailer.send_welcome(email, name)
    except Exception:
        _release(sessions, member.id, invite_code)
        raise
    return member


def _reserve(
    sessions: sessionmaker[Session], *, email: str, name: str, invite_code: str
) -> NewMember:
    with sessions.begin() as session:
        # The lock still guards the counter (the last use goes to exactly one person), but it
        # is now held only for this short transaction.
        invite = session.scalars(
            select(Invite).where(Invite.code == invite_code).with_for_update()
        ).one_or_none()
        if invite is None:
            raise UnknownInvite(invite_code)
        if invite.uses_left <= 0:
            raise InviteUsedUp(invite_code)
        account = Account(email=email, name=name, invite_code=invite_code)
        session.add(account)
        invite.uses_left -= 1
        try:
            session.flush()
        except IntegrityError:
            raise EmailTaken(email) from None
        return NewMember(id=account.id, email=email, name=name)


def _release(sessions: sessionmaker[Session], account_id: int, invite_code: str) -> None:
    """Compensate a reservation whose welcome email failed: as if it never happened."""
    with sessions.begin() as session:
        session.execute(delete(Account).where(Account.id == account_id))
        session.execute(
            update(Invite)
            .where(Invite.code == invite_code)
            .values(uses_left=Invite.uses_left + 1)
        )
