"""Finding the learners' submissions and laying each out as a folder of exercise folders.

A submissions folder holds one entry per learner, named by learner:

- ``alice/``      a folder shaped like ``exercises/`` (or holding an ``exercises/`` folder);
- ``bob.zip``     the same, zipped (a single top-level folder inside is fine);
- ``carol/`` with ``.git`` (or a bare ``carol.git``): a git repository; what is *committed* is
  graded (``git clone --depth 1``), not what happens to be in its working tree.

Zips are unpacked by hand: no absolute paths, no ``..``, no links, and limits on size and
file count, so an archive cannot write outside its folder or fill the disk.

Every submission (folder, zip or clone) is then *copied* into the autograder's work folder
without following any link that leaves it: a link inside the submission is replaced by a copy
of what it points to; a link that points outside it (``exercises -> ../solutions``, a committed
``exercises -> ../../../../solutions``, an absolute path) refuses the whole submission with a
note saying which link, so nobody is graded as someone else's code or as the solutions.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from seamlab.errors import SeamlabError

MAX_UNPACKED_BYTES = 64 << 20
MAX_FILES = 5000
_SLUG = re.compile(r"^\d{2}-[a-z0-9-]+$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class SubmissionError(SeamlabError):
    """A submission cannot be read (bad zip, failed clone): graded as missing, with this reason."""


@dataclass(frozen=True)
class Submission:
    learner: str
    source: Path  # what the learner handed in
    kind: str  # folder, zip, git


def learner_name(raw: str) -> str:
    name = _SAFE_NAME.sub("-", raw).strip("-.") or "learner"
    return name[:80]


def discover(folder: Path) -> list[Submission]:
    """Every submission in ``folder``, sorted by learner; raises if there is none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SeamlabError(f"{folder} is not a folder. Fix: point autograde at the folder that "
                           "holds one submission per learner (folders, .zip files or git repos).")
    found: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_file() and entry.suffix.lower() == ".zip":
            sub = Submission(learner_name(entry.stem), entry, "zip")
        elif entry.is_dir() and ((entry / ".git").exists() or entry.suffix == ".git"
                                 and (entry / "HEAD").is_file()):
            sub = Submission(learner_name(entry.name.removesuffix(".git")), entry, "git")
        elif entry.is_dir():
            sub = Submission(learner_name(entry.name), entry, "folder")
        else:
            continue
        if sub.learner in found:
            raise SeamlabError(f"Two submissions map to the learner name {sub.learner!r}: "
                               f"{found[sub.learner].source.name} and {entry.name}. Fix: rename one.")
        found[sub.learner] = sub
    if not found:
        raise SeamlabError(f"No submissions in {folder}: expected one folder, .zip or git "
                           "repository per learner, named by learner.")
    return list(found.values())


def materialize(sub: Submission, work: Path) -> Path:
    """A folder holding the learner's exercise folders (``01-date-seam/`` ...): always a copy
    under ``work`` with no links in it (see :func:`copy_within`)."""
    dest = work / sub.learner
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if sub.kind == "folder":
        copy_within(sub.source, dest)
        return exercises_root(dest)
    unpacked = work / f".{sub.learner}.raw"
    shutil.rmtree(unpacked, ignore_errors=True)
    try:
        if sub.kind == "zip":
            unzip(sub.source, unpacked)
        else:
            clone(sub.source, unpacked)
        copy_within(unpacked, dest)
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)
    return exercises_root(dest)


_SKIPPED = {".git", "__pycache__", ".pytest_cache"}


