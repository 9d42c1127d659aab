"""Alembic's entry point: runs the migrations on a connection it is given, or on TEST_* settings.

Tests pass their own connection (``config.attributes["connection"]``), so the migrations run
inside the test's transaction and on the test's database; the command line uses the database
that ``seamlab.config.Settings`` (the TEST_* variables) names.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from models import metadata


def run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    from seamlab.config import Settings

    engine = sa.create_engine(Settings.from_env().db_url())
    with engine.begin() as connection:
        run(connection)
    engine.dispose()
