"""Per-learner feedback in Markdown: what passed, which seam still breaks, and a hint."""

from __future__ import annotations

from seamlab.instructor.gradebook import Gradebook, status

_STATUS_TEXT = {
    "passed": "passed",
    "failed": "the seam still breaks",
    "learner_error": "your code raised an error",
    "timed_out": "timed out",
    "infra_error": "not graded (a service problem on our side, not counted against you)",
    "missing": "not submitted",
    "pending": "not graded yet",
}


def markdown(book: Gradebook, learner: str) -> str:
    lines = [f"# Feedback for {learner}", "",
             f"**{book.total(learner)} / {book.max_total} points** in {book.course.title}.", "",
             "| exercise | result | points |", "|---|---|---|"]
    for ex in book.exercises:
        state = status(book.record(learner, ex.slug))
        lines.append(f"| {ex.id} {_cell(ex.title)} | {_STATUS_TEXT.get(state, state)} | "
                     f"{book.score(learner, ex.slug)} / {ex.points} |")
    for ex in book.exercises:
        record = book.record(learner, ex.slug)
        state = status(record)
        if state == "passed" or record is None:
            continue
        result = record.result
        lines += ["", f"## {ex.id} · {ex.title}", "", f"Seam: {ex.seam}.", "",
                  result.summary.strip()]
        failing = [t for t in result.tests if t.outcome != "passed"]
        if failing:
            lines += ["", "Still failing:"]
            for test in failing[:5]:
                where = f" (at `{test.location}`)" if test.location else ""
                lines.append(f"- `{test.name}`{where}: {test.first_line}")
        missed = [m for m in result.mutants if not m.caught]
        if missed:
            lines += ["", "Planted faults your tests did not catch:"]
            lines += [f"- {m.description}" for m in missed]
        if record.notes and state != "missing":
            lines += ["", "The grader noticed:"] + [f"- {note}" for note in record.notes]
        if state in ("failed", "learner_error", "timed_out"):
            hint = ex.hints[1] if state == "failed" else ex.hints[0]
            lines += ["", f"Hint: {hint}"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
