"""Rich rendering for the learner: grade results, the exercise list and the progress overview.

Everything here takes data and a console and prints; nothing grades, reads files or decides.
Written for a stuck person: which seam broke, what the real service did, where in their code,
and the command that gives the next hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from seamlab.course import Course, Exercise
from seamlab.progress import ATTEMPTED, PASSED, Progress

if TYPE_CHECKING:  # the grading engine is imported lazily by the commands
    from seamlab.grading import GradeResult, TestOutcome

#: How many failing tests to spell out; the rest are counted.
SHOWN_FAILURES = 3
STATUS_STYLE = {PASSED: "green", ATTEMPTED: "yellow"}
STATUS_MARK = {PASSED: "✔ passed", ATTEMPTED: "✘ not yet"}


def sentence(test_name: str) -> str:
    """``test_a_day_after_the_twelfth_is_stored[28/06/1985-...]`` -> a readable sentence."""
    base, _, params = test_name.partition("[")
    words = re.sub(r"^test_?", "", base).replace("_", " ").strip()
    words = words[:1].upper() + words[1:]
    return f"{words} ({params.rstrip(']')})" if params else words


def exercise_heading(exercise: Exercise) -> str:
    return f"[bold]{exercise.id} · {escape(exercise.title)}[/]  [dim]seam: {escape(exercise.seam)}[/]"


def hint_nudge(exercise: Exercise, revealed: int) -> str:
    total = len(exercise.hints)
    if revealed < total:
        return (
            f"Stuck? [bold cyan]seamlab hint {exercise.id}[/] (hint {revealed + 1} of {total})"
        )
    return (
        f"All {total} hints are out: [bold cyan]seamlab hint {exercise.id}[/] shows them again; "
        f"chapter {exercise.chapter}'s notebook walks through this seam."
    )


# --- grade results --------------------------------------------------------------------------


def grade_result(
    console: Console,
    exercise: Exercise,
    result: GradeResult,
    *,
    hints_revealed: int,
    next_exercise: Exercise | None = None,
) -> None:
    console.print(exercise_heading(exercise))
    verdict = result.verdict
    if verdict == "passed":
        _passed(console, exercise, result, next_exercise)
        return
    if verdict == "infra_error":
        console.print("[bold magenta]! Could not grade: a service is not ready.[/] This is not your code.")
        console.print(f"  {escape(result.summary)}")
        for test in _failing(result.tests):
            if test.message and test.message.strip() not in result.summary:
                console.print(f"  {escape(test.first_line)}")
                break
        if "against you" not in result.summary:
            console.print("  Nothing was recorded against you; check again once it is fixed.")
        return

    failing = _failing(result.tests)
    passing = sum(1 for t in result.tests if t.outcome == "passed")
    if verdict == "failed":
        console.print(f"[bold red]✘ The seam {escape(exercise.seam)} is still broken.[/]")
    elif verdict == "learner_error":
        console.print("[bold red]✘ Your code raised an error before the seam could be checked.[/]")
    elif verdict == "timed_out":
        console.print(
            "[bold red]✘ A test ran out of time.[/] Something in the code waits for ever or "
            "loops: a missing commit, a lock, a loop without an exit?"
        )
    else:
        console.print(f"[bold red]✘ {escape(verdict)}[/]")
    if result.summary and not result.tests:  # otherwise the tests below say it better
        console.print(Padding(Text(result.summary.strip(), style="dim"), (0, 0, 0, 2), expand=False))

    for test in failing[:SHOWN_FAILURES]:
        _failure(console, test)
    if len(failing) > SHOWN_FAILURES:
        console.print(f"  … and {len(failing) - SHOWN_FAILURES} more failing test(s).")
    if result.mutants:
        _mutants(console, result)
    if result.tests:
        console.print(f"  {passing} of {len(result.tests)} hidden tests pass.")
    console.print()
    console.print(hint_nudge(exercise, hints_revealed))


def _passed(console: Console, exercise: Exercise, result: GradeResult, nxt: Exercise | None) -> None:
    services = ", ".join(exercise.services) or "the real services"
    count = len(result.tests)
    console.print(
        f"[bold green]✔ Passed.[/] {count} hidden test{'s' if count != 1 else ''} against real "
        f"{escape(services)} in {result.duration:.1f} s. Score {result.score}/{result.max_score}."
    )
    if result.mutants:
        _mutants(console, result)
    console.print(
        f"  Compare with the reference: [bold cyan]seamlab solution {exercise.id}[/]"
    )
    if nxt is not None:
        console.print(f"  Next: [bold]{nxt.id} · {escape(nxt.title)}[/]  ([cyan]seamlab check {nxt.id}[/])")
    else:
        console.print("  That was the last exercise not yet passed. Well done.")


def _failing(tests: Iterable[TestOutcome]) -> list[TestOutcome]:
    """Failing tests, the seam tests first (they say the most)."""
    bad = [t for t in tests if t.outcome != "passed"]
    return sorted(bad, key=lambda t: (not t.seam, t.outcome == "infra"))


def _failure(console: Console, test: TestOutcome) -> None:
    label = {"error": "error in your code", "timeout": "timed out", "infra": "service trouble"}
    kind = label.get(test.outcome)
    mark = "[bold red]✘[/]"
    suffix = f" [dim]({kind})[/]" if kind else ""
    console.print(f"\n  {mark} [bold]{escape(sentence(test.name))}[/]{suffix}")
    lines = readable_lines(test.message)
    if lines:
        for line in lines[:6]:
            console.print(Padding(Text(line), (0, 0, 0, 6), expand=False))
        if len(lines) > 6:
            console.print("      [dim]…[/]")
    if test.location:
        console.print(f"      at [bold]{escape(test.location)}[/]")


def _mutants(console: Console, result: GradeResult) -> None:
    caught = sum(1 for m in result.mutants if m.caught)
    console.print(f"  Your tests caught {caught} of {len(result.mutants)} planted faults.")
    for mutant in result.mutants:
        if not mutant.caught:
            console.print(f"    [yellow]missed:[/] {escape(mutant.description or mutant.name)}")


def readable_lines(message: str) -> list[str]:
    """The message without pytest's ``assert x == y`` introspection when a sentence explains it."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    explained = lines and not lines[0].lstrip().startswith("assert ")
    if explained:
        lines = [line for line in lines if not re.match(r"^\s*(assert |\+ )", line)]
    return lines


