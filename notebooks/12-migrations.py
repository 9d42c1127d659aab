# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 12 · Migrations in tests: the schema production really has
#
# **Objectives**
#
# - Build the test database with Alembic migrations to head, in the session fixture and the template
# - Catch drift between the models and the migrations with `alembic check`
# - Test upgrade and downgrade against real Postgres, over a database that has rows

# %% [markdown]
# Every test in this course so far built its tables with `metadata.create_all(engine)`. It is
# quick and always agrees with the models, which is exactly the problem: production never runs
# it. Production's schema is whatever its **migrations** made of it, one revision at a time,
# over tables that already hold rows. When the model and the migrations disagree, every test
# is green on a schema nobody deploys.
#
# ```mermaid
# flowchart LR
#     M[models.py] -- create_all --> T[(the tests' schema)]
#     M -. should agree .- V[migrations/versions]
#     V -- alembic upgrade head --> P[(production's schema)]
# ```
#
# ## A model and its migrations
#
# A shop's `orders` table, with the models and two Alembic revisions written side by side, as
# they are in a real project. (Alembic is a dependency of the course: `pip show alembic`.)

# %%
from seamlab import lab

settings = lab.ready(["postgres"])
work = lab.workdir()  # this notebook's scratch folder for the files below
(work / "shop_migrations" / "versions").mkdir(parents=True, exist_ok=True)

# %%
# %%writefile {work}/shop_models.py
import sqlalchemy as sa

metadata = sa.MetaData()

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("total", sa.Numeric(10, 2), nullable=False),  # euros and cents
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
)

# %% [markdown]
# Alembic's `env.py` is the one piece of glue. The recipe that makes it testable: if the caller
# hands it a connection (`config.attributes["connection"]`), it runs the migrations on that
# connection, so a test decides which database, which schema and which transaction.

# %%
# %%writefile {work}/shop_migrations/env.py
from alembic import context
from shop_models import metadata

connection = context.config.attributes["connection"]  # tests always pass one here
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()

# %%
# %%writefile {work}/shop_migrations/versions/0001_orders.py
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0001", None


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),  # written when totals were whole euros
    )


def downgrade():
    op.drop_table("orders")

# %%
# %%writefile {work}/shop_migrations/versions/0002_status.py
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0002", "0001"


def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text, nullable=False))


def downgrade():
    op.drop_column("orders", "status")

# %% [markdown]
# A small helper runs Alembic's own commands on a connection we choose. Each example below
# gets a **fresh, empty schema** on the notebook's private database, so nothing leaks between
# them.

# %%
import sys
import uuid

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

sys.path.insert(0, str(work))
box = lab.sandbox()


def fresh_engine():
    """An engine whose connections see only a new, empty schema."""
    schema = f"demo_{uuid.uuid4().hex[:8]}"
    with box.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    return sa.create_engine(box.settings.db_url(),
                            connect_args={"options": f"-c search_path={schema}"})


def alembic(engine, action, *args):
    """Run an Alembic command (command.upgrade, command.check, ...) in one transaction."""
    config = Config()
    config.set_main_option("script_location", str(work / "shop_migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        return action(config, *args)


def columns(engine):
    with engine.connect() as conn:
        return {c["name"]: str(c["type"]) for c in sa.inspect(conn).get_columns("orders")}

# %% [markdown]
# ## create_all and the migrations, side by side
#
# **Predict, then run.** Both schemas get an `orders` table. Do their columns agree?

# %%
import shop_models

by_create_all, by_migrations = fresh_engine(), fresh_engine()
shop_models.metadata.create_all(by_create_all)
alembic(by_migrations, command.upgrade, "head")

print("create_all:", columns(by_create_all))
print("migrations:", columns(by_migrations))

# %% [markdown]
# The migrations made `total` an `INTEGER`: insert `19.99` there and Postgres rounds it to
# `20` without a word. A test suite built on `create_all` stores and reads back `19.99`
# happily. That is the whole seam: the tests and production run different schemas.
#
# ## Drift, caught by `alembic check`
#
# Alembic can compare a migrated database with the models (the comparison behind
# `alembic revision --autogenerate`). `alembic check` (`command.check`) fails when the
# comparison finds anything, which makes it a one-line test.
#
# **Predict, then run.** What does it report for the migrated schema?

# %%
from alembic.util import AutogenerateDiffsDetected

try:
    alembic(by_migrations, command.check)
    print("no drift")
except AutogenerateDiffsDetected as drift:
    print(str(drift).replace("), (", "),\n  ("))

# %% [markdown]
# One finding: the column type (`INTEGER` in the database, `NUMERIC(10, 2)` in the model).
# Alembic compares types by default; it compares server defaults only with
# `compare_server_default=True` in `env.py`, so a default missing from a migration slips
# through unless you switch that on (do, in your own projects). The fix
# is a new revision, never an edit of one that production has already run:

# %%
# %%writefile {work}/shop_migrations/versions/0003_total_in_cents.py
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0003", "0002"


def upgrade():
    op.alter_column("orders", "total", type_=sa.Numeric(10, 2), existing_nullable=False)


def downgrade():
    op.alter_column("orders", "total", type_=sa.Integer, existing_nullable=False)

# %%
fixed = fresh_engine()
alembic(fixed, command.upgrade, "head")
try:
    alembic(fixed, command.check)
    print("no drift:", columns(fixed))
except AutogenerateDiffsDetected as drift:
    print(drift)

# %% [markdown]
# ## Upgrading a database that has rows
#
# An empty test database forgives a lot. **Predict, then run.** Revision 0002 adds `status` as
# `NOT NULL` with no default. Production is at revision 0001 and has orders. What does
# `upgrade head` do there?

# %%
production = fresh_engine()
alembic(production, command.upgrade, "0001")
with production.begin() as conn:
    conn.execute(sa.text("INSERT INTO orders (customer, total) VALUES ('ada', 20), ('grace', 7)"))

try:
    alembic(production, command.upgrade, "head")
    print("upgraded")
except sa.exc.IntegrityError as error:
    print("upgrade refused:", str(error.orig).splitlines()[0])
with production.connect() as conn:
    print("still at revision:", conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())

# %% [markdown]
# Postgres refuses: the old rows would have no status. And because Postgres runs DDL inside
# transactions, the failed upgrade left nothing half done: the database is still at 0001. The
# repair is `server_default="open"` in the migration (old rows get it too), or three steps:
# add the column nullable, `UPDATE` the old rows, then set `NOT NULL`. Exercise 17 is this
# bug's cousin.
#
# ## Migrations in the test fixtures
#
# The cure for the seam is to make the tests use the schema production gets: run the
# migrations to head **once per test session**, in the fixture that builds the database,
# instead of `create_all`. Three tests that every project with migrations should have come
# with it: to head from nothing, no drift, and down to base and up again.

# %%
# %%writefile {work}/shop_migrations/versions/0002_status.py
import sqlalchemy as sa
from alembic import op

revision, down_revision = "0002", "0001"


def upgrade():
    op.add_column("orders", sa.Column("status", sa.Text, nullable=False, server_default="open"))


def downgrade():
    op.drop_column("orders", "status")

# %%
# %%writefile {work}/conftest.py
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config


def alembic_config(connection):
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "shop_migrations"))
    config.attributes["connection"] = connection
    return config


