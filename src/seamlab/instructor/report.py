"""A self-contained HTML report (inline CSS and SVG, no scripts, nothing fetched):
a learners x exercises heatmap, the faults missed most often, and the score distribution."""

from __future__ import annotations

from collections import Counter
from html import escape

from seamlab.instructor.gradebook import Gradebook, status

NAME = "report.html"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px 32px;color:#1d232b}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#5b6573;margin-bottom:16px}
.stats{display:flex;gap:14px;margin:12px 0 4px}.stat{background:#f3f5f8;border-radius:8px;padding:8px 14px}
.stat b{display:block;font-size:20px}
table.heat{border-collapse:separate;border-spacing:2px}
table.heat th{font-weight:600;font-size:12px;color:#39424e;padding:2px 6px;text-align:left}
table.heat th.ex{vertical-align:bottom;padding:2px 0}
table.heat th.ex div{writing-mode:vertical-rl;transform:rotate(180deg);max-height:230px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;margin:0 auto}
table.heat td{width:34px;height:24px;text-align:center;font-size:11px;border-radius:3px;color:#111}
table.heat td.total{width:auto;padding:0 8px;background:#eef1f5;font-weight:600}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border-radius:3px;font-size:12px}
.bars{max-width:980px}.bar{display:flex;align-items:center;margin:3px 0}
.bar .label{width:520px;font-size:13px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bar .fill{height:16px;background:#d9534f;border-radius:3px;margin:0 8px}
.bar .n{font-size:12px;color:#5b6573}
.muted{color:#5b6573}
"""

_FIXED = {"missing": "#d5d9df", "infra_error": "#b9a6e0", "pending": "#ffffff",
          "timed_out": "#f0ad4e", "learner_error": "#e8837f"}


def _color(fraction: float) -> str:
    """Red (0) through amber to green (1)."""
    hue = round(120 * max(0.0, min(1.0, fraction)))
    return f"hsl({hue},65%,62%)"


def html(book: Gradebook) -> str:
    parts = [(f"<!doctype html><html lang=en><head><meta charset=utf-8>"
             f"<title>{escape(book.course.title)}: autograde report</title>"
             f"<style>{_CSS}</style></head><body>"),
             f"<h1>{escape(book.course.title)}</h1>",
             (f"<div class=sub>Autograde report: {len(book.learners)} learners, "
             f"{len(book.exercises)} exercises, {book.max_total} points.</div>"),
             _stats(book), "<h2>Learners × exercises</h2>", _legend(), _heatmap(book),
             "<h2>Faults most often missed</h2>", _missed(book),
             "<h2>Score distribution</h2>", _histogram(book), "</body></html>"]
    return "\n".join(parts)


def _stats(book: Gradebook) -> str:
    totals = [book.total(learner) for learner in book.learners]
    if not totals:
        return "<p class=muted>No results yet.</p>"
    mean = sum(totals) / len(totals)
    ordered = sorted(totals)
    median = ordered[len(ordered) // 2]
    full = sum(1 for t in totals if t == book.max_total)
    cells = [("learners", len(totals)), ("mean", f"{mean:.1f} / {book.max_total}"),
             ("median", f"{median} / {book.max_total}"), ("full marks", full)]
    return "<div class=stats>" + "".join(
        f"<div class=stat><b>{escape(str(v))}</b>{escape(k)}</div>" for k, v in cells) + "</div>"


def _legend() -> str:
    items = [(_color(1), "all points"), (_color(0.5), "some"), (_color(0), "none (failed)"),
             (_FIXED["learner_error"], "error in code"), (_FIXED["timed_out"], "timed out"),
             (_FIXED["missing"], "not submitted"), (_FIXED["infra_error"], "not graded (infra)")]
    return "<p class=legend>" + "".join(
        f"<span style='background:{c}'>{escape(t)}</span>" for c, t in items) + "</p>"


def _heatmap(book: Gradebook) -> str:
    head = "<tr><th></th>" + "".join(
        f"<th class=ex title='{escape(ex.seam, quote=True)}'><div>{escape(ex.id)} "
        f"{escape(ex.title)}</div></th>"
        for ex in book.exercises) + "<th>total</th></tr>"
    rows = []
    for learner in book.learners:
        cells = []
        for ex in book.exercises:
            record = book.record(learner, ex.slug)
            state = status(record)
            score = book.score(learner, ex.slug)
            if state in _FIXED and not (state == "learner_error" and score):
                color = _FIXED[state]
            else:
                color = _color(score / ex.points if ex.points else 0)
            tip = f"{learner} · {ex.slug}: {state}, {score}/{ex.points}"
            if record is not None:
                tip += " · " + record.result.summary[:200]
            cells.append(f"<td style='background:{color}' title='{escape(tip, quote=True)}'>"
                         f"{score}</td>")
        rows.append(f"<tr><th>{escape(learner)}</th>{''.join(cells)}"
                    f"<td class=total>{book.total(learner)}</td></tr>")
    return f"<table class=heat>{head}{''.join(rows)}</table>"


def missed_faults(book: Gradebook) -> Counter:
    """(exercise id, what was missed) -> how many learners missed it."""
    counts: Counter = Counter()
    for record in book.cells.values():
        if status(record) in ("passed", "missing", "infra_error", "pending"):
            continue
        ex_id = record.exercise.split("-", 1)[0]
        seen = set()
        for test in record.result.tests:
            if test.outcome != "passed":
                seen.add((ex_id, f"{test.name}" + (" (the seam)" if test.seam else "")))
        for mutant in record.result.mutants:
            if not mutant.caught:
                seen.add((ex_id, f"planted fault: {mutant.description}"))
        counts.update(seen)
    return counts


def _missed(book: Gradebook) -> str:
    # Ties by name: the counts come from sets, whose order changes from process to process,
    # and the report of merged shards must equal the unsharded one byte for byte.
    counts = sorted(missed_faults(book).items(), key=lambda item: (-item[1], item[0]))[:12]
    if not counts:
        return "<p class=muted>Nothing was missed.</p>"
    top = counts[0][1]
    rows = []
    for (ex_id, what), n in counts:
        width = max(4, round(360 * n / top))
        label = f"{ex_id} · {what}"
        rows.append(f"<div class=bar><div class=label title='{escape(label, quote=True)}'>"
                    f"{escape(label)}</div><div class=fill style='width:{width}px'></div>"
                    f"<span class=n>{n} learner{'s' if n != 1 else ''}</span></div>")
    return "<div class=bars>" + "".join(rows) + "</div>"


def _histogram(book: Gradebook) -> str:
    if not book.learners or not book.max_total:
        return "<p class=muted>No results yet.</p>"
    bins = [0] * 10
    for learner in book.learners:
        fraction = book.total(learner) / book.max_total
        bins[min(9, int(fraction * 10))] += 1
    width, height, pad = 560, 200, 30
    step = (width - 2 * pad) / 10
    top = max(bins) or 1
    bars = []
    for i, n in enumerate(bins):
        h = (height - 2 * pad) * n / top
        x, y = pad + i * step, height - pad - h
        bars.append(f"<rect x='{x + 3:.1f}' y='{y:.1f}' width='{step - 6:.1f}' height='{h:.1f}' "
                    f"fill='{_color((i + 0.5) / 10)}'><title>{i * 10}–{i * 10 + 10}%: {n}"
                    f"</title></rect>")
        if n:
            bars.append(f"<text x='{x + step / 2:.1f}' y='{y - 4:.1f}' font-size='11' "
                        f"text-anchor='middle'>{n}</text>")
        bars.append(f"<text x='{x + step / 2:.1f}' y='{height - pad + 14}' font-size='10' "
                    f"text-anchor='middle' fill='#5b6573'>{i * 10}–{i * 10 + 10}%</text>")
    axis = (f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' "
            f"stroke='#9aa3ad'/>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"role='img' aria-label='score distribution'>{axis}{''.join(bars)}</svg>"
            "<p class=muted>Learners by share of the points (the last bin includes 100%).</p>")
