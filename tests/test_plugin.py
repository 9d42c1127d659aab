"""The seamlab pytest plugin, exercised the way users meet it: inside a pytest run (pytester)."""

from __future__ import annotations

import os

import socket
import sys

# Inner sessions run in this process and pytester restores sys.modules after each one; what they
# import is imported here first, so it is never imported twice (SQLAlchemy warns if it is).
import httpx
import mailprovider.admin
import mailprovider.server  # noqa: F401
import pika
import psycopg
import pytest
import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401

import seamlab.backends
import seamlab.isolation  # noqa: F401
from seamlab.config import Settings
from seamlab.pytest_plugin import unique_name


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def clean_env(monkeypatch):
    """Run inner sessions as a developer would: default settings, not isolated."""
    for name in ("SEAMLAB_ISOLATED", "SEAMLAB_TARGET_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_db_session_rolls_back_what_the_application_committed(pytester, clean_env):
    probe_file = pytester.path / "rows-after-rollback.txt"
    pytester.makepyfile(
        f"""
        import pathlib

        import pytest
        import sqlalchemy as sa

        @pytest.fixture(scope="session", autouse=True)
        def notes_table(db_engine):
            with db_engine.begin() as connection:
                connection.execute(sa.text("CREATE TABLE notes (body text)"))

        @pytest.fixture
        def rows_seen_by_another_connection_afterwards(db_engine):
            yield  # set up before db_session, so this runs after its rollback
            with db_engine.connect() as connection:
                count = connection.execute(sa.text("SELECT count(*) FROM notes")).scalar()
            pathlib.Path({str(probe_file)!r}).write_text(str(count))

        def test_code_that_commits(rows_seen_by_another_connection_afterwards, db_session):
            db_session.execute(sa.text("INSERT INTO notes VALUES ('committed by the app')"))
            db_session.commit()
            db_session.execute(sa.text("INSERT INTO notes VALUES ('after the commit')"))
            db_session.rollback()
            count = db_session.execute(sa.text("SELECT count(*) FROM notes")).scalar()
            assert count == 1  # the commit held, the rollback undid only the second insert
        """
    )

    result = pytester.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=1)
    assert probe_file.read_text() == "0", "the committed row survived the test"


def test_redis_client_starts_every_test_with_an_empty_database(pytester, clean_env):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("run", [1, 2])
        def test_writes_a_key_that_must_not_exist_yet(redis_client, run):
            assert redis_client.set("only-once", run, nx=True), "a key from another test leaked"
            assert isinstance(redis_client.get("only-once"), bytes)
        """
    )

    pytester.runpytest().assert_outcomes(passed=2)


def test_mail_provider_starts_every_test_with_an_empty_journal_and_no_faults(pytester, clean_env):
    pytester.makepyfile(
        """
        import httpx
        import pytest

        @pytest.mark.parametrize("run", [1, 2])
        def test_sends_one_email_then_leaves_faults_behind(mail_provider, run):
            response = httpx.post(
                mail_provider.url + "/api/emails/send",
                json={"to": "ada@example.com", "subject": str(run), "text": "hi"},
            )
            assert response.status_code == 202, "a fault from another test leaked"
            assert len(mail_provider.sent_emails()) == 1, "the journal was not reset"
            mail_provider.fail_next(status=500, times=5)
        """
    )

    pytester.runpytest().assert_outcomes(passed=2)


def test_each_session_gets_a_private_database_and_redis_db_that_are_given_back(pytester, clean_env):
    names_file = pytester.path / "names.txt"
    pytester.makepyfile(
        f"""
        import pathlib

        def test_records_the_private_names(seamlab_settings, db_engine):
            assert db_engine.url.database == seamlab_settings.db_name
            pathlib.Path({str(names_file)!r}).write_text(
                f"{{seamlab_settings.db_name}} {{seamlab_settings.redis_db}}"
            )
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)

    database, redis_db = names_file.read_text().split()
    settings = Settings.from_env()
    assert database.startswith("seamlab_t_") and database != settings.db_name
    assert int(redis_db) not in (0, settings.redis_db)
    with psycopg.connect(settings.db_conninfo("postgres"), autocommit=True) as connection:
        left = connection.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()[0]
    assert left == 0, f"the private database {database} was not dropped"
    import redis

    with redis.Redis.from_url(settings.redis_url) as control:
        # Another xdist worker may lease the freed index at once: ours is gone if it is not ours.
        holder = control.get(f"seamlab:lease:{redis_db}")
        assert holder != str(os.getpid()).encode(), "the Redis lease was kept"


