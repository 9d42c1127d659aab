"""The tables: SQLAlchemy 2 typed ORM models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stored as typed; unique regardless of letter case (see the index below).
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("uq_users_email_lower", func.lower(email), unique=True),)

    def to_public(self) -> dict[str, object]:
        """What the API shows about a user: never the password or its hash."""
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "created_at": self.created_at.isoformat(),
        }

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, email={self.email!r})"
