"""Fixtures for the layer tests a learner writes in exercise 02 (documented in its README).

* ``subscriber_rows``  a function: every row of ``subscribers`` as a dict, oldest first
* an empty ``subscribers`` table for every test that uses ``db_engine`` (created from the
  exercise's own ``subscribers_repo.metadata``); tests that do not touch Postgres need no
  services at all
* seamlab's own fixtures: ``db_engine``, ``mail_provider``, ``live_server``

``seamlab check 02`` runs the learner's layer tests next to the correct layers and next to layers
with one planted fault each (src/seamlab/mutants/02-bottom-up/); the solution's
``tests/conftest.py`` loads this file, as the exercise's does for a plain ``pytest``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text


@pytest.fixture(scope="session")
def _subscribers_schema(db_engine):
    import subscribers_repo  # the layer under test (or its planted fault), imported at run time

    subscribers_repo.metadata.drop_all(db_engine)
    subscribers_repo.metadata.create_all(db_engine)
    yield
    subscribers_repo.metadata.drop_all(db_engine)


@pytest.fixture(autouse=True)
def _empty_subscribers_table(request):
    if "db_engine" not in request.fixturenames:
        yield
        return
    engine = request.getfixturevalue("db_engine")
    request.getfixturevalue("_subscribers_schema")
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE subscribers RESTART IDENTITY"))
    yield


@pytest.fixture
def subscriber_rows(db_engine):
    def rows() -> list[dict]:
        with db_engine.connect() as connection:
            result = connection.execute(text("SELECT * FROM subscribers ORDER BY id"))
            return [dict(row._mapping) for row in result]

    return rows
