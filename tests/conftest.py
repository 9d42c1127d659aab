"""The project's own tests. The seamlab fixtures come from the plugin's pytest11 entry point."""

from __future__ import annotations

import pytest

pytest_plugins = ("pytester",)

# Throwaway exercises that the grading tests copy and grade; never collected directly.
collect_ignore = ["fixtures"]


def _needs_rabbitmq(item: pytest.Item, broker_slugs: set[str]) -> bool:
    """A test that talks to the broker: it asks for ``amqp_url``, or grades an exercise (or a
    fix of one) that needs RabbitMQ."""
    if "amqp_url" in getattr(item, "fixturenames", ()):
        return True
    for value in getattr(getattr(item, "callspec", None), "params", {}).values():
        if "rabbitmq" in getattr(value, "services", ()):
            return True
        if any(part in broker_slugs for part in getattr(value, "parts", ())):
            return True  # a fixture fix under tests/fixtures/fixes/<slug>/
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a machine that cannot have RabbitMQ (not installed, no Docker, nothing answering),
    what needs it is skipped with the reason, as the course tells a learner there: it waits."""
    from seamlab import course
    from seamlab.backends import cannot_run_here
    from seamlab.config import Settings
    from seamlab.errors import SeamlabError

    try:
        reason = cannot_run_here(Settings.from_env(), "rabbitmq")
    except SeamlabError:
        return
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    broker_slugs = {e.slug for e in course.load().exercises if "rabbitmq" in e.services}
    for item in items:
        if _needs_rabbitmq(item, broker_slugs):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    """Say so when the Docker-path tests (tests/test_docker_path.py) were skipped, and why."""
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(getattr(report, "longrepr", ("", "", ""))[-1])
        if "Docker-path tests skipped" in reason:
            terminalreporter.write_line(reason.removeprefix("Skipped: "))
            break
