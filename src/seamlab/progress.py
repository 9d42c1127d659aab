"""The learner's progress in ``.seamlab/progress.json``: status, best score, hints, last check.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so an interrupted
``seamlab check`` never leaves half a file. A file that cannot be read as progress is kept aside
as ``progress.json.corrupt-<timestamp>`` and progress starts again, with a warning that says so.

Several seamlab processes may run at once (``watch`` in one terminal, ``check`` in another, a
notebook): each remembers the changes it made (not a whole copy) and ``save`` replays them on
the file as it is now, under a file lock, so no process erases another's pass. A progress file
that cannot be read or written (a folder in its place, a read-only file) never stops a command:
progress is then kept in memory only, with a one-line warning. Saving keeps the file's mode.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from seamlab.paths import state_dir

FILENAME = "progress.json"
FORMAT_VERSION = 1

NOT_STARTED = "not started"
ATTEMPTED = "attempted"
PASSED = "passed"
STATUSES = (NOT_STARTED, ATTEMPTED, PASSED)


@dataclass
class ExerciseProgress:
    status: str = NOT_STARTED
    best_score: float = 0
    max_score: float = 0
    hints_revealed: int = 0
    last_checked: str | None = None  # ISO timestamp, UTC
    last_verdict: str | None = None
    checks: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExerciseProgress:
        entry = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        if entry.status not in STATUSES:
            raise ValueError(f"unknown status {entry.status!r}")
        if not isinstance(entry.hints_revealed, int) or entry.hints_revealed < 0:
            raise ValueError(f"hints_revealed must be a count, not {entry.hints_revealed!r}")
        return entry


@dataclass
class Progress:
    path: Path
    exercises: dict[str, ExerciseProgress] = field(default_factory=dict)
    #: Set when the file on disk was unreadable: what happened, for the CLI to show once.
    warning: str | None = None
    #: The changes made since the last save, replayed on the file's current content by save().
    _changes: list[Callable[[Progress], None]] = field(default_factory=list, repr=False)
    #: False when the file cannot be written (a folder, read-only): progress stays in memory.
    writable: bool = True
    #: Former slug -> today's slug (``Course.renamed``): old entries are read and saved as new.
    renamed: dict[str, str] = field(default_factory=dict, repr=False)

    # --- reading ----------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path | None = None, renamed: dict[str, str] | None = None) -> Progress:
        """Read the progress file. Entries under a former slug (``renamed``: old -> new, from
        ``Course.renamed``) count for the exercise's slug today, and are saved under it."""
        renamed = dict(renamed or {})
        try:
            path = state_dir(root) / FILENAME
        except OSError as error:
            path = (root or Path.cwd()) / ".seamlab" / FILENAME
            return cls(path=path, writable=False, warning=_unusable(path, error))
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path=path, renamed=renamed)
        except OSError as error:  # a folder in its place, no permission to read it
            return cls(path=path, writable=False, warning=_unusable(path, error))
        read_only = _read_only(path)
        try:
            data = json.loads(raw.decode("utf-8"))  # UnicodeDecodeError is a ValueError
            if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
                raise TypeError("no 'exercises' table")
            exercises = {
                str(slug): ExerciseProgress.from_dict(entry)
                for slug, entry in data["exercises"].items()
            }
            exercises = _renamed(exercises, renamed)
        except (ValueError, TypeError, AttributeError) as error:
            kept = path.with_name(f"{FILENAME}.corrupt-{_stamp()}")
            try:
                os.replace(path, kept)
            except OSError as move_error:
                return cls(path=path, writable=False,
                           warning=_unusable(path, f"{error}; and {move_error}"))
            return cls(
                path=path,
                warning=(
                    f"Your progress file {path} could not be read ({error}); it was moved to "
                    f"{kept.name} and progress starts fresh. Run `seamlab check` on exercises "
                    f"you finished to mark them passed again."
                ),
            )
        if read_only:
            return cls(path=path, exercises=exercises, writable=False, renamed=renamed,
                       warning=f"Your progress file {path} is read-only: this session's "
                       "progress is not saved. Fix: `chmod u+w` it to save progress again.")
        return cls(path=path, exercises=exercises, renamed=renamed)

    @classmethod
    def _reread(cls, path: Path) -> dict[str, ExerciseProgress]:
        """The exercises in the file now (empty when it is gone or unreadable)."""
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
            return {str(slug): ExerciseProgress.from_dict(entry)
                    for slug, entry in data["exercises"].items()}
        except (OSError, ValueError, TypeError, AttributeError, KeyError):
            return {}

    def of(self, slug: str) -> ExerciseProgress:
        return self.exercises.get(slug) or ExerciseProgress()

    def status(self, slug: str) -> str:
        return self.of(slug).status

    def passed(self, slug: str) -> bool:
        return self.status(slug) == PASSED

    # --- changing ---------------------------------------------------------------------------
    def _entry(self, slug: str) -> ExerciseProgress:
        return self.exercises.setdefault(slug, ExerciseProgress())

    def _change(self, change: Callable[[Progress], None]) -> None:
        change(self)
        self._changes.append(change)

    def record_check(self, slug: str, verdict: str, score: float, max_score: float) -> None:
        """Remember a graded run. Infrastructure errors are not the learner's: not recorded."""
        if verdict == "infra_error":
            return
        when = _now()
        self._change(lambda p: p._apply_check(slug, verdict, score, max_score, when))

    def _apply_check(self, slug: str, verdict: str, score: float, max_score: float,
                     when: str) -> None:
        entry = self._entry(slug)
        entry.checks += 1
        entry.last_checked = when
        entry.last_verdict = verdict
        entry.max_score = max_score
        entry.best_score = max(entry.best_score, score)
        if verdict == "passed":
            entry.status = PASSED
        elif entry.status != PASSED:
            entry.status = ATTEMPTED

    def reveal_hint(self, slug: str, available: int) -> int:
        """Reveal one more hint (up to ``available``); return how many are revealed now."""
        wanted = min(available, self.of(slug).hints_revealed + 1)

        def reveal(progress: Progress) -> None:
            entry = progress._entry(slug)
            entry.hints_revealed = max(entry.hints_revealed, wanted)

        self._change(reveal)
        return self.of(slug).hints_revealed

    def save(self) -> str | None:
        """Merge this process's changes into the file; returns a warning when it could not."""
        if not self.writable:
            return None
        lock = FileLock(str(self.path.with_name(FILENAME + ".lock")), timeout=10)
        try:
            with lock:
                if self.path.exists() and (self.path.is_dir() or _read_only(self.path)):
                    raise PermissionError(f"{self.path} is not a writable file")
                now = _renamed(self._reread(self.path), self.renamed)
                current = Progress(path=self.path, exercises=now)
                for change in self._changes:
                    change(current)
                data = {
                    "version": FORMAT_VERSION,
                    "exercises": {slug: asdict(entry)
                                  for slug, entry in sorted(current.exercises.items())},
                }
                write_atomically(self.path, json.dumps(data, indent=2) + "\n")
        except (OSError, Timeout) as error:
            self.writable = False
            self.warning = _unusable(self.path, error)
            return self.warning
        self.exercises, self._changes = current.exercises, []
        return None


def _renamed(
    exercises: dict[str, ExerciseProgress], renamed: dict[str, str]
) -> dict[str, ExerciseProgress]:
    """Move entries kept under a former slug to today's slug. When both exist, the one that got
    further wins (passed over attempted), so an old pass is never lost."""
    rank = {status: order for order, status in enumerate(STATUSES)}
    moved: dict[str, ExerciseProgress] = {k: v for k, v in exercises.items() if k not in renamed}
    for old, entry in exercises.items():
        if old not in renamed:
            continue
        new = renamed[old]
        kept = moved.get(new)
        if kept is None or (rank[entry.status], entry.best_score) > (rank[kept.status], kept.best_score):
            moved[new] = entry
    return moved


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_only(path: Path) -> bool:
    """No write bit at all: the learner (or an admin) made it read-only on purpose. Checked by
    mode, not access(): root may write anything, and should still not overwrite it."""
    try:
        return os.stat(path).st_mode & 0o222 == 0
    except OSError:
        return False


def _unusable(path: Path, error: object) -> str:
    return (f"Progress cannot be saved to {path} ({error}): this session's progress is kept "
            "in memory only. Fix: make it a writable file (or remove it).")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
