"""Graded results on disk: ``<out>/results/<learner>/<exercise>.json``, one file per job.

Each file is written atomically by the autograder's parent process (never by learner code)
after the run ended. A file whose ``digest`` matches the learner's folder as it is now means
"already graded": re-running skips it. Infrastructure errors are stored but not final, so a
re-run tries them again. Merging shards is copying these files together.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seamlab.grading.results import GradeResult

RESULTS = "results"
FORMAT = 1


@dataclass
class Record:
    learner: str
    exercise: str
    result: GradeResult
    digest: str = ""
    notes: list[str] = field(default_factory=list)
    graded_at: str = ""

    @property
    def final(self) -> bool:
        return self.result.verdict != "infra_error"

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "learner": self.learner, "exercise": self.exercise,
                "digest": self.digest, "notes": self.notes, "graded_at": self.graded_at,
                "result": self.result.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        return cls(learner=data["learner"], exercise=data["exercise"],
                   result=GradeResult.from_dict(data["result"]), digest=data.get("digest", ""),
                   notes=list(data.get("notes", [])), graded_at=data.get("graded_at", ""))


def path_for(out: Path, learner: str, exercise: str) -> Path:
    return Path(out) / RESULTS / learner / f"{exercise}.json"


def write(out: Path, record: Record) -> Path:
    path = path_for(out, record.learner, record.exercise)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(record.to_dict(), fh, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: Path) -> Record | None:
    try:
        return Record.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged file counts as "not graded": the job runs again


def load_all(out: Path) -> list[Record]:
    folder = Path(out) / RESULTS
    if not folder.is_dir():
        return []
    records = []
    for path in sorted(folder.glob("*/*.json")):
        record = read(path)
        if record is not None:
            records.append(record)
    return records


def digest(folder: Path | None) -> str:
    """A fingerprint of the files in a learner's exercise folder (paths and contents)."""
    if folder is None or not folder.is_dir():
        return "missing"
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(p.startswith(".") or p == "__pycache__" for p in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_file() and not path.is_symlink():
            sha.update(rel.as_posix().encode() + b"\0")
            sha.update(hashlib.sha256(path.read_bytes()).digest())
    return sha.hexdigest()[:16]
