"""Fixtures for the contract suite a learner writes in exercise 15 (see the exercise README).

* ``postgres_customers``  the real adapter, ``PostgresCustomers``, on an empty ``customers``
  table in the run's private database (the table built from *this run's*
  ``postgres_customers.py``, so a planted fault in the adapter is what the tests meet)
* ``db_engine``           the SQLAlchemy engine on that database, for your own queries

The fake needs no fixture: ``InMemoryCustomers()`` is a fresh, empty one.

How it is loaded: the grader copies the exercise's correct code (or a copy with one planted
fault) and lays the learner's test file over it; its ``tests/conftest.py`` loads this file by
path, and so does a plain ``pytest`` in the exercise folder. One definition of the fixtures.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text


@pytest.fixture(scope="session")
def _customers_table(db_engine):
    import postgres_customers  # the system's module (or its mutant): imported once tests run

    postgres_customers.metadata.drop_all(db_engine)
    postgres_customers.metadata.create_all(db_engine)
    yield
    postgres_customers.metadata.drop_all(db_engine)


@pytest.fixture
def postgres_customers(db_engine, _customers_table):
    from postgres_customers import PostgresCustomers

    with db_engine.begin() as connection:
        connection.execute(text("TRUNCATE customers RESTART IDENTITY"))
    return PostgresCustomers(db_engine)
