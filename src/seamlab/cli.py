"""The `seamlab` command: parse arguments, call `seamlab.commands`, exit with their code.

Exit codes: 0 done / passed, 1 the exercise does not pass yet, 2 a usage problem (no such
exercise, a malformed course.toml, a gated command), 3 a service is not ready (never the
learner's fault).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from seamlab.invoke import call
from seamlab.invoke import stop_on_term_and_hangup as _stop_on_term_and_hangup

app = typer.Typer(
    name="seamlab",
    help="Learn integration testing by repairing broken seams against real services.",
    add_completion=False,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXERCISE_HELP = "Exercise number or slug (01, 1, 01-date-seam). Default: the current exercise."
MaybeExercise = Annotated[str | None, typer.Argument(help=EXERCISE_HELP)]
AnExercise = Annotated[str, typer.Argument(help="Exercise number or slug (01, 1, 01-date-seam).")]


def _run(action: Callable[..., int], *args, **kwargs) -> None:
    """Run a command through `seamlab.invoke.call` and exit with its code."""
    raise typer.Exit(call(action, *args, **kwargs))


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context) -> None:
    """Without a command: your progress and the next exercise."""
    if ctx.invoked_subcommand is None:
        from seamlab.commands.overview import overview

        _run(overview)


@app.command("list")
def list_exercises() -> None:
    """Every exercise: chapter, seam, status and points."""
    from seamlab.commands.overview import listing

    _run(listing)


@app.command()
def check(
    exercise: MaybeExercise = None,
    target: Annotated[
        Path | None, typer.Option("--target", help="Grade this folder instead of exercises/<slug>.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (for scripts).")
    ] = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write a JUnit XML report here.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds allowed per test.")
    ] = None,
) -> None:
    """Run the hidden integration tests; exit 0 only when every one passes."""
    from seamlab.commands.check import check as run

    _run(run, exercise, target=target, as_json=as_json, junit=junit, timeout=timeout)


@app.command()
def hint(exercise: MaybeExercise = None) -> None:
    """Reveal the next hint (a nudge, then a pointer, then nearly the answer)."""
    from seamlab.commands.hint import hint as run

    _run(run, exercise)


@app.command()
def watch(
    exercise: MaybeExercise = None,
    poll: Annotated[
        bool, typer.Option("--poll", help="Poll for changes instead of using file events.")
    ] = False,
) -> None:
    """Check, then re-check every time you save. Ctrl-C stops."""
    from seamlab.commands.watching import watch_exercise

    _run(watch_exercise, exercise, poll=poll or None)


@app.command()
def reset(exercise: AnExercise) -> None:
    """Restore the starter code (your files are backed up first)."""
    from seamlab.commands.reset import reset as run

    _run(run, exercise)


@app.command()
def solution(
    exercise: AnExercise,
    force: Annotated[
        bool, typer.Option("--force", help="Show it even though you have not passed yet.")
    ] = False,
) -> None:
    """Show the reference fix as a diff against the starter (after you pass)."""
    from seamlab.commands.solution import solution as run

    _run(run, exercise, force=force)


@app.command()
def notebook(
    port: Annotated[
        int | None, typer.Option("--port", help="Port for JupyterLab (default: a free one).")
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser.")
    ] = False,
) -> None:
    """Open the course notebooks in JupyterLab."""
    from seamlab.commands.notebook import notebook as run

    _run(run, port=port, open_browser=False if no_browser else None)


def _register_service_commands() -> None:
    """`up`, `down` and `doctor` live in commands/services.py (the backends' part)."""
    try:
        from seamlab.commands import services
    except ImportError:
        return
    for name, helptext in (
        ("up", "Start (or find) the course services."),
        ("down", "Stop the services seamlab started."),
        ("doctor", "Which services answer, where, and how fast."),
    ):
        function = getattr(services, name, None)
        if function is not None:
            app.command(name, help=None if function.__doc__ else helptext)(function)


_register_service_commands()


def _register_instructor_commands() -> None:
    """`release`, `autograde` and `gradebook merge` live in commands/instructor.py."""
    from seamlab.commands import instructor

    app.command("release")(instructor.release)
    app.command("autograde")(instructor.autograde)
    app.add_typer(instructor.gradebook_app, name="gradebook")


_register_instructor_commands()


def main() -> None:
    _stop_on_term_and_hangup()
    app()


if __name__ == "__main__":
    main()
