"""The autograder's outputs, written from the gradebook: gradebook.csv, gradebook.json (for LMS
import), feedback/<learner>.md and report.html; and merging shard folders into one.

Deterministic on purpose (sorted learners, exercises in course order, no timestamps): the
outputs of shards merged equal those of one unsharded run, byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from seamlab.course import Course
from seamlab.errors import SeamlabError
from seamlab.instructor import feedback, gradebook, report, store

CSV_NAME = "gradebook.csv"
JSON_NAME = "gradebook.json"


def to_csv(book: gradebook.Gradebook) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["learner", *(ex.slug for ex in book.exercises), "total", "max"])
    for learner in book.learners:
        writer.writerow([learner, *(book.score(learner, ex.slug) for ex in book.exercises),
                         book.total(learner), book.max_total])
    return buffer.getvalue()


def to_json(book: gradebook.Gradebook) -> str:
    """Per learner: total, max, percent and per exercise score/max/status (for LMS import)."""
    data = {
        "course": book.course.title,
        "max_total": book.max_total,
        "exercises": [{"id": ex.id, "slug": ex.slug, "title": ex.title, "points": ex.points}
                      for ex in book.exercises],
        "learners": [
            {
                "learner": learner,
                "total": book.total(learner),
                "max": book.max_total,
                "percent": round(100 * book.total(learner) / book.max_total, 1)
                if book.max_total else 0.0,
                "exercises": {
                    ex.slug: {"score": book.score(learner, ex.slug), "max": ex.points,
                              "status": gradebook.status(book.record(learner, ex.slug))}
                    for ex in book.exercises
                },
            }
            for learner in book.learners
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def write(course: Course, out: Path) -> gradebook.Gradebook:
    """gradebook.csv, gradebook.json, feedback/<learner>.md and report.html under ``out``."""
    out = Path(out)
    book = gradebook.build(course, out)
    (out / CSV_NAME).write_text(to_csv(book), encoding="utf-8")
    (out / JSON_NAME).write_text(to_json(book), encoding="utf-8")
    folder = out / "feedback"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for learner in book.learners:
        (folder / f"{learner}.md").write_text(feedback.markdown(book, learner), encoding="utf-8")
    (out / report.NAME).write_text(report.html(book), encoding="utf-8")
    return book


def merge(course: Course, out: Path, shards: list[Path]) -> gradebook.Gradebook:
    """Join the results of shard folders into ``out`` (latest grading wins on overlap)."""
    if not shards:
        raise SeamlabError("Name at least one shard folder to merge (each an autograde --out).")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for shard in shards:
        # A shard that had nothing to grade has its gradebook but no results/ (and an artifact
        # upload drops empty folders): it merges as nothing.
        if not (Path(shard) / store.RESULTS).is_dir() and not (Path(shard) / JSON_NAME).is_file():
            raise SeamlabError(f"{shard} has no {store.RESULTS}/ folder: is it the --out folder "
                               "of an autograde run?")
    for shard in shards:
        for record in store.load_all(Path(shard)):
            existing = store.read(store.path_for(out, record.learner, record.exercise))
            if existing is None or ((existing.final, existing.graded_at)
                                    <= (record.final, record.graded_at)):
                store.write(out, record)
    return write(course, out)
