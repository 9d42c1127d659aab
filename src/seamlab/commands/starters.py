"""Pristine starter code: what `reset` restores and what `solution` compares against.

The learner edits ``exercises/<slug>/`` in place, so seamlab keeps an untouched copy of each
starter in ``.seamlab/starters/<slug>/``, taken the first time any command runs. When the course
is a git checkout the copy is taken from the committed files (``git archive HEAD``), so edits
made before the first ``seamlab`` command are not mistaken for the starter; otherwise it is
copied from the folder as it is.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from seamlab.course import Course, Exercise
from seamlab.paths import state_dir

#: Never part of a starter, a backup or a diff.
IGNORED = ("__pycache__", ".pytest_cache", ".ipynb_checkpoints", "*.pyc", ".seamlab", ".git-tree")


def snapshot_dir(root: Path, slug: str) -> Path:
    return state_dir(root) / "starters" / slug


def ensure_snapshots(course: Course) -> None:
    """Take the starter copy of every exercise that has none yet (cheap once taken).

    In a git checkout a copy is also retaken when the committed starter changed (a course
    update pulled in); the git tree id it came from is kept in ``.git-tree`` next to it.
    """
    trees = _committed_trees(course.root)
    stale = []
    for exercise in course.exercises:
        folder = snapshot_dir(course.root, exercise.slug)
        if not folder.is_dir() or exercise.slug in trees and _source_of(folder) != trees[exercise.slug]:
            stale.append(exercise)
    if not stale:
        return
    committed = _from_git(course.root, [e for e in stale if e.slug in trees])
    for exercise in stale:
        target = snapshot_dir(course.root, exercise.slug)
        files = committed.get(exercise.slug)
        if files:
            files[TREE_MARK] = trees[exercise.slug].encode()
            _write_tree(target, files)
        elif exercise.folder.is_dir() and not target.is_dir():
            _copy_tree(exercise.folder, target)


TREE_MARK = ".git-tree"


def _source_of(folder: Path) -> str | None:
    try:
        return (folder / TREE_MARK).read_text().strip()
    except OSError:
        return None


def _committed_trees(root: Path) -> dict[str, str]:
    """slug -> git tree id of ``exercises/<slug>`` at HEAD; {} when not a git checkout."""
    if not (root / ".git").exists() or shutil.which("git") is None:
        return {}
    try:
        listing = subprocess.run(
            ["git", "-C", str(root), "ls-tree", "HEAD", "exercises/"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return {}
    trees = {}
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "tree":
            trees[Path(path).name] = parts[2]
    return trees


def starter(exercise: Exercise) -> Path:
    """The folder holding the untouched starter of ``exercise`` (taken now if need be)."""
    folder = snapshot_dir(exercise.root, exercise.slug)
    if not folder.is_dir():
        if not exercise.folder.is_dir():
            raise FileNotFoundError(
                f"Neither exercises/{exercise.slug}/ nor a saved starter copy exists."
            )
        _copy_tree(exercise.folder, folder)
    return folder


def tree_files(folder: Path) -> dict[str, Path]:
    """Relative path -> file, for every file in ``folder`` that is part of an exercise."""
    found = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not _ignored(rel):
            found[rel.as_posix()] = path
    return found


def _ignored(rel: Path) -> bool:
    # Dot-folders can be part of an exercise (04-hermetic-env ships .github/workflows/): skip only caches.
    return any(part in IGNORED for part in rel.parts) or rel.suffix == ".pyc"


def _copy_tree(source: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp, ignore=shutil.ignore_patterns(*IGNORED))
    tmp.replace(target)


def _write_tree(target: Path, files: dict[str, bytes]) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, data in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    shutil.rmtree(target, ignore_errors=True)
    tmp.replace(target)


def _from_git(root: Path, exercises: list[Exercise]) -> dict[str, dict[str, bytes]]:
    """slug -> {relative path: bytes} of the committed starters (all committed at HEAD)."""
    if not exercises:
        return {}
    paths = [f"exercises/{e.slug}" for e in exercises]
    try:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", "HEAD", "--", *paths],
            capture_output=True, timeout=30, check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return {}
    result: dict[str, dict[str, bytes]] = {}
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = Path(member.name).parts  # exercises/<slug>/...
            if len(parts) < 3 or _ignored(Path(*parts[2:])):
                continue
            data = tar.extractfile(member)
            if data is not None:
                result.setdefault(parts[1], {})[Path(*parts[2:]).as_posix()] = data.read()
    return result
