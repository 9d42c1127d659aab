"""Stores members in Postgres. The caller owns the transaction: it commits once the welcome
email is on its way, and rolls back when it is not."""

from __future__ import annotations

from sqlalchemy.orm import Session

from member_tables import Member


class MemberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, email: str, name: str) -> Member:
        member = Member(email=email, name=name)
        self.session.add(member)
        self.session.flush()
        return member
