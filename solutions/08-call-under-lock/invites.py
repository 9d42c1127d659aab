"""The community's tables: invite codes with a limited number of uses, and member accounts."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from seamlab.config import Settings


class Base(DeclarativeBase):
    pass


class Invite(Base):
    """An invite code a member shares; each signup with it uses one of ``uses_left``."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    uses_left: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    __table_args__ = (sa.CheckConstraint("uses_left >= 0", name="invites_uses_left_not_negative"),)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    invite_code: Mapped[str] = mapped_column(sa.ForeignKey("invites.code"), nullable=False)
    joined_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, default=lambda: datetime.now(timezone.utc)
    )


#: Longest a statement may wait for a row lock before Postgres gives up (error 55P03).
LOCK_TIMEOUT = "1s"


def make_engine(settings: Settings) -> sa.Engine:
    """The engine the web app uses, pointed wherever the TEST_* settings say.

    Every connection gets a ``lock_timeout``: a signup that cannot get the invite row within a
    second fails fast (503, try again) instead of queueing behind others without limit.
    """
    return sa.create_engine(
        settings.db_url(),
        pool_pre_ping=True,
        connect_args={"options": f"-c lock_timeout={LOCK_TIMEOUT}"},
    )