def test_when_isolated_the_settings_are_used_as_given(pytester, clean_env):
    from seamlab.isolation import private_database

    settings = Settings.from_env()
    with private_database(settings, prefix="seamlab_given") as name:
        clean_env.setenv("SEAMLAB_ISOLATED", "1")
        clean_env.setenv("TEST_DB_NAME", name)
        clean_env.setenv("TEST_REDIS_URL", settings.with_redis_db(7).redis_url)
        pytester.makepyfile(
            f"""
            def test_uses_what_the_grader_gave(seamlab_settings, db_engine, redis_client):
                assert seamlab_settings.db_name == {name!r}
                assert db_engine.url.database == {name!r}
                assert redis_client.connection_pool.connection_kwargs["db"] == 7
            """
        )
        pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("fixture", "variable", "value", "service"),
    [
        ("db_session", "TEST_DB_PORT", "{port}", "Postgres"),
        ("redis_client", "TEST_REDIS_URL", "redis://127.0.0.1:{port}/0", "Redis"),
        ("amqp_url", "TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:{port}/%2F", "RabbitMQ"),
    ],
)
def test_an_unreachable_service_fails_with_one_line_naming_the_port_and_the_fix(
    pytester, clean_env, fixture, variable, value, service
):
    port = closed_port()
    clean_env.setenv(variable, value.format(port=port))
    pytester.makepyfile(
        f"""
        def test_needs_the_service({fixture}):
            pass
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    result.stdout.fnmatch_lines([f"*{service} at 127.0.0.1:{port} is not reachable*Fix:*"])
    assert "Traceback" not in output
    assert "pytest_plugin.py" not in output, f"a stack trace was shown:\n{output}"


def test_a_test_that_uses_only_redis_needs_neither_postgres_nor_rabbitmq(pytester, clean_env):
    clean_env.setenv("TEST_DB_PORT", str(closed_port()))
    clean_env.setenv("TEST_AMQP_URL", f"amqp://guest:guest@127.0.0.1:{closed_port()}/%2F")
    pytester.makepyfile(
        """
        def test_only_redis(redis_client):
            assert redis_client.ping()
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)


def test_the_target_dir_is_importable_first(pytester, clean_env):
    clean_env.setattr(sys, "path", list(sys.path))  # the plugin edits sys.path in this process
    target = pytester.mkdir("learner")
    (target / "validation.py").write_text("WHO = 'learner'\n")
    clean_env.setenv("SEAMLAB_TARGET_DIR", str(target))
    pytester.makepyfile(
        """
        def test_imports_the_learner_module():
            import validation
            assert validation.WHO == "learner"
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)


def test_the_seam_marker_is_registered(pytester, clean_env):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.seam
        def test_marked():
            pass
        """
    )

    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)


def test_live_server_serves_an_app_on_a_real_socket(live_server):
    async def app(scope, receive, send):
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"{scope['server'][1]}".encode()})

    url = live_server(app)

    response = httpx.get(url)
    assert response.status_code == 200
    assert url.endswith(f":{response.text}")


def test_amqp_url_points_at_a_broker_that_answers(amqp_url):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        queue = unique_name("plugin-test")
        channel = connection.channel()
        channel.queue_declare(queue, exclusive=True)
        channel.basic_publish("", queue, b"ping")
        _method, _, body = channel.basic_get(queue, auto_ack=True)
        assert body == b"ping"
    finally:
        connection.close()


def test_unique_names_differ():
    assert len({unique_name("q") for _ in range(100)}) == 100
