"""Synthetic submissions for benchmarks and tests: starters, solutions and partial fixes.

Learner ``n`` gets, per exercise, the solution or the starter by a fixed pattern, so a class
has every mix from "nothing fixed" to "everything fixed". Some come as .zip files and some as
git repositories, like a real class would hand them in.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from seamlab.course import Course, Exercise

_IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")


def lay_out(exercise: Exercise, dest: Path, solved: bool) -> None:
    source = exercise.solution_folder if solved else exercise.folder
    shutil.copytree(source, dest / exercise.slug, ignore=_IGNORE)


def make_class(course: Course, into: Path, count: int, exercises: list[Exercise],
               forms: tuple[str, ...] = ("folder", "folder", "zip", "git")) -> list[str]:
    """``count`` submissions in ``into``; returns the learner names."""
    into.mkdir(parents=True, exist_ok=True)
    names = []
    for n in range(count):
        name = f"learner{n + 1:02d}"
        names.append(name)
        staging = into / f".staging-{name}"
        for index, exercise in enumerate(exercises):
            lay_out(exercise, staging, solved=bool((n >> index) & 1) if n % 3 else n % 2 == 0)
        form = forms[n % len(forms)]
        if form == "zip":
            write_zip(staging, into / f"{name}.zip", prefix=f"{name}/")
            shutil.rmtree(staging)
        elif form == "git":
            staging.rename(into / name)
            commit_all(into / name)
        else:
            staging.rename(into / name)
    return names


def write_zip(folder: Path, archive: Path, prefix: str = "") -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())


def commit_all(folder: Path) -> None:
    env = {"GIT_AUTHOR_NAME": "learner", "GIT_AUTHOR_EMAIL": "l@example.org",
           "GIT_COMMITTER_NAME": "learner", "GIT_COMMITTER_EMAIL": "l@example.org",
           "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(folder)}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "work"]):
        subprocess.run(["git", "-C", str(folder), *args], check=True, env=env,
                       capture_output=True, timeout=30)
