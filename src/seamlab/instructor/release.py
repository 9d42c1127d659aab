"""`seamlab release OUT`: the student bundle, ready to zip or push.

It holds what a learner needs (course.toml, exercises/, notebooks/, the seamlab tool with its
hidden tests unless ``--no-hidden``, the sample services, README, Makefile, pyproject, compose
file) and never ``solutions/``. Its notebooks are the learner's copies: no check verdict, no
predict-then-run answer, and not the strict reference copies nbval compares
(``seamlab.spoilers``). A marker file, ``.seamlab-release.toml``, says how it was made;
``seamlab check`` reads it: without hidden tests it runs the learner's visible tests only and
says so.

``--classroom`` adds the GitHub Classroom autograding workflow (``.github/workflows/
classroom.yml``, see :mod:`seamlab.instructor.classroom`); ``--instructor-kit`` adds the
sharded class-grading workflow (``.github/workflows/autograde-class.yml``), for the
instructor's private copy.
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from seamlab.course import Course
from seamlab.errors import SeamlabError
from seamlab.spoilers import REFERENCE_DIR

MARKER = ".seamlab-release.toml"
TOP_FILES = ("course.toml", "README.md", "Makefile", "pyproject.toml", "docker-compose.test.yml",
             "LICENSE", ".gitignore")
TOP_DIRS = ("exercises", "notebooks", "services", "src")
#: For course authors and instructors, not learners (INSTRUCTOR.md says how to unblock each
#: exercise and where the planted faults are).
AUTHOR_ONLY_DOCS = ("AUTHORING.md", "INSTRUCTOR.md")
_IGNORE = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints", "*.pyc", "*.egg-info", ".meta",
           ".seamlab", ".venv", ".git", REFERENCE_DIR)
CLASS_WORKFLOW = ".github/workflows/autograde-class.yml"


@dataclass(frozen=True)
class Release:
    out: Path
    hidden: bool
    files: int
    workflows: tuple[str, ...] = ()


def hidden_shipped(root: Path) -> bool:
    """False only in a release made with --no-hidden (the marker says so)."""
    marker = Path(root) / MARKER
    if not marker.is_file():
        return True
    try:
        return bool(tomllib.loads(marker.read_text(encoding="utf-8")).get("hidden", True))
    except (OSError, tomllib.TOMLDecodeError):
        return True


def release(course: Course, out: Path, *, hidden: bool = True, classroom: bool = False,
            instructor_kit: bool = False) -> Release:
    root = course.root
    if classroom and not hidden:
        raise SeamlabError("--classroom needs the hidden tests: without them `seamlab check` "
                           "runs only the learner's visible tests, which pass on the starters, "
                           "so every learner would get full points. Fix: drop --no-hidden.")
    out = Path(out).resolve()
    if out == root or root in out.parents:
        raise SeamlabError(f"{out} is inside the course folder. Fix: release to a folder "
                           "outside it, for example ../seamlab-student.")
    if out.exists() and any(out.iterdir()):
        raise SeamlabError(f"{out} is not empty. Fix: name a new folder (or remove this one).")
    out.mkdir(parents=True, exist_ok=True)
    for name in TOP_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    for name in TOP_DIRS:
        if (root / name).is_dir():
            shutil.copytree(root / name, out / name, ignore=shutil.ignore_patterns(*_IGNORE),
                            dirs_exist_ok=True)
    docs = root / "docs"
    if docs.is_dir():
        shutil.copytree(docs, out / "docs",
                        ignore=shutil.ignore_patterns(*_IGNORE, *AUTHOR_ONLY_DOCS))
        if not any((out / "docs").iterdir()):
            (out / "docs").rmdir()
    package = out / "src" / "seamlab"
    if not hidden:
        _strip_hidden(course, package)
    shutil.rmtree(out / "solutions", ignore_errors=True)  # never, even if src/ held a link
    (out / MARKER).write_text(
        "# Made by `seamlab release`: the student bundle of this course.\n"
        f"hidden = {'true' if hidden else 'false'}\nsolutions = false\n", encoding="utf-8")
    workflows = _add_workflows(course, out, classroom=classroom, instructor_kit=instructor_kit)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    return Release(out=out, hidden=hidden, files=files, workflows=workflows)


def _add_workflows(course: Course, out: Path, *, classroom: bool,
                   instructor_kit: bool) -> tuple[str, ...]:
    from seamlab.instructor import classroom as classroom_module

    written = []
    if classroom:
        path = out / classroom_module.WORKFLOW
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(classroom_module.workflow(course), encoding="utf-8")
        written.append(classroom_module.WORKFLOW)
    if instructor_kit:
        source = course.root / CLASS_WORKFLOW
        if not source.is_file():
            raise SeamlabError(f"{source} is missing, so there is no class-grading workflow to "
                               "ship. Fix: restore it from the course repository.")
        (out / CLASS_WORKFLOW).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, out / CLASS_WORKFLOW)
        written.append(CLASS_WORKFLOW)
    return tuple(written)


def learner_fixture_files(course: Course, folder: Path) -> set[str]:
    """Files of a hidden folder that the learner's own tests load, so a bundle without hidden
    tests keeps them: the conftest.py of write-tests exercises, and any ``*_fixtures.py``."""
    write_tests = {ex.slug for ex in course.exercises if ex.is_write_tests}
    keep = {p.name for p in folder.glob("*_fixtures.py") if not p.name.startswith("test_")}
    if folder.name in write_tests and (folder / "conftest.py").is_file():
        keep.add("conftest.py")
    return keep


def _strip_hidden(course: Course, package: Path) -> None:
    """Remove the hidden tests and planted faults; keep the learner-facing fixture files."""
    hidden = package / "hidden"
    if hidden.is_dir():
        for folder in (f for f in hidden.iterdir() if f.is_dir()):
            keep = learner_fixture_files(course, folder)
            if not keep:
                shutil.rmtree(folder)
                continue
            for item in folder.iterdir():
                if item.name not in keep:
                    shutil.rmtree(item) if item.is_dir() else item.unlink()
    shutil.rmtree(package / "mutants", ignore_errors=True)
