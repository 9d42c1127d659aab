"""Where things live: the project root (the folder holding course.toml) and its state dir."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
HIDDEN_DIR = PACKAGE_DIR / "hidden"
MUTANTS_DIR = PACKAGE_DIR / "mutants"


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: cwd) that holds ``course.toml``.

    ``SEAMLAB_HOME`` overrides the search. Falls back to the source checkout that holds this
    package, so ``seamlab`` works from any sub-folder of the course; :func:`fallback_note` then
    says so, for the CLI to show (a learner outside any course must know which one is used).
    """
    env = os.environ.get("SEAMLAB_HOME")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "course.toml").is_file():
            return folder
    checkout = PACKAGE_DIR.parent.parent
    if (checkout / "course.toml").is_file():
        _fallback.add(checkout)
        return checkout
    return here


_fallback: set[Path] = set()


def fallback_note() -> str | None:
    """One line when the course was not found from the current folder, else None."""
    if not _fallback:
        return None
    course = next(iter(_fallback))
    return (f"{Path.cwd()} is not inside a course folder (no course.toml here or above): "
            f"using the course at {course}, where seamlab is installed from. To use another, "
            "cd into its folder or set SEAMLAB_HOME.")


def state_dir(root: Path | None = None) -> Path:
    """``.seamlab/`` under the project root: progress, run files of embedded services, backups."""
    path = (root or project_root()) / ".seamlab"
    path.mkdir(parents=True, exist_ok=True)
    return path
