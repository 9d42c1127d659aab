"""Fixtures for exercise 02's hidden tests: the subscribers table, settings for the whole app."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text


@pytest.fixture
def subscribers_engine(db_engine):
    """The run's database with an empty ``subscribers`` table (the layer runs may drop it)."""
    import subscribers_repo  # the learner's module: imported when the tests run

    subscribers_repo.metadata.create_all(db_engine)
    with db_engine.begin() as connection:
        connection.execute(text("TRUNCATE subscribers RESTART IDENTITY"))
    return db_engine


@pytest.fixture
def app_settings(seamlab_settings, mail_provider):
    """Settings naming the run's private database and the session's real mail provider."""
    return dataclasses.replace(seamlab_settings, mail_url=mail_provider.url)


@pytest.fixture(scope="session", autouse=True)
def zygote():
    """The warm interpreter the layer runs are forked from, started at once so that its imports
    overlap the whole-app tests; None when it cannot start (the runs then start as usual)."""
    import os

    from forked_pytest import Zygote

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SEAMLAB_", "TEST_"))}
    try:
        started = Zygote.start(env)
    except OSError:
        yield None
        return
    try:
        yield started
    finally:
        started.close()


@pytest.fixture(scope="module")
def private_services(seamlab_settings, db_engine):
    """Factory: ``private_services(label)`` -> the TEST_* (and PGOPTIONS) for one child pytest.

    Child runs go in parallel, so each gets its own Postgres schema (``search_path`` through
    libpq's PGOPTIONS: its tables never meet another run's) and its own real mail provider
    (version 1; its journal is its own). All are removed when the module's tests are done.
    """
    from contextlib import ExitStack

    from mailprovider.server import MailProviderServer

    schemas: list[str] = []
    with ExitStack() as stack:

        def make(label: str) -> dict[str, str]:
            schema = f"layer_{len(schemas)}_{label}"[:60]
            with db_engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            schemas.append(schema)
            provider = stack.enter_context(MailProviderServer(port=0))
            env = dataclasses.replace(seamlab_settings, mail_url=provider.url).to_env()
            return {**env, "PGOPTIONS": f"-c search_path={schema}"}

        yield make
    with db_engine.begin() as connection:
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
