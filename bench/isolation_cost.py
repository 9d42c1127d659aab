"""Per-test cost of cleaning the database: savepoint rollback vs DELETE vs TRUNCATE.

Runs the same tiny "test" (the application inserts one user and commits) N times under each
cleanup strategy, on a private database cloned from the course template, and prints the median
and 90th percentile of what the cleanup adds per test (set-up + tear-down, the test body
excluded), plus the whole test for scale.

    .venv/bin/python bench/isolation_cost.py [--tests 500]

Needs the course services (`seamlab up`) or TEST_DB_* pointing at a Postgres.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from signup.models import User
from signup.schema import create_all
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from seamlab.config import Settings
from seamlab.errors import SeamlabError
from seamlab.isolation import private_database

Fixture = Callable[[Engine], AbstractContextManager[Session]]


@contextmanager
def savepoint_rollback(engine: Engine) -> Iterator[Session]:
    """The db_session fixture: one outer transaction, app commits become savepoints."""
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@contextmanager
def delete_rows(engine: Engine) -> Iterator[Session]:
    session = Session(engine)
    try:
        yield session
    finally:
        session.close()
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM users"))


@contextmanager
def truncate_tables(engine: Engine) -> Iterator[Session]:
    session = Session(engine)
    try:
        yield session
    finally:
        session.close()
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE users RESTART IDENTITY CASCADE"))


STRATEGIES: dict[str, Fixture] = {
    "savepoint rollback": savepoint_rollback,
    "DELETE FROM": delete_rows,
    "TRUNCATE ... CASCADE": truncate_tables,
}


def the_test(session: Session, n: int) -> None:
    """What the code under test does: insert a user and commit."""
    session.add(User(email=f"user{n}@example.com", name="Ada", password_hash="x"))
    session.commit()


def measure(engine: Engine, fixture: Fixture, tests: int) -> tuple[list[float], list[float]]:
    """Per-test cleanup overhead and whole-test time, in milliseconds."""
    overhead, whole = [], []
    for n in range(tests):
        started = time.perf_counter()
        with fixture(engine) as session:
            body_started = time.perf_counter()
            the_test(session, n)
            body = time.perf_counter() - body_started
        total = time.perf_counter() - started
        overhead.append((total - body) * 1000)
        whole.append(total * 1000)
    return overhead, whole


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=500, help="tests per strategy (500)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        with private_database(settings, prefix="seamlab_bench") as name:
            engine = create_engine(settings.db_url(name))
            try:
                create_all(engine)
                print(
                    f"Postgres at {settings.db_where}, database {name}, "
                    f"{args.tests} tests per strategy (after 20 warm-up tests)\n"
                )
                print(f"{'cleanup':<22} {'median ms':>10} {'p90 ms':>8} {'whole test ms':>14}")
                for label, fixture in STRATEGIES.items():
                    measure(engine, fixture, 20)
                    overhead, whole = measure(engine, fixture, args.tests)
                    print(
                        f"{label:<22} {statistics.median(overhead):>10.2f} "
                        f"{percentile(overhead, 0.9):>8.2f} {statistics.median(whole):>14.2f}"
                    )
            finally:
                engine.dispose()
    except SeamlabError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
