"""`seamlab solution EX [--force]`: the reference fix as a diff against the starter."""

from __future__ import annotations

import difflib

from rich.markup import escape

from seamlab.commands import OK, USAGE
from seamlab.commands.starters import starter, tree_files
from seamlab.commands.workspace import Workspace


def solution(ws: Workspace, ref: str, *, force: bool = False) -> int:
    exercise = ws.course.exercise(ref)
    if not ws.progress.passed(exercise.slug) and not force:
        ws.console.print(
            f"The reference solution of {exercise.id} opens once your code passes "
            f"([cyan]seamlab check {exercise.id}[/]). Working it out is where the learning "
            f"happens; [cyan]seamlab hint {exercise.id}[/] helps. To look anyway: "
            f"[cyan]seamlab solution {exercise.id} --force[/]."
        )
        return USAGE
    if not exercise.solution_folder.is_dir():
        ws.console.print(
            f"[yellow]This copy of the course has no solutions/{exercise.slug}/[/] "
            f"(a student release leaves them out). Ask your instructor for the reference."
        )
        return USAGE
    diff = unified_diff(ws, exercise)
    if not diff:
        ws.console.print("The reference solution is the same as the starter code.")
        return OK
    ws.console.print(
        f"[bold]{exercise.id} · {escape(exercise.title)}[/]: the reference fix "
        f"(starter → solutions/{exercise.slug}/)\n"
    )
    for line in diff:
        style = _style(line)
        ws.console.print(escape(line), style=style, soft_wrap=True, highlight=False)
    return OK


def unified_diff(ws: Workspace, exercise) -> list[str]:
    before = tree_files(starter(exercise))
    after = tree_files(exercise.solution_folder)
    lines: list[str] = []
    for rel in sorted(set(before) | set(after)):
        if rel.endswith(".md"):
            continue  # the README is the task, not the fix
        old = before[rel].read_text(encoding="utf-8").splitlines() if rel in before else []
        new = after[rel].read_text(encoding="utf-8").splitlines() if rel in after else []
        if old == new:
            continue
        lines.extend(
            difflib.unified_diff(old, new, f"starter/{rel}", f"solution/{rel}", lineterm="")
        )
    return lines


def _style(line: str) -> str | None:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    if line.startswith("@@"):
        return "cyan"
    return None
