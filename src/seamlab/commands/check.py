"""`seamlab check [EX]`: grade an exercise against the real services and say what broke."""

from __future__ import annotations

from pathlib import Path

from seamlab import render
from seamlab.commands import FAILED, INFRA, OK, USAGE
from seamlab.commands.workspace import Workspace
from seamlab.course import Exercise


def exit_code(verdict: str) -> int:
    """0 only when every hidden test passed; 3 when the services, not the code, are at fault."""
    if verdict == "passed":
        return OK
    if verdict == "infra_error":
        return INFRA
    return FAILED


def check(
    ws: Workspace,
    ref: str | None,
    *,
    target: Path | None = None,
    as_json: bool = False,
    junit: Path | None = None,
    timeout: float | None = None,
) -> int:
    exercise = ws.exercise(ref)
    if exercise is None:
        ws.console.print("Every exercise passes. Name one to check it again: `seamlab check 01`.")
        return OK
    from seamlab.instructor.release import hidden_shipped

    if not hidden_shipped(ws.root):  # a student bundle released with --no-hidden
        from seamlab.commands.instructor import check_visible_only

        return check_visible_only(ws, exercise, as_json=as_json, timeout=timeout)
    from seamlab import warm

    if warm.mode() is None:  # a server per course that outlives this command (idle timeout)
        warm.use("shared", ws.root)
    result = grade_once(ws, exercise, target=target, junit=junit, timeout=timeout)
    if result is None:
        return INFRA
    if as_json:
        print(result.to_json())
    else:
        render.grade_result(
            ws.console,
            exercise,
            result,
            hints_revealed=ws.progress.of(exercise.slug).hints_revealed,
            next_exercise=ws.after(exercise) if result.passed else None,
        )
    return exit_code(result.verdict)


def grade_once(ws: Workspace, exercise: Exercise, *, target: Path | None = None,
               junit: Path | None = None, timeout: float | None = None):
    """Grade, and record the result in progress when it is the learner's own folder."""
    try:
        from seamlab.grading import grade
    except ImportError as error:
        ws.console.print(
            f"[magenta]The grading engine cannot be loaded ({error}).[/] Fix: reinstall the "
            f"course with `make start` (or `pip install -e .`)."
        )
        return None
    folder = (target or exercise.folder).resolve()
    if target is not None and not folder.is_dir():
        ws.console.print(f"[red]--target {target} is not a folder.[/] Point it at an exercise folder.")
        return None
    result = grade(exercise, target=folder, junit=junit, timeout=timeout)
    if records_progress(exercise, folder):
        ws.progress.record_check(exercise.slug, result.verdict, result.score, result.max_score)
        if warning := ws.progress.save():
            ws.console.print(f"[yellow]Warning:[/] {warning}", soft_wrap=True)
    return result


def records_progress(exercise: Exercise, folder: Path) -> bool:
    """A check counts in progress when it graded the learner's own exercise folder."""
    return Path(folder).resolve() == exercise.folder.resolve()


def resolve_or_explain(ws: Workspace, ref: str | None) -> Exercise | int:
    """The exercise for ``ref``, or an exit code after explaining why there is none."""
    exercise = ws.exercise(ref)
    if exercise is None:
        ws.console.print("Every exercise passes. Name one: `seamlab list` shows them.")
        return USAGE
    return exercise
