"""Exercise 04, .github/workflows/tests.yml: service containers with health options, the job
reaching them the way it runs (on the runner or in a container), every TEST_* given, and a
timeout on pytest. Checked on the parsed YAML."""

from __future__ import annotations

import re

import pytest
from _hermetic_yaml import (
    KIND_LABELS,
    env_mapping,
    image_kind,
    patience_problem,
    probe_problem,
    published_ports,
    seconds,
    split_command,
    url_host_port,
)

FILE = ".github/workflows/tests.yml"
REQUIRED = ("TEST_DB_HOST", "TEST_DB_PORT", "TEST_DB_NAME", "TEST_DB_USER", "TEST_REDIS_URL")
LOCAL_HOSTS = ("localhost", "127.0.0.1")
CONTAINER_PORTS = {"postgres": 5432, "redis": 6379}


class Job:
    def __init__(self, workflow: dict, name: str, spec: dict) -> None:
        self.name = name
        self.spec = spec
        steps = spec.get("steps") or []
        self.pytest_step = next(
            (
                step
                for step in steps
                if isinstance(step, dict) and "pytest" in str(step.get("run", ""))
            ),
            None,
        )
        self.env = {
            **env_mapping(workflow.get("env")),
            **env_mapping(spec.get("env")),
            **env_mapping((self.pytest_step or {}).get("env")),
        }
        self.services = {n: (s or {}) for n, s in (spec.get("services") or {}).items()}

    @property
    def in_container(self) -> bool:
        return bool(self.spec.get("container"))

    def of_kind(self, kind: str) -> list[str]:
        return sorted(n for n, s in self.services.items() if image_kind(s.get("image")) == kind)


@pytest.fixture(scope="module")
def job(workflow) -> Job:
    jobs = workflow.get("jobs")
    assert isinstance(jobs, dict) and jobs, f"{FILE} has no `jobs:`."
    for name, spec in jobs.items():
        candidate = Job(workflow, name, spec or {})
        if candidate.pytest_step is not None:
            return candidate
    raise AssertionError(f"No job in {FILE} has a step that runs pytest.")


def health_options(options: str) -> dict[str, str]:
    """`--health-cmd "..." --health-interval 2s` -> {'cmd': '...', 'interval': '2s'}."""
    found: dict[str, str] = {}
    tokens = split_command(options or "")
    for index, token in enumerate(tokens):
        if token.startswith("--health-"):
            key, equals, value = token[len("--health-"):].partition("=")
            if not equals and index + 1 < len(tokens):
                value = tokens[index + 1]
            found[key] = value
    return found


@pytest.mark.seam
def test_the_service_containers_report_their_health(job):
    problems = []
    for kind in ("postgres", "redis"):
        if not job.of_kind(kind):
            problems.append(f"the job has no {KIND_LABELS[kind]} service container")
    for name, service in job.services.items():
        kind = image_kind(service.get("image"))
        if kind is None:
            continue
        health = health_options(str(service.get("options") or ""))
        if "cmd" not in health:
            problems.append(
                f"service `{name}` has no `--health-cmd` in its `options:`. Without a health "
                f"command the runner starts the steps as soon as the container runs, before "
                f"{KIND_LABELS[kind]} accepts connections"
            )
            continue
        problem = probe_problem(kind, health["cmd"], env_mapping(service.get("env")))
        if problem:
            problems.append(f"service `{name}`: {problem}")
            continue
        problem = patience_problem(
            seconds(health.get("interval")), health.get("retries"),
            seconds(health.get("start-period")), f"service `{name}`",
        )
        if problem:
            problems.append(problem)
    assert not problems, f"In {FILE}, job `{job.name}`:\n  - " + "\n  - ".join(problems)


@pytest.mark.seam
def test_the_job_passes_every_test_variable(job):
    missing = [name for name in REQUIRED if not job.env.get(name, "").strip()]
    assert not missing, (
        f"In {FILE}, job `{job.name}` does not set {', '.join(missing)} for its pytest step "
        f"(in the step's, the job's or the workflow's `env:`). In CI the configuration must "
        f"refuse to guess, so every service address has to be passed explicitly."
    )
    problems = []
    for name in job.of_kind("postgres"):
        service_env = env_mapping(job.services[name].get("env"))
        user = service_env.get("POSTGRES_USER", "postgres")
        database = service_env.get("POSTGRES_DB", user)
        for variable, expected in (("TEST_DB_USER", user), ("TEST_DB_NAME", database)):
            value = job.env.get(variable, "")
            if "${{" not in value and value != expected:
                problems.append(
                    f"{variable}={value!r}, but service `{name}` creates {expected!r} "
                    f"(POSTGRES_{'USER' if variable == 'TEST_DB_USER' else 'DB'})"
                )
        password = service_env.get("POSTGRES_PASSWORD")
        value = job.env.get("TEST_DB_PASSWORD", "")
        if password and "${{" not in value and "${{" not in password and value != password:
            problems.append(
                f"TEST_DB_PASSWORD={value!r}, but service `{name}` sets POSTGRES_PASSWORD "
                f"{password!r}"
            )
    assert not problems, f"In {FILE}, job `{job.name}`:\n  - " + "\n  - ".join(problems)