# --- list and overview ----------------------------------------------------------------------


def exercise_table(course: Course, progress: Progress, current: Exercise | None) -> Table:
    table = Table(title=escape(course.title), title_justify="left", show_lines=False)
    table.add_column("ch", style="dim", no_wrap=True)
    table.add_column("exercise", no_wrap=True)
    table.add_column("seam")
    table.add_column("status", no_wrap=True)
    table.add_column("points", justify="right", no_wrap=True)
    for exercise in course.exercises:
        entry = progress.of(exercise.slug)
        status = entry.status
        text = STATUS_MARK.get(status, "· not started")
        style = STATUS_STYLE.get(status, "dim")
        pointer = "→ " if current is not None and exercise.slug == current.slug else "  "
        points = f"{_score(entry.best_score, exercise.points, entry.max_score)}/{exercise.points}"
        table.add_row(
            exercise.chapter,
            f"{pointer}{exercise.id} {escape(exercise.title)}",
            escape(exercise.seam),
            f"[{style}]{text}[/]",
            points,
        )
    return table


def overview(console: Console, course: Course, progress: Progress, current: Exercise | None) -> None:
    total = sum(e.points for e in course.exercises)
    earned = sum(
        _score(progress.of(e.slug).best_score, e.points, progress.of(e.slug).max_score)
        for e in course.exercises
    )
    done = sum(1 for e in course.exercises if progress.passed(e.slug))
    console.print(f"[bold]{escape(course.title)}[/]")
    console.print(
        f"{done} of {len(course.exercises)} exercises passed, {earned} of {total} points."
    )
    if not course.exercises:
        console.print("This course has no exercises yet.")
        return
    if current is None:
        console.print("[green]Every exercise passes.[/] `seamlab list` shows them all.")
        return
    chapter = course.chapter(current.chapter)
    console.print()
    console.print(f"Next: {exercise_heading(current)}")
    console.print(f"  Read   exercises/{current.slug}/README.md  (chapter {chapter.id}: {escape(chapter.title)})")
    console.print(f"  Check  [bold cyan]seamlab check {current.id}[/]   or re-check on save: [cyan]seamlab watch[/]")
    revealed = progress.of(current.slug).hints_revealed
    console.print(f"  {hint_nudge(current, revealed)}")


def _score(best: float, points: int, max_score: float) -> int:
    """Scale a grader score (out of ``max_score``) to the exercise's points."""
    if not best:
        return 0
    if max_score and max_score != points:
        return round(points * best / max_score)
    return round(best)
