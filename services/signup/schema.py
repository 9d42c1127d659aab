"""Create or drop the sample system's tables."""

from __future__ import annotations

from sqlalchemy import Engine

from signup.models import Base


def create_all(engine: Engine) -> None:
    """Create the tables that do not exist yet (safe to call again)."""
    Base.metadata.create_all(engine)


def drop_all(engine: Engine) -> None:
    Base.metadata.drop_all(engine)
