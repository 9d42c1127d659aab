"""pytest plugin: the fixtures shared by hidden tests, notebooks and our own tests.

Registered as the ``pytest11`` entry point ``seamlab``, so it is loaded into every pytest run in
the course environment, including nbval and the grader's one-second runs. Importing it must stay
cheap: SQLAlchemy, redis, uvicorn and the mail provider are imported inside the fixtures.

Private state per session: unless ``SEAMLAB_ISOLATED=1`` (the grader owns the lifecycle and
passes its own TEST_*), each pytest session (each xdist worker) leases its own Postgres
database, cloned from the template, and its own Redis database index, and gives both back at
the end. Each fixture waits only for the services it uses.

A service that does not answer fails the test with one line naming the service, where it was
expected and the fix: no stack trace.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from seamlab.errors import ConfigError, ServiceUnavailable

if TYPE_CHECKING:
    import redis
    from mailprovider.admin import MailProviderHandle
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from seamlab.config import Settings

ISOLATED_ENV = "SEAMLAB_ISOLATED"
TARGET_DIR_ENV = "SEAMLAB_TARGET_DIR"
WAIT_TIMEOUT_INI = "seamlab_wait_timeout"
DATABASE_PREFIX = "seamlab_t"


def unique_name(prefix: str = "seamlab") -> str:
    """A name no other test or run uses (queues, exchanges, keys): ``<prefix>-<pid>-<random>``."""
    return f"{prefix}-{os.getpid()}-{secrets.token_hex(4)}"


# --- hooks -------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        WAIT_TIMEOUT_INI,
        "seconds the seamlab fixtures wait for a service to answer before failing (default 10)",
        default="10",
    )


def _put_target_first() -> None:
    """Put the learner's folder (``SEAMLAB_TARGET_DIR``) first on sys.path.

    Done when the plugin is imported (``-p seamlab.pytest_plugin`` comes before any conftest is
    loaded), so a hidden conftest.py may import learner modules at its top.
    """
    target = os.environ.get(TARGET_DIR_ENV)
    if target:
        folder = os.path.abspath(target)
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)


_put_target_first()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "seam: the test that pins the exercise's seam (must fail with an assertion on the starter)",
    )
    _put_target_first()


# --- helpers -----------------------------------------------------------------------------------
@contextmanager
def _as_test_failure() -> Iterator[None]:
    """Turn expected service trouble into a one-line test failure instead of a traceback."""
    try:
        yield
    except (ServiceUnavailable, ConfigError) as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    """``pytest.fail(message, pytrace=False)``, without "During handling of the above
    exception" and the message a second time."""
    raise pytest.fail.Exception(message, pytrace=False) from None


def _isolated() -> bool:
    return os.environ.get(ISOLATED_ENV) == "1"


def _wait_timeout(config: pytest.Config) -> float:
    value = config.getini(WAIT_TIMEOUT_INI)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{WAIT_TIMEOUT_INI} = {value!r} is not a number of seconds; set it to e.g. 10."
        ) from None


def _wait_for_service(request: pytest.FixtureRequest, settings: Settings, service: str) -> None:
    from seamlab.backends import wait_ready

    wait_ready(settings, services=(service,), timeout=_wait_timeout(request.config))


# --- settings and private state ----------------------------------------------------------------
@pytest.fixture(scope="session")
def _seamlab_env_settings() -> Settings:
    """Settings exactly as TEST_* say (defaults: the compose ports)."""
    from seamlab.config import Settings

    with _as_test_failure():
        return Settings.from_env()


@pytest.fixture(scope="session")
def _seamlab_database(
    request: pytest.FixtureRequest, _seamlab_env_settings: Settings
) -> Iterator[str]:
    """The name of this session's database: private (cloned, dropped at the end) or as given."""
    settings = _seamlab_env_settings
    with _as_test_failure():
        _wait_for_service(request, settings, "postgres")
    if _isolated():
        yield settings.db_name
        return
    from seamlab import isolation

    with _as_test_failure():
        isolation.drop_stale_databases(settings, DATABASE_PREFIX)
        context = isolation.private_database(settings, prefix=DATABASE_PREFIX)
        name = context.__enter__()
    try:
        yield name
    finally:
        with _as_test_failure():
            context.__exit__(None, None, None)


@pytest.fixture(scope="session")
def _seamlab_redis_db(
    request: pytest.FixtureRequest, _seamlab_env_settings: Settings
) -> Iterator[int]:
    """This session's Redis database index: a leased private one, or the one in TEST_REDIS_URL."""
    settings = _seamlab_env_settings
    with _as_test_failure():
        _wait_for_service(request, settings, "redis")
    if _isolated():
        yield settings.redis_db
        return
    from seamlab import isolation

    with _as_test_failure():
        context = isolation.private_redis_db(settings)
        index = context.__enter__()
    try:
        yield index
    finally:
        with _as_test_failure():
            context.__exit__(None, None, None)


