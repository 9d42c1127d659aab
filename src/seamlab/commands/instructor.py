"""Instructor commands: `release`, `autograde`, `gradebook merge` (typer functions; thin).

The work is in ``seamlab.instructor``; these parse options, show progress and print where
things were written. Exit codes as for the learner commands: 0 done, 2 a usage problem,
3 the services are not ready.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from seamlab.commands import INFRA, OK, USAGE
from seamlab.errors import SeamlabError, ServiceUnavailable

gradebook_app = typer.Typer(help="Work with autograde results (merge shards).",
                            no_args_is_help=True, rich_markup_mode=None)


def _course():
    from seamlab import course

    return course.load()


def _fail(console: Console, error: Exception) -> None:
    console.print(str(error), markup=False, highlight=False)
    raise typer.Exit(INFRA if isinstance(error, ServiceUnavailable) else USAGE)


def release(
    out: Annotated[Path, typer.Argument(help="New folder for the student bundle.")],
    no_hidden: Annotated[bool, typer.Option(
        "--no-hidden", help="Leave the hidden tests (and planted faults) out: `seamlab check` "
        "then runs the learner's visible tests only.")] = False,
    classroom: Annotated[bool, typer.Option(
        "--classroom", help="Add the GitHub Classroom autograding workflow "
        "(.github/workflows/classroom.yml): points per exercise from `seamlab check`.")] = False,
    instructor_kit: Annotated[bool, typer.Option(
        "--instructor-kit", help="Add the sharded class-grading workflow "
        "(.github/workflows/autograde-class.yml), for the instructor's private copy.")] = False,
) -> None:
    """Build the student bundle: the course without solutions/, ready to zip or push."""
    from seamlab.instructor.release import release as build

    console = Console(highlight=False)
    try:
        made = build(_course(), out, hidden=not no_hidden, classroom=classroom,
                     instructor_kit=instructor_kit)
    except SeamlabError as error:
        _fail(console, error)
    what = "with the hidden tests" if made.hidden else "without hidden tests (visible tests only)"
    console.print(f"Student bundle written to {made.out} ({made.files} files, {what}, "
                  "no solutions). Zip it or push it as it is.")
    for workflow in made.workflows:
        console.print(f"  with {workflow}")
    raise typer.Exit(OK)


def autograde(
    submissions: Annotated[Path, typer.Argument(
        help="Folder with one submission per learner: a folder, .zip or git repo each.")],
    out: Annotated[Path, typer.Option("--out", help="Where grades go.")] = Path("grades"),
    workers: Annotated[int, typer.Option("--workers", "-j",
                                         help="Parallel graders (default: the core count).")] = 0,
    force: Annotated[bool, typer.Option("--force", help="Grade again what is graded.")] = False,
    shard: Annotated[str, typer.Option("--shard", help="Only shard i of n (1-based), e.g. 2/4; "
                                       "join with `seamlab gradebook merge`.")] = "1/1",
    exercise: Annotated[list[str] | None, typer.Option(
        "--exercise", "-e", help="Only this exercise (repeatable). Default: all.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per test.")] = 20.0,
    wall_timeout: Annotated[float, typer.Option("--wall-timeout",
                                                help="Seconds per grading run.")] = 120.0,
    cpu_seconds: Annotated[int, typer.Option("--cpu-seconds", help="CPU limit per run.")] = 120,
    memory_mb: Annotated[int, typer.Option("--memory-mb", help="Memory limit per run.")] = 2048,
    output_mb: Annotated[int, typer.Option("--output-mb",
                                           help="Largest file/output a run may write.")] = 16,
    no_sandbox: Annotated[bool, typer.Option(
        "--no-sandbox", help="Run learner code without confinement (only for code you "
        "trust; needed when not root).")] = False,
) -> None:
    """Grade every exercise of every submission, isolated and in parallel; write the gradebook."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from seamlab.instructor import autograde as engine
    from seamlab.instructor import outputs
    from seamlab.instructor.sandbox import Limits

    console = Console(highlight=False)
    try:
        course = _course()
        options = engine.Options(
            workers=workers, force=force, shard=engine.parse_shard(shard),
            exercises=tuple(exercise or ()), timeout=timeout, wall_timeout=wall_timeout,
            limits=Limits(cpu_seconds=cpu_seconds, memory_mb=memory_mb, output_mb=output_mb),
            sandbox=not no_sandbox)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=False) as bar:
            task = bar.add_task("grading", total=None)

            def progress(record, done: int, total: int) -> None:
                label = (f"{record.learner} {record.exercise}: {record.result.verdict}"
                         if record else "grading")
                bar.update(task, total=total, completed=done, description=label)

            outcome = engine.autograde(course, submissions, out, options, on_progress=progress)
        book = outputs.write(course, out)
    except SeamlabError as error:
        _fail(console, error)
    rate = len(outcome.graded) / outcome.seconds * 60 if outcome.seconds else 0.0
    console.print(
        f"Graded {len(outcome.graded)} of {outcome.planned} jobs ({outcome.skipped} already "
        f"graded) with {outcome.workers} worker(s) in {outcome.seconds:.1f} s "
        f"({rate:.0f} exercise-grades/min).")
    console.print(f"{len(book.learners)} learners → {out}/gradebook.csv, gradebook.json, "
                  f"feedback/, report.html")
    if line := outcome.infra_problem():
        console.print(f"[magenta]{line}[/]", soft_wrap=True)
        raise typer.Exit(INFRA)
    raise typer.Exit(OK)


@gradebook_app.command("merge")
def gradebook_merge(
    out: Annotated[Path, typer.Argument(help="Folder for the merged gradebook.")],
    shards: Annotated[list[Path], typer.Argument(help="The --out folders of the shard runs.")],
) -> None:
    """Join shard results into one gradebook (CSV, JSON, feedback, report)."""
    from seamlab.instructor.outputs import merge

    console = Console(highlight=False)
    try:
        book = merge(_course(), out, shards)
    except SeamlabError as error:
        _fail(console, error)
    console.print(f"Merged {len(shards)} shard(s): {len(book.learners)} learners → "
                  f"{out}/gradebook.csv")
    raise typer.Exit(OK)


def check_visible_only(ws, exercise, *, as_json: bool = False, timeout: float | None = None) -> int:
    """`seamlab check` in a bundle released without hidden tests: the visible tests only."""
    from seamlab.commands import FAILED
    from seamlab.grading import run_visible

    result = run_visible(exercise, timeout=timeout)
    if as_json:
        print(result.to_json())
        return OK if result.passed else FAILED
    ws.console.print("[yellow]Hidden tests are not part of this bundle; running your visible "
                     "tests only.[/] Your instructor grades the integration tests.")
    ws.console.print(result.summary, markup=False)
    for test in result.tests:
        if test.outcome != "passed":
            ws.console.print(f"  ✗ {test.name}: {test.first_line}", markup=False)
    return OK if result.passed else FAILED