@pytest.fixture(scope="session")
def migrated_engine(db_engine):
    """The session's database, built by the migrations (not create_all), once per session."""
    with db_engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    return db_engine

# %%
# %%writefile {work}/test_migrations.py
import sqlalchemy as sa
from alembic import command
from conftest import alembic_config


def test_an_order_keeps_its_cents(migrated_engine):
    with migrated_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orders (customer, total) VALUES ('ada', 19.99)"))
        total = conn.execute(sa.text("SELECT total FROM orders WHERE customer = 'ada'")).scalar()
        conn.rollback()
    assert str(total) == "19.99"


def test_the_migrations_match_the_models(migrated_engine):
    with migrated_engine.begin() as conn:
        command.check(alembic_config(conn))  # raises AutogenerateDiffsDetected on drift


def test_every_migration_can_be_undone_and_redone(migrated_engine):
    with migrated_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
        assert sa.inspect(conn).get_table_names() == ["alembic_version"]
        command.upgrade(alembic_config(conn), "head")
        command.check(alembic_config(conn))

# %% [markdown]
# **Predict, then run.** With 0002 repaired and 0003 in place, do all three pass?

# %%
run = lab.run_tests("test_migrations.py")

# %% [markdown]
# ## Migrations into the template
#
# Migrating a database takes time: every revision is a round of DDL, and a real project has
# hundreds. So migrate once, into a **template** database, and give each test (or each xdist
# worker) a clone: `CREATE DATABASE ... TEMPLATE ...` copies files instead of replaying the
# history. This is how the course's own fixtures get a private database in tens of
# milliseconds (chapter 06 measured it).
#
# **Predict, then run.** How much does a clone of a migrated template cost against running the
# migrations into an empty schema?

# %%
# NBVAL_IGNORE_OUTPUT
import psycopg
from seamlab import isolation

template = isolation.database_name("seamlab_nb_tmpl")
with psycopg.connect(box.settings.db_conninfo(), autocommit=True) as conn:
    conn.execute(f'CREATE DATABASE "{template}"')
template_engine = sa.create_engine(box.settings.with_database(template).db_url())
alembic(template_engine, command.upgrade, "head")
template_engine.dispose()  # a template must have no open connections


def clone_of_the_template():
    name = isolation.database_name("seamlab_nb_clone")
    with psycopg.connect(box.settings.db_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        conn.execute(f'DROP DATABASE "{name}"')


def migrations_from_nothing():
    alembic(fresh_engine(), command.upgrade, "head")


figures = {
    "clone of the migrated template": lab.per_call_ms(clone_of_the_template, repeat=4),
    "migrations into an empty schema": lab.per_call_ms(migrations_from_nothing, repeat=4),
}
with psycopg.connect(box.settings.db_conninfo(), autocommit=True) as conn:
    conn.execute(f'DROP DATABASE "{template}"')
for name, ms in figures.items():
    print(f"{name:<32} {ms:7.1f} ms")

# %% [markdown]
# With three tiny revisions the two cost about the same (replaying may even win). A clone's
# cost stays flat as the history grows; replaying it grows with every revision. In a session fixture: migrate the
# template once (under a lock, when workers run in parallel), then clone per worker or per
# test. And never `create_all` "to be quick": it is quick at testing the wrong schema.

# %% [markdown]
# ## Key points
#
# - `create_all` builds the schema the models describe; production runs the migrations. Build
#   the test database with `alembic upgrade head`, once per session (into a template, cloned
#   per worker or test).
# - Let `env.py` take a connection from the caller (`config.attributes["connection"]`), so
#   tests choose the database, schema and transaction.
# - `alembic check` turns model/migration drift into a failing test: column types, missing
#   indexes, nullability (server defaults with `compare_server_default=True`).
# - Test upgrades over a database **with rows** at the previous revision, and test
#   `downgrade base` followed by `upgrade head`: empty databases forgive `NOT NULL` without a
#   default.
#
# **Your turn:** `17-migration-drift` (the migrations disagree with the models, and only the
# real Postgres notices). Run `seamlab check 17`, or the cell below.

# %%
import seamlab

passed = seamlab.check("17")
