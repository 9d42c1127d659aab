"""``seamlab.check("01")`` for notebooks: grade an exercise, show the verdict, record progress.

In Jupyter the verdict is one rich output with two forms: ``text/html``, the terminal's
``seamlab check`` verdict (which seam, expected vs got, the next hint or exercise; drawn by
:func:`seamlab.render.grade_result`, so both say the same), and ``text/plain``, a short summary
(:func:`render`). Neither holds a database name, a private port or an id, and the one duration is
rewritten by ``notebooks/sanitize.cfg``, so nbval compares both with the stored output. Outside
Jupyter the short summary is printed. Grading the learner's own folder records the result in
progress as ``seamlab check`` does, so ``seamlab list`` counts it.

``SEAMLAB_TARGET`` chooses what is graded: ``exercises`` (default, the learner's work),
``solutions`` (our CI: the notebooks must pass against the reference solutions), or a path.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from rich.console import Console

from seamlab.grading.results import GradeResult

TARGET_ENV = "SEAMLAB_TARGET"


def resolve_target(exercise, target: str | Path | None = None) -> Path:
    """The folder to grade: ``target``, else ``$SEAMLAB_TARGET``, else ``exercises/<slug>``."""
    choice = str(target) if target is not None else os.environ.get(TARGET_ENV, "exercises")
    if choice in ("", "exercises"):
        return exercise.folder
    if choice == "solutions":
        return exercise.solution_folder
    path = Path(choice).expanduser()
    # A folder holding every exercise (like exercises/) or one exercise's folder.
    return path / exercise.slug if (path / exercise.slug).is_dir() else path


def render(result: GradeResult) -> str:
    """The stable text printed in a notebook (also useful anywhere a short report fits)."""
    slug = result.exercise
    if result.mutants:
        caught = sum(m.caught for m in result.mutants)
        lines = [f"{slug}: your tests catch {caught}/{len(result.mutants)} planted faults."]
        lines += [f"  - missed: {m.description}" for m in result.mutants if not m.caught]
        return "\n".join(lines)
    if result.verdict in ("passed", "failed") and result.tests:
        passing = sum(t.outcome == "passed" for t in result.tests)
        total = len(result.tests)
        if result.verdict == "passed":
            return f"{slug}: {passing}/{total} hidden tests pass — seam repaired."
        lines = [f"{slug}: {passing}/{total} hidden tests pass."]
        lines += [f"  - {t.name}: {t.first_line}" for t in result.tests if t.outcome != "passed"]
        return "\n".join(lines)
    return result.summary


#: Columns of the rich verdict: fits a JupyterLab output area at its default font size.
HTML_WIDTH = 92
#: rich's own Jupyter frame: preformatted, never wrapped mid-word, scrolls when too wide.
HTML_FRAME = ('<pre style="white-space:pre;overflow-x:auto;line-height:normal;font-family:'
              "Menlo,'DejaVu Sans Mono',consolas,'Courier New',monospace\">{code}</pre>")


def check(ref: str, target: str | Path | None = None) -> bool:
    """Grade exercise ``ref`` ("01", "1" or the slug), show the verdict, return passed."""
    from seamlab import render as rich_render
    from seamlab.commands.check import grade_once, records_progress
    from seamlab.commands.workspace import Workspace

    console = verdict_console()
    ws = Workspace.open(console=console)
    exercise = ws.course.exercise(str(ref))
    folder = resolve_target(exercise, target)
    result = grade_once(ws, exercise, target=folder)
    if result is None:  # the grading engine could not run; the console says why
        show(console.export_text(clear=False), console)
        return False
    rich_render.grade_result(
        console, exercise, result,
        hints_revealed=ws.progress.of(exercise.slug).hints_revealed,
        next_exercise=next_exercise(ws, exercise, own=records_progress(exercise, folder))
        if result.passed else None,
    )
    show(render(result), console)
    return result.passed


def verdict_console() -> Console:
    """A console that records what it is given, for :func:`show` to turn into HTML."""
    return Console(record=True, width=HTML_WIDTH, file=io.StringIO(), highlight=False,
                   color_system="truecolor", force_jupyter=False, force_terminal=False)


def next_exercise(ws, exercise, *, own: bool):
    """After a pass: the learner's next exercise not passed yet (as ``seamlab check`` says) when
    their own folder was graded; otherwise the one after it in the manifest, so a reference run
    prints the same on every machine, whatever that machine's progress."""
    if own:
        return ws.after(exercise)
    items = list(ws.course.exercises)
    index = items.index(exercise) + 1
    return items[index] if index < len(items) else None


def show(text: str, console: Console) -> None:
    """One output: ``text`` as text/plain and what ``console`` recorded as text/html (in
    Jupyter); just ``text`` anywhere else."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(text)
        return
    display({"text/plain": text, "text/html": html(console)}, raw=True)


def html(console: Console) -> str:
    """What ``console`` recorded, as the HTML of one notebook output (and clear it)."""
    return console.export_html(inline_styles=True, code_format=HTML_FRAME)
