"""`seamlab` (progress and the next exercise) and `seamlab list` (every exercise)."""

from __future__ import annotations

from seamlab import render
from seamlab.commands import OK
from seamlab.commands.workspace import Workspace


def overview(ws: Workspace) -> int:
    render.overview(ws.console, ws.course, ws.progress, ws.current())
    return OK


def listing(ws: Workspace) -> int:
    ws.console.print(render.exercise_table(ws.course, ws.progress, ws.current()))
    return OK
