"""The learner's progress in ``.seamlab/progress.json``: status, best score, hints, last check.

Writes are atomic (a temporary file in the same folder, then ``os.replace``), so an interrupted
``seamlab check`` never leaves half a file. A file that cannot be read as progress is kept aside
as ``progress.json.corrupt-<timestamp>`` and progress starts again, with a warning that says so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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

    # --- reading ----------------------------------------------------------------------------
    @classmethod
    def load(cls, root: Path | None = None) -> Progress:
        path = state_dir(root) / FILENAME
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls(path=path)
        try:
            data = json.loads(raw.decode("utf-8"))  # UnicodeDecodeError is a ValueError
            if not isinstance(data, dict) or not isinstance(data.get("exercises"), dict):
                raise TypeError("no 'exercises' table")
            exercises = {
                str(slug): ExerciseProgress.from_dict(entry)
                for slug, entry in data["exercises"].items()
            }
        except (ValueError, TypeError, AttributeError) as error:
            kept = path.with_name(f"{FILENAME}.corrupt-{_stamp()}")
            os.replace(path, kept)
            return cls(
                path=path,
                warning=(
                    f"Your progress file {path} could not be read ({error}); it was moved to "
                    f"{kept.name} and progress starts fresh. Run `seamlab check` on exercises "
                    f"you finished to mark them passed again."
                ),
            )
        return cls(path=path, exercises=exercises)

    def of(self, slug: str) -> ExerciseProgress:
        return self.exercises.get(slug) or ExerciseProgress()

    def status(self, slug: str) -> str:
        return self.of(slug).status

    def passed(self, slug: str) -> bool:
        return self.status(slug) == PASSED

    # --- changing ---------------------------------------------------------------------------
    def _entry(self, slug: str) -> ExerciseProgress:
        return self.exercises.setdefault(slug, ExerciseProgress())

    def record_check(self, slug: str, verdict: str, score: float, max_score: float) -> None:
        """Remember a graded run. Infrastructure errors are not the learner's: not recorded."""
        if verdict == "infra_error":
            return
        entry = self._entry(slug)
        entry.checks += 1
        entry.last_checked = _now()
        entry.last_verdict = verdict
        entry.max_score = max_score
        entry.best_score = max(entry.best_score, score)
        if verdict == "passed":
            entry.status = PASSED
        elif entry.status != PASSED:
            entry.status = ATTEMPTED

    def reveal_hint(self, slug: str, available: int) -> int:
        """Reveal one more hint (up to ``available``); return how many are revealed now."""
        entry = self._entry(slug)
        entry.hints_revealed = min(available, entry.hints_revealed + 1)
        return entry.hints_revealed

    def save(self) -> None:
        data = {
            "version": FORMAT_VERSION,
            "exercises": {slug: asdict(entry) for slug, entry in sorted(self.exercises.items())},
        }
        write_atomically(self.path, json.dumps(data, indent=2) + "\n")


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
