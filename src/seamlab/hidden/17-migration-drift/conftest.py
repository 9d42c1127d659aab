"""Fixtures for exercise 17: an empty schema per test, and Alembic pointed at the learner's
migrations (``migrations/`` in the folder being graded), running on the test's own engine.

Each test gets a schema of its own (``search_path`` set on its engine), so the migrations build
the tables there from nothing, the way they build production: never with ``create_all``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


class Migrations:
    """Alembic commands on one engine: ``upgrade(rev)``, ``downgrade(rev)``, ``revisions()``."""

    def __init__(self, folder: Path, engine: sa.Engine) -> None:
        self.config = Config()
        self.config.set_main_option("script_location", str(folder / "migrations"))
        self.engine = engine

    def _run(self, action, revision: str) -> None:
        with self.engine.begin() as connection:
            self.config.attributes["connection"] = connection
            action(self.config, revision)

    def upgrade(self, revision: str = "head") -> None:
        self._run(command.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        self._run(command.downgrade, revision)

    def revisions(self) -> list[str]:
        """Revision ids from the first to the head."""
        script = ScriptDirectory.from_config(self.config)
        return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


@pytest.fixture
def schema_engine(db_engine):
    """An engine whose connections live in a fresh, empty schema (dropped after the test)."""
    schema = f"mig_{uuid.uuid4().hex[:10]}"
    with db_engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = sa.create_engine(db_engine.url,
                              connect_args={"options": f"-c search_path={schema}"})
    yield engine
    engine.dispose()
    with db_engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def migrations(schema_engine):
    return Migrations(Path(os.environ["SEAMLAB_TARGET_DIR"]), schema_engine)