@pytest.fixture(scope="session")
def seamlab_settings(
    _seamlab_env_settings: Settings, _seamlab_database: str, _seamlab_redis_db: int
) -> Settings:
    """Settings for this session's private database and Redis db (as given when isolated).

    ``mail_url`` stays what TEST_MAIL_URL says; tests that need the mail provider use the
    ``mail_provider`` fixture and its ``.url``.
    """
    return _seamlab_env_settings.with_database(_seamlab_database).with_redis_db(_seamlab_redis_db)


# --- Postgres ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def db_engine(_seamlab_env_settings: Settings, _seamlab_database: str) -> Iterator[Engine]:
    """A SQLAlchemy engine (psycopg 3) on this session's database."""
    from sqlalchemy import create_engine

    engine = create_engine(_seamlab_env_settings.db_url(_seamlab_database))
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    ``join_transaction_mode="create_savepoint"``: when the code under test calls
    ``session.commit()`` or ``session.rollback()``, only a savepoint is released or rolled back;
    the outer transaction, and with it everything the test wrote, is undone at the end.
    Other connections never see this session's data (use ``live_server`` and real commits
    when another process or connection must see it).
    """
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    try:
        connection = db_engine.connect()
    except OperationalError as error:
        detail = str(error.orig or error).strip().splitlines()[0]
        url = db_engine.url
        _fail(
            str(
                ServiceUnavailable(
                    "Postgres",
                    f"{url.host}:{url.port}",
                    detail,
                    "run `seamlab up` (then `seamlab doctor`)",
                )
            )
        )
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


# --- Redis -------------------------------------------------------------------------------------
@pytest.fixture
def redis_client(_seamlab_env_settings: Settings, _seamlab_redis_db: int) -> Iterator[redis.Redis]:
    """A ``redis.Redis`` (bytes, like production) on this session's db, flushed before and after."""
    import redis

    url = _seamlab_env_settings.with_redis_db(_seamlab_redis_db).redis_url
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
    with _as_test_failure():
        _flush(client, _seamlab_env_settings)
    try:
        yield client
    finally:
        try:
            _flush(client, _seamlab_env_settings)
        finally:
            client.close()


def _flush(client: redis.Redis, settings: Settings) -> None:
    import redis

    try:
        client.flushdb()
    except redis.ConnectionError as error:
        raise ServiceUnavailable(
            "Redis",
            settings.redis_where,
            str(error).splitlines()[0],
            "run `seamlab up` (then `seamlab doctor`)",
        ) from None


# --- the mail provider -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def _seamlab_mail_handle(
    request: pytest.FixtureRequest, _seamlab_env_settings: Settings
) -> Iterator[MailProviderHandle]:
    """One mail provider per session: our own server in a thread, or, when the grader isolates
    the run and names one in TEST_MAIL_URL, that one."""
    from mailprovider.admin import MailProviderHandle

    settings = _seamlab_env_settings
    if _isolated() and "TEST_MAIL_URL" in settings.explicit:
        with _as_test_failure():
            _wait_for_service(request, settings, "mail")
        handle = MailProviderHandle(settings.mail_url)
        yield handle
        handle.close()
        return
    from mailprovider.server import MailProviderServer

    with MailProviderServer(port=0) as server:
        handle = MailProviderHandle(server.url)
        yield handle
        handle.close()


@pytest.fixture
def mail_provider(_seamlab_mail_handle: MailProviderHandle) -> MailProviderHandle:
    """A real mail provider (``.url``), its journal empty and no faults pending."""
    from mailprovider.admin import MailProviderError

    try:
        _seamlab_mail_handle.reset()
    except MailProviderError as error:
        _fail(str(error))
    return _seamlab_mail_handle


# --- HTTP --------------------------------------------------------------------------------------
@pytest.fixture
def live_server() -> Iterator[Callable[[Any], str]]:
    """Factory: ``base_url = live_server(asgi_app)`` serves the app with a real uvicorn in a
    thread (a free port) until the end of the test."""
    from mailprovider.server import AppServer

    servers: list[AppServer] = []

    def serve(app: Any) -> str:
        server = AppServer(app, name="live server").start()
        servers.append(server)
        return server.url

    yield serve
    for server in reversed(servers):
        server.stop()


# --- RabbitMQ ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def amqp_url(request: pytest.FixtureRequest, _seamlab_env_settings: Settings) -> str:
    """The AMQP URL of RabbitMQ, once it answers. Use ``unique_name()`` for queues/exchanges."""
    with _as_test_failure():
        _wait_for_service(request, _seamlab_env_settings, "rabbitmq")
    return _seamlab_env_settings.amqp_url
