"""`seamlab hint [EX]`: reveal the next hint, and show the ones already revealed."""

from __future__ import annotations

from seamlab import render
from seamlab.commands import OK
from seamlab.commands.check import resolve_or_explain
from seamlab.commands.workspace import Workspace

LABELS = ("a nudge", "a pointer at the seam", "nearly the answer")


def hint(ws: Workspace, ref: str | None) -> int:
    exercise = resolve_or_explain(ws, ref)
    if isinstance(exercise, int):
        return exercise
    before = ws.progress.of(exercise.slug).hints_revealed
    revealed = ws.progress.reveal_hint(exercise.slug, len(exercise.hints))
    if warning := ws.progress.save():
        ws.console.print(f"[yellow]Warning:[/] {warning}", soft_wrap=True)

    ws.console.print(render.exercise_heading(exercise))
    total = len(exercise.hints)
    for number, text in enumerate(exercise.hints[:revealed], start=1):
        label = LABELS[number - 1] if number <= len(LABELS) else ""
        new = number > before
        style = "bold" if new else "dim"
        ws.console.print(f"\n[{style}]Hint {number} of {total}[/] [dim]({label})[/]")
        render.paragraph(ws.console, text, indent=2, style=None if new else "dim")
    ws.console.print()
    if revealed < total:
        ws.console.print(
            f"Try it, then [cyan]seamlab check {exercise.id}[/]. "
            f"Still stuck? [cyan]seamlab hint {exercise.id}[/] again for hint {revealed + 1}."
        )
    else:
        ws.console.print(
            f"That was the last hint. Chapter {exercise.chapter}'s notebook explains this seam; "
            f"after a pass, [cyan]seamlab solution {exercise.id}[/] shows the reference fix."
        )
    return OK
