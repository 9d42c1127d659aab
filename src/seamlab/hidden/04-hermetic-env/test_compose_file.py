"""Exercise 04, docker-compose.test.yml: the tests start only once their services answer, and the
file never takes the developer's own ports. Checked on the parsed YAML."""

from __future__ import annotations

import pytest
from _hermetic_yaml import (
    DEFAULT_PORTS,
    KIND_LABELS,
    compose_check_command,
    env_mapping,
    image_kind,
    patience_problem,
    probe_problem,
    published_ports,
    runs_pytest,
    seconds,
    url_host_port,
)

FILE = "docker-compose.test.yml"


def services_of(compose: dict) -> dict[str, dict]:
    services = compose.get("services")
    assert isinstance(services, dict) and services, f"{FILE} has no `services:` mapping."
    return {name: (spec or {}) for name, spec in services.items()}


def dependencies(compose: dict) -> dict[str, str]:
    """{service name: kind} for the Postgres and Redis services."""
    found = {
        name: image_kind(spec.get("image"))
        for name, spec in services_of(compose).items()
        if image_kind(spec.get("image"))
    }
    kinds = set(found.values())
    for kind in ("postgres", "redis"):
        assert kind in kinds, (
            f"{FILE} has no {KIND_LABELS[kind]} service (a service whose image is "
            f"{kind}:...); the integration tests need one."
        )
    return found


def test_runner(compose: dict) -> tuple[str, dict]:
    runners = [
        (name, spec)
        for name, spec in services_of(compose).items()
        if runs_pytest(spec.get("command")) or runs_pytest(spec.get("entrypoint"))
    ]
    assert runners, (
        f"No service in {FILE} runs pytest (in its `command:` or `entrypoint:`): keep the "
        f"`tests` service that runs the suite."
    )
    return runners[0]


test_runner.__test__ = False  # a helper, not a test


@pytest.mark.seam
def test_every_service_the_tests_need_has_a_real_healthcheck(compose):
    problems = []
    for name, kind in dependencies(compose).items():
        check = services_of(compose)[name].get("healthcheck")
        if not isinstance(check, dict) or check.get("disable") is True:
            problems.append(
                f"`{name}` has no healthcheck, so Docker calls it running as soon as the "
                f"process starts, long before {KIND_LABELS[kind]} accepts connections"
            )
            continue
        problem = probe_problem(kind, compose_check_command(check.get("test")),
                                env_mapping(services_of(compose)[name].get("environment")))
        if problem:
            problems.append(f"`{name}`: {problem}")
            continue
        problem = patience_problem(
            seconds(check.get("interval")), check.get("retries"),
            seconds(check.get("start_period")), f"`{name}`",
        )
        if problem:
            problems.append(problem)
    assert not problems, f"In {FILE}:\n  - " + "\n  - ".join(problems)


@pytest.mark.seam
def test_the_tests_start_only_when_their_services_are_healthy(compose):
    name, runner = test_runner(compose)
    needed = dependencies(compose)
    depends_on = runner.get("depends_on")
    if isinstance(depends_on, list) or depends_on is None:
        listed = ", ".join(map(str, depends_on or [])) or "nothing"
        raise AssertionError(
            f"In {FILE}, `{name}` depends on {listed} as a plain list. A list only makes "
            f"Compose start those containers first; it does not wait until Postgres accepts "
            f"connections, so the first tests fail with 'connection refused' on a cold start. "
            f"Expected: `depends_on:` as a mapping, each of "
            f"{', '.join(sorted(needed))} with `condition: service_healthy`."
        )
    problems = []
    for service in sorted(needed):
        condition = (depends_on.get(service) or {}).get("condition") if isinstance(
            depends_on.get(service), dict) else None
        if service not in depends_on:
            problems.append(f"`{service}` is not in its depends_on")
        elif condition != "service_healthy":
            problems.append(
                f"`{service}` has condition {condition!r}: only `service_healthy` waits for the "
                f"health check to pass (`service_started` is what a plain list means)"
            )
    assert not problems, (
        f"In {FILE}, the `{name}` service would start before its services are ready:\n  - "
        + "\n  - ".join(problems)
    )


@pytest.mark.seam
def test_no_service_takes_the_developers_own_ports(compose):
    problems = []
    for name, kind in dependencies(compose).items():
        for host_port, _ in published_ports(services_of(compose)[name].get("ports")):
            if host_port == DEFAULT_PORTS[kind]:
                problems.append(
                    f"`{name}` publishes host port {host_port}, the port of the developer's own "
                    f"{KIND_LABELS[kind]}: either the stack cannot start next to it, or a test "
                    f"run configured for that port ends up in their own "
                    f"{'database' if kind == 'postgres' else 'Redis'}. Publish another host port "
                    f"(e.g. {host_port + 1}:{DEFAULT_PORTS[kind]})"
                )
    assert not problems, f"In {FILE}:\n  - " + "\n  - ".join(problems)


def test_the_tests_container_reaches_services_by_name_and_container_port(compose):
    name, runner = test_runner(compose)
    env = env_mapping(runner.get("environment"))
    needed = dependencies(compose)
    postgres = sorted(n for n, kind in needed.items() if kind == "postgres")
    redis = sorted(n for n, kind in needed.items() if kind == "redis")
    problems = []
    for variable in ("TEST_DB_HOST", "TEST_DB_PORT", "TEST_DB_NAME", "TEST_DB_USER",
                     "TEST_REDIS_URL"):
        if not env.get(variable):
            problems.append(f"{variable} is not set in its `environment:`")
    if env.get("TEST_DB_HOST") and env["TEST_DB_HOST"] not in postgres:
        problems.append(
            f"TEST_DB_HOST={env['TEST_DB_HOST']!r}: inside the Compose network the database is "
            f"reached by its service name ({' or '.join(postgres)})"
        )
    if env.get("TEST_DB_PORT") and env["TEST_DB_PORT"] != "5432":
        problems.append(
            f"TEST_DB_PORT={env['TEST_DB_PORT']!r}: containers talk to each other on the "
            f"container port (5432); the host port is only for the host"
        )
    if env.get("TEST_REDIS_URL"):
        host, port = url_host_port(env["TEST_REDIS_URL"], 6379)
        if host not in redis or port != 6379:
            problems.append(
                f"TEST_REDIS_URL={env['TEST_REDIS_URL']!r}: inside the Compose network Redis is "
                f"{' or '.join(redis)}:6379 (service name, container port)"
            )
    assert not problems, f"In {FILE}, the `{name}` service:\n  - " + "\n  - ".join(problems)
