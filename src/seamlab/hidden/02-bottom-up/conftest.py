"""Fixtures for exercise 02's hidden tests: the subscribers table, settings for the whole app.

The learner's layer tests are graded apart, against the correct layers and the planted faults
in src/seamlab/mutants/02-bottom-up/ (kind "fix-and-write-tests"), with layer_fixtures.py.
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text


@pytest.fixture
def subscribers_engine(db_engine):
    """The run's database with an empty ``subscribers`` table."""
    import subscribers_repo  # the learner's module: imported when the tests run

    subscribers_repo.metadata.create_all(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("TRUNCATE subscribers RESTART IDENTITY"))
    return db_engine


@pytest.fixture
def app_settings(seamlab_settings, mail_provider):
    """Settings naming the run's private database and the session's real mail provider."""
    return dataclasses.replace(seamlab_settings, mail_url=mail_provider.url)
