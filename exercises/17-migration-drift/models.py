"""The newsletter's tables, as the code sees them (SQLAlchemy 2 Core).

Production never runs ``create_all``: its schema is built by the Alembic migrations in
``migrations/versions/``. The two must describe the same tables.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

subscribers = sa.Table(
    "subscribers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    # Added in the spring: every subscriber is on a plan; people who signed up before, too.
    sa.Column("plan", sa.Text, nullable=False, server_default="free"),
)
# One subscription per address, whatever its case: Ada@Example.com is ada@example.com.
sa.Index("subscribers_email_lower_key", sa.func.lower(subscribers.c.email), unique=True)
