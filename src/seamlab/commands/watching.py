"""`seamlab watch [EX]`: check once, then again every time a file in the exercise is saved."""

from __future__ import annotations

import threading

from rich.markup import escape

from seamlab import render, watch
from seamlab.commands import INFRA, OK
from seamlab.commands.check import grade_once
from seamlab.commands.workspace import Workspace


def watch_exercise(ws: Workspace, ref: str | None, *, poll: bool | None = None,
                   stop: threading.Event | None = None) -> int:
    """Without ``ref``, follow the current exercise and move on to the next one after a pass."""
    follow = ref is None
    exercise = ws.exercise(ref)
    if exercise is None:
        ws.console.print("Every exercise passes; nothing to watch. `seamlab list` shows them.")
        return OK
    stop = stop or threading.Event()
    console = ws.console
    from seamlab import warm

    warm.use("session")  # one warm server for every re-check, gone with the watch

    def run_check() -> str | None:
        """Grade and render; the verdict, or None when grading could not start at all."""
        result = grade_once(ws, exercise)
        if result is None:
            return None
        render.grade_result(
            console, exercise, result,
            hints_revealed=ws.progress.of(exercise.slug).hints_revealed,
            next_exercise=ws.after(exercise) if result.passed else None,
        )
        return result.verdict

    def waiting_line() -> None:
        console.print(
            f"\n[dim]Watching exercises/{escape(exercise.slug)}/ — save a file to re-check, "
            f"Ctrl-C to stop.[/]"
        )

    try:
        verdict = run_check()
        if verdict is None:
            return INFRA
        while verdict == "passed":
            nxt = _advance(ws, exercise, follow)
            if nxt is None:
                return OK
            if nxt.slug == exercise.slug:
                break
            exercise = nxt
            verdict = run_check()
        baseline = watch.snapshot(exercise.folder)  # before the line that invites a save
        waiting_line()
        while not stop.is_set():
            moved = False
            for _batch in watch.changes(
                exercise.folder, stop=stop, poll=poll, baseline=baseline,
                on_fallback=lambda why: console.print(f"[dim]({escape(why)})[/]"),
            ):
                console.rule(f"re-checking {exercise.id}")
                if run_check() == "passed":
                    nxt = _advance(ws, exercise, follow)
                    if nxt is None:
                        return OK
                    if nxt.slug != exercise.slug:
                        exercise, moved = nxt, True
                        baseline = watch.snapshot(exercise.folder)
                        break  # watch the new exercise's folder
                waiting_line()
            if not moved:
                return OK  # the watcher ended: stop was set
    except KeyboardInterrupt:
        console.print("\nStopped watching.")
    finally:
        warm.use(None)
    return OK


def _advance(ws: Workspace, exercise, follow: bool):
    """After a pass: the next exercise when following the course, else keep this one."""
    if not follow:
        return exercise
    nxt = ws.current()
    if nxt is None:
        ws.console.print("[green]Every exercise passes.[/] Nothing left to watch.")
        return None
    ws.console.print(f"\nMoving on to [bold]{nxt.id} · {escape(nxt.title)}[/]: read exercises/{nxt.slug}/README.md")
    return nxt
