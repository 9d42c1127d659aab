"""Progress in .seamlab/progress.json: remembered, written atomically, rebuilt when corrupt."""

from __future__ import annotations

import json

import pytest

from seamlab.progress import ATTEMPTED, NOT_STARTED, PASSED, Progress


def test_an_exercise_never_checked_is_not_started(tmp_path):
    assert Progress.load(tmp_path).status("01-date-seam") == NOT_STARTED


def test_remembers_checks_and_hints_across_loads(tmp_path):
    progress = Progress.load(tmp_path)
    progress.record_check("01-date-seam", "failed", 0, 10)
    progress.reveal_hint("01-date-seam", available=3)
    progress.save()

    again = Progress.load(tmp_path).of("01-date-seam")

    assert (again.status, again.hints_revealed, again.checks) == (ATTEMPTED, 1, 1)
    assert again.last_checked is not None


def test_a_pass_stays_a_pass_and_keeps_the_best_score(tmp_path):
    progress = Progress.load(tmp_path)
    progress.record_check("ex", "passed", 10, 10)
    progress.record_check("ex", "failed", 3, 10)

    assert progress.status("ex") == PASSED
    assert progress.of("ex").best_score == 10
    assert progress.of("ex").last_verdict == "failed"


def test_infrastructure_errors_are_never_recorded_against_the_learner(tmp_path):
    progress = Progress.load(tmp_path)
    progress.record_check("ex", "infra_error", 0, 10)

    assert progress.status("ex") == NOT_STARTED
    assert progress.of("ex").checks == 0


def test_hints_stop_at_the_last_one(tmp_path):
    progress = Progress.load(tmp_path)

    counts = [progress.reveal_hint("ex", available=3) for _ in range(5)]

    assert counts == [1, 2, 3, 3, 3]


def test_saving_leaves_no_temporary_files_behind(tmp_path):
    progress = Progress.load(tmp_path)
    progress.record_check("ex", "failed", 0, 10)
    progress.save()
    progress.save()

    assert sorted(p.name for p in (tmp_path / ".seamlab").iterdir()) == ["progress.json"]
    assert json.loads((tmp_path / ".seamlab" / "progress.json").read_text())["version"] == 1


@pytest.mark.parametrize(
    "garbage",
    ['{"exercises": {"ex": {"stat', "[]", '{"exercises": {"ex": {"status": "done"}}}',
     '{"exercises": {"ex": {"hints_revealed": -1}}}'],
)
def test_a_corrupt_file_is_kept_aside_and_progress_starts_fresh(tmp_path, garbage):
    state = tmp_path / ".seamlab"
    state.mkdir()
    (state / "progress.json").write_text(garbage)

    progress = Progress.load(tmp_path)

    kept = [p for p in state.iterdir() if p.name.startswith("progress.json.corrupt-")]
    assert len(kept) == 1 and kept[0].read_text() == garbage
    assert progress.exercises == {}
    assert "could not be read" in progress.warning and kept[0].name in progress.warning


def test_fields_a_newer_seamlab_added_are_ignored_not_treated_as_corruption(tmp_path):
    state = tmp_path / ".seamlab"
    state.mkdir()
    (state / "progress.json").write_text('{"exercises": {"ex": {"status": "passed", "streak": 3}}}')

    progress = Progress.load(tmp_path)

    assert progress.passed("ex") and progress.warning is None
