"""The makerspace wishlist: members wish for tools; the most wished-for get bought first.

Every function here owns its transaction: it commits what it did (or rolls back and raises), as
the web handlers that call it expect.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from wish_cache import WishCache


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)


class Wish(Base):
    __tablename__ = "wishes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    tool: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    wished_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=lambda: datetime.now(UTC)
    )

    __table_args__ = (sa.UniqueConstraint("member_id", "tool", name="one_wish_per_tool"),)


class AlreadyMember(Exception):
    pass


class AlreadyWished(Exception):
    pass


class NotAMember(Exception):
    pass


def join(session: Session, email: str) -> int:
    """Add a member; return their id. Raises AlreadyMember (and changes nothing) if taken."""
    member = Member(email=email.strip().lower())
    session.add(member)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyMember(email) from None
    return member.id


def add_wish(session: Session, cache: WishCache, email: str, tool: str) -> None:
    """Record that a member wishes for a tool, once per member and tool."""
    member = _member(session, email)
    session.add(Wish(member_id=member.id, tool=tool))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyWished(f"{email} already wished for {tool}") from None
    cache.forget_wishes(member.email)
    cache.count_wish(tool)


def wishes_of(session: Session, cache: WishCache, email: str) -> list[str]:
    """A member's wishes, oldest first (cached for a few minutes)."""
    cached = cache.wishes(email.strip().lower())
    if cached is not None:
        return cached
    member = _member(session, email)
    tools = list(
        session.scalars(sa.select(Wish.tool).where(Wish.member_id == member.id).order_by(Wish.id))
    )
    cache.remember_wishes(member.email, tools)
    return tools


def leave(session: Session, cache: WishCache, email: str) -> None:
    """Remove a member and their wishes (the popularity counts keep their history)."""
    member = _member(session, email)
    session.delete(member)
    session.commit()
    cache.forget_wishes(member.email)


def member_count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Member))


def _member(session: Session, email: str) -> Member:
    member = session.scalar(sa.select(Member).where(Member.email == email.strip().lower()))
    if member is None:
        raise NotAMember(email)
    return member