def copy_within(source: Path, dest: Path) -> None:
    """Copy ``source`` to ``dest`` as plain files and folders. A link that stays inside
    ``source`` becomes a copy of its target; one that leaves it (or dangles, or loops) raises
    SubmissionError naming it. Special files (FIFOs, devices, sockets) are left out."""
    root = Path(source).resolve()
    counted = [0, 0]  # files, bytes

    def refuse(link: Path, why: str) -> None:
        shown = link.relative_to(source) if link.is_relative_to(source) else link
        raise SubmissionError(
            f"the submission holds a link {shown} -> {os.readlink(link)} that {why}: refused "
            "(links may not point outside the submission). Fix: hand in the files themselves.")

    def copy(path: Path, target: Path, chain: tuple[Path, ...]) -> None:
        if path.is_symlink():
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                refuse(path, "points outside it")
            if not resolved.exists():
                refuse(path, "points at nothing")
            if resolved in chain or any(resolved in c.parents for c in chain):
                refuse(path, "loops back into its own folder")
            path = resolved
        info = os.lstat(path)
        if stat.S_ISDIR(info.st_mode):
            target.mkdir(exist_ok=True)
            for entry in sorted(path.iterdir()):
                if entry.name not in _SKIPPED:
                    copy(entry, target / entry.name, (*chain, path.resolve()))
        elif stat.S_ISREG(info.st_mode):
            counted[0] += 1
            counted[1] += info.st_size
            if counted[0] > MAX_FILES or counted[1] > MAX_UNPACKED_BYTES:
                raise SubmissionError(f"the submission holds more than {MAX_FILES} files or "
                                      f"{MAX_UNPACKED_BYTES >> 20} MB: refused.")
            shutil.copyfile(path, target, follow_symlinks=False)

    copy(Path(source), dest, ())


def exercises_root(folder: Path) -> Path:
    """The folder that holds ``NN-slug`` folders: itself, ``exercises/``, or one level down."""
    for candidate in (folder, folder / "exercises"):
        if candidate.is_dir() and any(_SLUG.match(p.name) for p in candidate.iterdir()
                                      if p.is_dir()):
            return candidate
    inner = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    if len(inner) == 1:
        return exercises_root(inner[0])
    return folder


def unzip(archive: Path, dest: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_FILES:
                raise SubmissionError(f"{archive.name} holds {len(members)} files (limit "
                                      f"{MAX_FILES}).")
            total = sum(m.file_size for m in members)
            if total > MAX_UNPACKED_BYTES:
                raise SubmissionError(f"{archive.name} unpacks to {total >> 20} MB (limit "
                                      f"{MAX_UNPACKED_BYTES >> 20} MB).")
            root = dest.resolve()
            for member in members:
                name = member.filename.replace("\\", "/")
                if name.startswith("/") or ".." in name.split("/") or re.match(r"^[A-Za-z]:", name):
                    raise SubmissionError(f"{archive.name} has an entry outside its folder "
                                          f"({member.filename!r}): refused.")
                if stat.S_ISLNK(member.external_attr >> 16):
                    raise SubmissionError(f"{archive.name} holds a symbolic link "
                                          f"({member.filename!r}): refused.")
                target = (root / name).resolve()
                if root not in target.parents and target != root:
                    raise SubmissionError(f"{archive.name}: {member.filename!r} escapes: refused.")
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with zf.open(member) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 16):
                        written += len(chunk)
                        if written > member.file_size or written > MAX_UNPACKED_BYTES:
                            raise SubmissionError(f"{archive.name}: {member.filename!r} is "
                                                  "larger than its header says: refused.")
                        out.write(chunk)
    except (zipfile.BadZipFile, OSError) as error:
        raise SubmissionError(f"{archive.name} is not a readable zip file ({error}).") from None


def clone(repo: Path, dest: Path) -> None:
    try:
        subprocess.run(
            ["git", "-c", "protocol.file.allow=always", "clone", "--quiet", "--depth", "1",
             "--no-tags", f"file://{repo.resolve()}", str(dest)],
            check=True, capture_output=True, text=True, timeout=60,
            env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin",
                 "HOME": str(dest.parent), "GIT_CONFIG_NOSYSTEM": "1"})
    except FileNotFoundError:
        raise SubmissionError("git is not installed. Fix: `apt-get install git`.") from None
    except subprocess.CalledProcessError as error:
        last = (error.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise SubmissionError(f"git clone of {repo.name} failed: {last[0]}") from None
    except subprocess.TimeoutExpired:
        raise SubmissionError(f"git clone of {repo.name} took longer than 60 s.") from None
    shutil.rmtree(dest / ".git", ignore_errors=True)
