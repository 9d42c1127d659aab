"""`seamlab reset EX`: put the starter code back, after saving the learner's work."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from seamlab.commands import OK, USAGE
from seamlab.commands.starters import IGNORED, starter, tree_files
from seamlab.commands.workspace import Workspace
from seamlab.course import Exercise
from seamlab.paths import state_dir


def reset(ws: Workspace, ref: str) -> int:
    exercise = ws.course.exercise(ref)
    try:
        pristine = starter(exercise)
    except FileNotFoundError as error:
        ws.console.print(
            f"[red]Cannot reset {exercise.slug}:[/] {error} Fix: restore the folder from the "
            f"course repository (`git checkout -- exercises/{exercise.slug}`)."
        )
        return USAGE
    backup = None
    if exercise.folder.is_dir():
        backup = back_up(exercise, ws.root)
    restore(pristine, exercise.folder)
    ws.console.print(f"Restored the starter code of [bold]{exercise.slug}[/].")
    if backup is not None:
        shown = backup.relative_to(ws.root) if backup.is_relative_to(ws.root) else backup
        ws.console.print(f"Your previous files are in [bold]{shown}/[/] (nothing was lost).")
    ws.console.print(f"Check it again with [cyan]seamlab check {exercise.id}[/].")
    return OK


def back_up(exercise: Exercise, root: Path) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backups = state_dir(root) / "backups"
    target = backups / f"{exercise.slug}-{stamp}"
    suffix = 1
    while target.exists():  # two resets within a second
        suffix += 1
        target = backups / f"{exercise.slug}-{stamp}-{suffix}"
    shutil.copytree(exercise.folder, target, ignore=shutil.ignore_patterns(*IGNORED))
    return target


def restore(pristine: Path, folder: Path) -> None:
    """Make ``folder`` hold exactly the starter files (caches and dot-folders are left alone)."""
    wanted = tree_files(pristine)
    for rel, path in tree_files(folder).items():
        if rel not in wanted:
            path.unlink()
    for rel, source in wanted.items():
        destination = folder / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    for directory in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        if directory.name != "__pycache__" and not any(directory.iterdir()):
            directory.rmdir()
