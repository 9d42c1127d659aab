"""Signup with an invite code: one account per email, never more signups than the code allows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
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

    Raises UnknownInvite, InviteUsedUp, EmailTaken, or the mailer's error (then nothing is kept).
    """
    email = email.strip().lower()
    with sessions.begin() as session:
        # Lock the invite row: two people signing up with the last use of a code at the same
        # moment must not both get in.
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
        # Still inside the transaction: if the provider refuses the email, the account and the
        # invite use roll back together and the person can simply try again.
        mailer.send_welcome(email, name)
        return NewMember(id=account.id, email=email, name=name)
