"""Exercise 17: the migrations must build the schema models.py describes, on real Postgres,
from nothing and over a database that already has subscribers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from models import metadata
from subscriptions import AlreadySubscribed, Subscriptions


def first_line(error: Exception) -> str:
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0]


def upgrade_or_explain(migrations, revision: str, when: str) -> None:
    refused = None
    try:
        migrations.upgrade(revision)
    except sa.exc.DBAPIError as error:
        refused = first_line(error)  # raised below, unchained: the fix is in a migration
    if refused is not None:
        raise AssertionError(f"`alembic upgrade {revision}` {when} failed in Postgres: "
                             f"{refused}. Expected: the migrations run to the end.")


def drift(engine: sa.Engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


def describe(diff: list) -> str:
    """Alembic's diff in words: add_* is in models.py but missing from the database,
    remove_* is in the database but not in models.py, modify_* differs."""
    parts = []
    for item in diff:
        if isinstance(item, list):  # modify_* come as a list of tuples
            item = item[0]
        operation = item[0]
        if operation.startswith("modify_"):
            parts.append(f"{operation} of {item[2]}.{item[3]}")
        else:
            thing = item[1]
            parts.append(f"{operation} {getattr(thing, 'name', None) or thing}")
    return "; ".join(parts)


def test_the_migrations_run_to_head_on_an_empty_database(migrations):
    upgrade_or_explain(migrations, "head", "on an empty database")

    with migrations.engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
    assert "subscribers" in tables, f"after upgrade head the tables are {sorted(tables)}"


@pytest.mark.seam
def test_an_address_in_other_letters_is_refused_on_the_migrated_schema(migrations):
    upgrade_or_explain(migrations, "head", "on an empty database")
    subscriptions = Subscriptions(migrations.engine)
    subscriptions.subscribe("ada@example.com", "Ada")

    try:
        second = subscriptions.subscribe("Ada@Example.com", "Ada again")
    except AlreadySubscribed:
        return
    with migrations.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT email FROM subscribers ORDER BY id")).all()
    raise AssertionError(
        f"On the schema the migrations built, 'Ada@Example.com' was stored as a second "
        f"subscriber (id {second.id}) beside 'ada@example.com': rows {[r.email for r in rows]}. "
        "models.py says an address is unique whatever its case; the tests built with "
        "create_all have that index, the migrated database does not. Expected: AlreadySubscribed."
    )


@pytest.mark.seam
def test_upgrading_a_database_that_has_subscribers_keeps_them_on_the_free_plan(migrations):
    revisions = migrations.revisions()
    assert revisions, "migrations/versions/ holds no revision"
    first = revisions[0]
    upgrade_or_explain(migrations, first, "on an empty database")
    with migrations.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO subscribers (email, name) VALUES "
            "('grace@example.com', 'Grace'), ('barbara@example.com', 'Barbara')"))

    upgrade_or_explain(migrations, "head",
                       f"on a database at revision {first} that already had two subscribers "
                       f"(production's, the day the migration shipped)")

    with migrations.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT email, plan FROM subscribers ORDER BY id")).all()
    assert [(r.email, r.plan) for r in rows] == [
        ("grace@example.com", "free"), ("barbara@example.com", "free")], (
        f"after the upgrade the subscribers who were there before are {rows}; expected both, "
        "on the 'free' plan")


def test_a_row_written_without_a_plan_gets_the_free_plan(migrations):
    # During a rolling deploy the previous version of the app still inserts without a plan.
    upgrade_or_explain(migrations, "head", "on an empty database")

    refused = None
    try:
        with migrations.engine.begin() as connection:
            plan = connection.execute(sa.text(
                "INSERT INTO subscribers (email, name) VALUES ('ada@example.com', 'Ada') "
                "RETURNING plan")).scalar_one()
    except sa.exc.DBAPIError as error:
        refused = first_line(error)
    assert refused is None, (
        "The previous version of the app, still running during the deploy, inserts "
        f"subscribers without a plan; on the migrated schema Postgres refused that: {refused}. "
        "Expected: the row gets the 'free' plan, as models.py's server_default says.")
    assert plan == "free", f"a row inserted without a plan got {plan!r}, expected 'free'"


@pytest.mark.seam
def test_the_migrated_schema_is_the_one_models_py_describes(migrations):
    upgrade_or_explain(migrations, "head", "on an empty database")

    diff = drift(migrations.engine)

    assert diff == [], (
        "`alembic check` would fail: comparing the migrated database with models.py, Alembic "
        f"finds: {describe(diff)}. Expected: no difference."
    )


def test_every_migration_can_be_undone_and_done_again(migrations):
    upgrade_or_explain(migrations, "head", "on an empty database")
    migrations.downgrade("base")
    with migrations.engine.connect() as connection:
        left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    assert left == set(), f"after `alembic downgrade base` these tables are left: {sorted(left)}"

    upgrade_or_explain(migrations, "head", "after a downgrade to base")

    assert drift(migrations.engine) == [], "after down and up again the schema drifted"
