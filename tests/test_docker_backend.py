"""The docker path of ``seamlab up``/``down``, on a machine without a Docker engine.

A fake ``docker`` executable on PATH stands in for the engine: ``docker info`` succeeds,
every call is recorded, and ``docker compose ... up`` starts real servers (our embedded Redis
and mail provider) on the host ports the compose file publishes, as containers would;
``down``/``rm --stop`` stops them. The compose file is a copy of the course's with free ports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import yaml

from seamlab import backends
from seamlab.config import Settings
from seamlab.embedded.process import free_port, port_open, read_pid, terminate
from seamlab.embedded.redis import RedisServer

REPO = Path(__file__).resolve().parent.parent

FAKE_DOCKER = r'''#!{python}
"""A stand-in Docker engine for tests: records calls, runs local servers as "containers"."""
import json, os, sys
from pathlib import Path

import yaml

here = Path(__file__).resolve().parent
args = sys.argv[1:]
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps(args) + "\n")
if args[:1] == ["info"]:
    print("27.0.1")
    sys.exit(0)
if args[:1] != ["compose"] or args[1] != "-f":
    sys.exit("fake docker: unexpected call " + " ".join(args))
compose = yaml.safe_load(Path(args[2]).read_text())
action, rest = args[3], args[4:]
failure = os.environ.get("FAKE_DOCKER_FAIL")
if failure:
    print("Container seamlab-redis-1  Starting", file=sys.stderr)
    print(failure, file=sys.stderr)
    sys.exit(1)

from seamlab.embedded.mail import MailServer
from seamlab.embedded.redis import RedisServer

STANDINS = {{"redis": RedisServer, "mail": MailServer}}
containers = here / "containers"


def container(name):
    port = int(str(compose["services"][name]["ports"][0]).split(":")[-2])
    return STANDINS[name](containers / name, port)


names = [arg for arg in rest if not arg.startswith("-")]
if action == "up":
    for name in names or list(STANDINS):
        server = container(name)
        server.start()
        server.wait_ready(20)
elif action in ("down", "rm"):
    for name in names or list(STANDINS):
        container(name).stop()
else:
    sys.exit("fake docker: unexpected compose action " + action)
'''


@pytest.fixture
def engine(tmp_path, monkeypatch):
    """A fake docker with a working engine on PATH; returns a function listing its calls."""
    bin_dir = tmp_path / "docker-bin"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text(FAKE_DOCKER.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("SEAMLAB_DOCKER", raising=False)
    monkeypatch.delenv("FAKE_DOCKER_FAIL", raising=False)

    def calls(kind: str = "compose") -> list[list[str]]:
        path = bin_dir / "calls.jsonl"
        if not path.exists():
            return []
        every = [json.loads(line) for line in path.read_text().splitlines()]
        return [call for call in every if call[0] == kind]

    yield calls
    for pid_file in (bin_dir / "containers").rglob("*.pid"):  # what a failed test left running
        terminate(read_pid(pid_file))


@pytest.fixture
def course(tmp_path) -> tuple[Path, Settings]:
    """A course folder whose docker-compose.test.yml publishes Redis and mail on free ports."""
    root = tmp_path / "course"
    root.mkdir()
    compose = yaml.safe_load((REPO / "docker-compose.test.yml").read_text())
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0",
                        mail_url=f"http://127.0.0.1:{free_port()}")
    for name, inner in (("redis", 6379), ("mail", 8025)):
        port = backends.port_of(settings, name)
        compose["services"][name]["ports"] = [f"127.0.0.1:{port}:{inner}"]
    (root / backends.COMPOSE_FILE).write_text(yaml.safe_dump(compose))
    return root, settings


def compose_call(root: Path, *args: str) -> list[str]:
    return ["compose", "-f", str(root / backends.COMPOSE_FILE), *args]


@pytest.mark.slow
def test_up_runs_docker_compose_up_wait_when_an_engine_answers(engine, course):
    root, settings = course
    try:
        report = backends.up(root, ["redis", "mail"], settings=settings)
        assert report.ok, [s.problem for s in report.services]
        assert report.path == "docker compose"
        assert [(s.service, s.state) for s in report.services] == [
            ("redis", "started"), ("mail", "started")]
        assert engine() == [compose_call(root, "up", "-d", "--wait", "redis", "mail")]
        assert redis.Redis.from_url(settings.redis_url).ping()
        assert [s.source for s in backends.doctor(root, ["redis", "mail"], settings=settings)] == [
            "docker compose", "docker compose"]
        assert backends.docker_started(root) == ["redis", "mail"]
    finally:
        results = backends.down(root, settings=settings)
    assert engine()[-1] == compose_call(root, "down", "--volumes")
    assert ("docker", "stopped (docker compose down): redis, mail") in [
        (item.service, item.what) for item in results]
    assert not port_open("127.0.0.1", backends.port_of(settings, "redis"))
    assert backends.docker_started(root) == []


@pytest.mark.slow
def test_a_second_up_finds_the_containers_running_and_calls_no_compose(engine, course):
    root, settings = course
    try:
        backends.up(root, ["redis"], settings=settings)
        again = backends.up(root, ["redis"], settings=settings)
        assert [(s.source, s.state, s.ok) for s in again.services] == [
            ("compose ports", "running", True)]
        assert len(engine()) == 1
    finally:
        backends.down(root, settings=settings)


def test_down_leaves_alone_servers_that_seamlab_did_not_start(engine, course, tmp_path):
    root, settings = course
    someone_elses = RedisServer(tmp_path / "theirs", backends.port_of(settings, "redis"))
    someone_elses.start()
    someone_elses.wait_ready()
    try:
        (status,) = backends.up(root, ["redis"], settings=settings).services
        assert (status.source, status.ok) == ("compose ports", True)
        backends.down(root, settings=settings)
        assert engine() == [], "compose must not run for servers seamlab did not start"
        assert redis.Redis.from_url(settings.redis_url).ping()
    finally:
        someone_elses.stop()


@pytest.mark.slow
def test_downing_some_services_removes_only_their_containers(engine, course):
    root, settings = course
    try:
        backends.up(root, ["redis", "mail"], settings=settings)
        results = backends.down(root, ["redis"], settings=settings)
        assert engine()[-1] == compose_call(root, "rm", "--stop", "--force", "--volumes", "redis")
        assert ("docker", "stopped (docker compose rm --stop): redis") in [
            (item.service, item.what) for item in results]
        assert not port_open("127.0.0.1", backends.port_of(settings, "redis"))
        assert backends.probe(settings, "mail").latency_ms > 0
        assert backends.docker_started(root) == ["mail"]
    finally:
        backends.down(root, settings=settings)
    assert engine()[-1] == compose_call(root, "down", "--volumes")


def test_a_failing_compose_up_is_one_line_with_the_cause_and_the_fix(engine, course, monkeypatch):
    root, settings = course
    cause = ("Error response from daemon: driver failed programming external connectivity: "
             "Bind for 127.0.0.1:6380 failed: port is already allocated")
    monkeypatch.setenv("FAKE_DOCKER_FAIL", cause)
    report = backends.up(root, ["redis", "mail"], settings=settings)
    assert not report.ok
    for status in report.services:
        assert (status.source, status.state) == ("docker compose", "down")
        assert "\n" not in status.problem
        assert status.problem.startswith(f"`docker compose up` failed: {cause}. Fix: ")
        assert f"docker compose -f {root / backends.COMPOSE_FILE} logs redis mail" in status.problem
        assert "SEAMLAB_DOCKER=0 seamlab up" in status.problem
    # Containers may exist after a failed `up`: `down` still cleans them up.
    monkeypatch.delenv("FAKE_DOCKER_FAIL")
    backends.down(root, settings=settings)
    assert engine()[-1] == compose_call(root, "down", "--volumes")


def test_the_cli_prints_a_failing_compose_once_and_exits_non_zero(engine, course, monkeypatch):
    from typer.testing import CliRunner

    from seamlab.cli import app

    root, settings = course
    monkeypatch.setenv("FAKE_DOCKER_FAIL", "no space left on device")
    monkeypatch.setenv("SEAMLAB_HOME", str(root))
    monkeypatch.setattr(Settings, "from_env", classmethod(lambda cls, environ=None: settings))
    result = CliRunner().invoke(app, ["up", "-s", "redis", "-s", "mail"])
    assert result.exit_code == 3, result.output
    problems = [line for line in result.output.splitlines() if "Fix:" in line]
    expected = (
        f"x `docker compose up` failed: no space left on device. Fix: see `docker compose -f "
        f"{root / backends.COMPOSE_FILE} logs redis mail`, or run `SEAMLAB_DOCKER=0 seamlab up` "
        "to use local servers instead of Docker."
    )
    assert problems == [expected]
    monkeypatch.delenv("FAKE_DOCKER_FAIL")
    backends.down(root, settings=settings)


def test_a_docker_client_without_compose_says_to_install_the_plugin(course, tmp_path, monkeypatch):
    bin_dir = tmp_path / "old-docker"
    bin_dir.mkdir()
    script = bin_dir / "docker"
    script.write_text("#!/bin/sh\n[ \"$1\" = info ] && exit 0\n"
                      "echo \"docker: 'compose' is not a docker command.\" >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("SEAMLAB_DOCKER", raising=False)  # scripts/laptop-sim sets it to 0
    root, settings = course
    (status,) = backends.up(root, ["redis"], settings=settings).services
    assert "'compose' is not a docker command" in status.problem
    assert "install the Docker Compose v2 plugin" in status.problem


def test_SEAMLAB_DOCKER_0_keeps_up_off_docker_even_with_an_engine(engine, course, monkeypatch):
    root, settings = course
    monkeypatch.setenv("SEAMLAB_DOCKER", "0")
    try:
        (status,) = backends.up(root, ["mail"], settings=settings).services
        assert (status.source, status.ok) == ("embedded", True)
        assert engine("info") == [] and engine() == []
    finally:
        backends.down(root, settings=settings)


def test_an_image_compose_cannot_pull_is_named_with_the_fix_in_one_line(tmp_path):
    failed = subprocess.CompletedProcess(["docker"], 1, "", (
        " Image seamlab/nope:1 Pulling \n"
        ' Image seamlab/nope:1 Error Get "https://registry-1.docker.io/v2/": dial tcp: no such host\n'
        'Error response from daemon: Get "https://registry-1.docker.io/v2/": no such host\n'))
    problem = backends.compose_problem("up", failed, tmp_path, ["redis"])
    assert "\n" not in problem
    assert problem.startswith("`docker compose up` failed: the image seamlab/nope:1 is not on this")
    assert "`docker pull seamlab/nope:1`" in problem and "scripts/docker-images" in problem