def _mapped_port_expression(value: str, service: str, container_port: int) -> bool:
    pattern = (
        r"\$\{\{\s*job\.services\." + re.escape(service)
        + r"\.ports\[\s*['\"]?" + str(container_port) + r"['\"]?\s*\]\s*\}\}"
    )
    return re.fullmatch(pattern, value.strip()) is not None


@pytest.mark.seam
def test_the_job_reaches_its_services_the_way_it_runs(job):
    problems = []
    targets = []
    for kind in ("postgres", "redis"):
        names = job.of_kind(kind)
        if kind == "postgres":
            host, port = job.env.get("TEST_DB_HOST"), job.env.get("TEST_DB_PORT")
        elif job.env.get("TEST_REDIS_URL"):
            host, port = url_host_port(job.env["TEST_REDIS_URL"], 6379)
        else:
            host, port = None, None
        if not names or host is None:
            continue  # reported by the other tests
        targets.append((kind, names, host, None if port is None else str(port)))

    container = CONTAINER_PORTS
    for kind, names, host, port in targets:
        label = KIND_LABELS[kind]
        if job.in_container:
            if host not in names:
                problems.append(
                    f"{label} is reached at host {host!r}, but the job runs in a container "
                    f"(`container: {job.spec.get('container')}`). There, {host!r} is the job's "
                    f"own container, where nothing listens; the service containers are on the "
                    f"same Docker network under their service names. Use host "
                    f"{' or '.join(repr(n) for n in names)}"
                )
            elif port != str(container[kind]):
                problems.append(
                    f"{label} is reached at {host}:{port}; from a job container, services answer "
                    f"on their container port ({container[kind]}), whatever `ports:` maps on "
                    f"the runner"
                )
        else:
            if host not in LOCAL_HOSTS:
                problems.append(
                    f"{label} is reached at host {host!r}, but the job runs directly on the "
                    f"runner (no `container:`). The runner cannot resolve service names: it "
                    f"reaches service containers through the ports they map, on localhost"
                )
                continue
            mapped = {
                hp for n in names
                for hp, cp in published_ports(job.services[n].get("ports")) if cp == container[kind]
            }
            by_expression = any(
                _mapped_port_expression(port or "", n, container[kind]) for n in names
            )
            if not mapped and not by_expression:
                problems.append(
                    f"{label} is reached at localhost, but its service maps no port "
                    f"({container[kind]} is not in its `ports:`): from the runner, a service "
                    f"container is reachable only through a mapped port"
                )
            elif not by_expression and (
                port is None or not port.isdigit() or int(port) not in mapped
            ):
                shown = ", ".join(str(p) if p else "a random port" for p in sorted(mapped, key=str))
                problems.append(
                    f"{label} is reached at localhost:{port}, but the service maps container port "
                    f"{container[kind]} to {shown} on the runner (for a port the runner picks, "
                    f"use `${{{{ job.services.{names[0]}.ports[{container[kind]}] }}}}`)"
                )
    assert not problems, f"In {FILE}, job `{job.name}`:\n  - " + "\n  - ".join(problems)


@pytest.mark.seam
def test_pytest_runs_with_a_timeout(job):
    command = str(job.pytest_step.get("run"))
    addopts = job.env.get("PYTEST_ADDOPTS", "")
    tokens = split_command(command) + split_command(addopts)
    assert any(t == "--timeout" or t.startswith("--timeout=") for t in tokens), (
        f"In {FILE}, job `{job.name}` runs `{command.strip()}` with no --timeout. A test that "
        f"waits on a service that never answers then hangs until the job's own limit (6 hours "
        f"by default on GitHub), and the log says nothing about which test. Expected: pytest "
        f"--timeout=<seconds> (pytest-timeout), so a hung test fails on its own, with a trace."
    )
