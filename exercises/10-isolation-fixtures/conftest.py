"""Shared fixtures for the wishlist tests: this is the file you work on.

Where the services are comes from the seamlab pytest plugin: ``db_engine`` is an engine on this
test session's own Postgres database and ``seamlab_settings.redis_url`` names this session's own
Redis database (every pytest session, and every xdist worker, gets its own of both). Keeping
*tests* apart from each other inside one session is the job of the fixtures below.

The contract the tests rely on (keep the names):
- ``db_session``: a SQLAlchemy ``Session`` on Postgres; every test starts with no rows at all,
  even though the code under test calls ``session.commit()`` and ``session.rollback()``;
- ``redis``: a ``redis.Redis`` client; every test starts with an empty Redis database;
- ``cache``: the app's ``WishCache`` on that client.
"""

import pytest
from redis import Redis
from sqlalchemy.orm import Session

from wish_cache import WishCache
from wishlist_store import Base


@pytest.fixture(scope="session")
def engine(db_engine):
    """The session's database, with the wishlist tables created once."""
    Base.metadata.create_all(db_engine)
    return db_engine


@pytest.fixture
def db_session(engine):
    """A session for one test; whatever the test did is undone afterwards."""
    session = Session(engine)
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def redis(seamlab_settings):
    client = Redis.from_url(seamlab_settings.redis_url)
    yield client
    client.close()


@pytest.fixture
def cache(redis):
    return WishCache(redis)
