"""The learner's workspace as the commands see it: course, progress, console, current exercise."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from seamlab import course as course_module
from seamlab.commands.starters import ensure_snapshots
from seamlab.course import Course, Exercise
from seamlab.paths import fallback_note, project_root
from seamlab.progress import Progress


@dataclass
class Workspace:
    root: Path
    course: Course
    progress: Progress
    console: Console

    @classmethod
    def open(cls, console: Console | None = None) -> Workspace:
        """Load course.toml and progress; show the progress warning, if any, once."""
        console = console or Console(highlight=False)
        root = project_root()
        if note := fallback_note():
            console.print(f"[yellow]Note:[/] {note}", soft_wrap=True)
        loaded = course_module.load(root)
        progress = Progress.load(loaded.root, renamed=loaded.renamed)
        if progress.warning:
            console.print(f"[yellow]Warning:[/] {progress.warning}", soft_wrap=True)
            progress.save()
        try:
            ensure_snapshots(loaded)  # the untouched starters, for `reset` and `solution`
        except OSError as error:
            console.print(f"[yellow]Warning:[/] could not save the starter copies ({error}).")
        return cls(root=loaded.root, course=loaded, progress=progress, console=console)

    def current(self) -> Exercise | None:
        """The first exercise, in manifest order, that has not passed."""
        for exercise in self.course.exercises:
            if not self.progress.passed(exercise.slug):
                return exercise
        return None

    def after(self, exercise: Exercise) -> Exercise | None:
        """The next exercise not passed, after ``exercise`` in teaching order (wrapping)."""
        items = list(self.course.exercises)
        start = items.index(exercise) + 1
        for candidate in items[start:] + items[:start]:
            if candidate != exercise and not self.progress.passed(candidate.slug):
                return candidate
        return None

    def exercise(self, ref: str | None) -> Exercise | None:
        """``ref`` resolved (number or slug); without one, the current exercise."""
        if ref:
            return self.course.exercise(ref)
        return self.current()
