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
    package, so ``seamlab`` works from any sub-folder of the course.
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
        return checkout
    return here


def state_dir(root: Path | None = None) -> Path:
    """``.seamlab/`` under the project root: progress, run files of embedded services, backups."""
    path = (root or project_root()) / ".seamlab"
    path.mkdir(parents=True, exist_ok=True)
    return path
