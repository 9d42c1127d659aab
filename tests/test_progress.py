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

    names = sorted(p.name for p in (tmp_path / ".seamlab").iterdir())
    assert names == ["progress.json", "progress.json.lock"]  # the lock stays: it is reused
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


def test_two_processes_saving_at_once_keep_each_others_passes(tmp_path):
    """`watch` in one terminal and `check` in another: each saves its own change only."""
    watcher, checker = Progress.load(tmp_path), Progress.load(tmp_path)
    watcher.record_check("01-date-seam", "passed", 10, 10)
    checker.record_check("05-duplicate-email", "passed", 10, 10)
    checker.reveal_hint("05-duplicate-email", available=3)
    watcher.save()
    checker.save()

    again = Progress.load(tmp_path)

    assert again.passed("01-date-seam") and again.passed("05-duplicate-email")
    assert again.of("05-duplicate-email").hints_revealed == 1
    assert checker.passed("01-date-seam")  # a save also brings in what the others saved


def test_concurrent_saves_from_real_processes_lose_nothing(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from seamlab.progress import Progress\n"
            "for n in range(15):\n"
            "    p = Progress.load(Path(sys.argv[1]))\n"
            "    p.record_check(f'{sys.argv[2]}-{n}', 'passed', 1, 1)\n"
            "    p.save()\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), name])
             for name in ("a", "b", "c")]
    assert [proc.wait() for proc in procs] == [0, 0, 0]

    again = Progress.load(tmp_path)

    assert sum(again.passed(f"{name}-{n}") for name in "abc" for n in range(15)) == 45


def test_a_folder_in_place_of_the_progress_file_warns_and_keeps_progress_in_memory(tmp_path):
    (tmp_path / ".seamlab" / "progress.json").mkdir(parents=True)

    progress = Progress.load(tmp_path)
    progress.record_check("ex", "passed", 10, 10)

    assert progress.warning and "cannot be saved" in progress.warning
    assert progress.save() is None  # already warned once: no second warning, no traceback
    assert progress.passed("ex")
    assert (tmp_path / ".seamlab" / "progress.json").is_dir()


def test_a_read_only_progress_file_is_read_and_never_rewritten(tmp_path):
    first = Progress.load(tmp_path)
    first.record_check("ex", "passed", 10, 10)
    first.save()
    path = tmp_path / ".seamlab" / "progress.json"
    path.chmod(0o444)
    before = path.read_bytes()

    progress = Progress.load(tmp_path)
    progress.record_check("other", "failed", 0, 10)
    progress.save()

    assert progress.passed("ex")
    assert "read-only" in progress.warning
    assert path.read_bytes() == before
    assert path.stat().st_mode & 0o777 == 0o444


def test_saving_keeps_the_files_mode(tmp_path):
    progress = Progress.load(tmp_path)
    progress.record_check("ex", "failed", 0, 10)
    progress.save()
    path = tmp_path / ".seamlab" / "progress.json"
    path.chmod(0o640)

    progress.record_check("ex", "passed", 10, 10)
    progress.save()

    assert path.stat().st_mode & 0o777 == 0o640


def test_an_entry_under_a_former_slug_counts_for_the_new_one_and_is_saved_under_it(tmp_path):
    old = Progress.load(tmp_path)
    old.record_check("08-bottom-up", "passed", 10, 10)
    old.record_check("04-call-under-lock", "failed", 0, 10)
    old.save()
    renamed = {"08-bottom-up": "02-bottom-up", "04-call-under-lock": "08-call-under-lock"}

    progress = Progress.load(tmp_path, renamed=renamed)
    assert progress.passed("02-bottom-up")
    assert progress.status("08-call-under-lock") == "attempted"

    progress.reveal_hint("02-bottom-up", available=3)
    progress.save()
    saved = json.loads((tmp_path / ".seamlab" / "progress.json").read_text())["exercises"]
    assert sorted(saved) == ["02-bottom-up", "08-call-under-lock"]
    assert saved["02-bottom-up"]["status"] == "passed"
