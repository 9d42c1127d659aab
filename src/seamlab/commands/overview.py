"""`seamlab` (progress and the next exercise) and `seamlab list` (every exercise)."""

from __future__ import annotations

from seamlab import render
from seamlab.commands import OK
from seamlab.commands.workspace import Workspace


def overview(ws: Workspace) -> int:
    render.overview(ws.console, ws.course, ws.progress, ws.current())
    return OK


def listing(ws: Workspace) -> int:
    ws.console.print(render.exercise_table(ws.course, ws.progress, ws.current(), _waiting(ws)))
    return OK


def _waiting(ws: Workspace) -> dict[str, str]:
    """The services nothing answers for (a port check per service): their exercises wait."""
    from seamlab.backends import TITLES, unanswered_services
    from seamlab.config import Settings
    from seamlab.errors import SeamlabError

    try:
        settings = Settings.from_env()
    except SeamlabError:
        return {}
    needed = {service for exercise in ws.course.exercises for service in exercise.services}
    return {service: TITLES[service] for service in sorted(unanswered_services(settings, needed))}
