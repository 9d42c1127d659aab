"""The learner CLI, run as a learner would, on a copy of the course (never the real progress)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seamlab.cli import app
from seamlab.config import Settings
from seamlab.errors import ServiceUnavailable

ROOT = Path(__file__).resolve().parents[1]
SLUG = "01-date-seam"


@pytest.fixture
def course_copy(tmp_path, monkeypatch):
    """A private copy of the course: the chapters and exercise 01, with its solution."""
    (tmp_path / "course.toml").write_text(manifest_up_to_exercise_01())
    for tree in ("exercises", "solutions"):
        shutil.copytree(ROOT / tree / SLUG, tmp_path / tree / SLUG,
                        ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("SEAMLAB_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def manifest_up_to_exercise_01() -> str:
    """The real course.toml, cut after exercise 01 (other exercises come and go)."""
    text = (ROOT / "course.toml").read_text()
    headers = [m.start() for m in re.finditer(r"^\[\[exercises\]\]", text, re.MULTILINE)]
    return text if len(headers) < 2 else text[: headers[1]]


def seamlab(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def progress_of(root: Path) -> dict:
    return json.loads((root / ".seamlab" / "progress.json").read_text())["exercises"][SLUG]


@pytest.fixture(scope="module")
def postgres():
    """The course Postgres must answer: `check` grades against it for real."""
    from seamlab.backends import wait_ready

    settings = Settings.from_env()
    try:
        wait_ready(settings, ["postgres"], timeout=15)
    except ServiceUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    return settings


# --- overview, list, hints ------------------------------------------------------------------


def test_seamlab_alone_shows_progress_and_how_to_start_the_next_exercise(course_copy):
    result = seamlab()

    assert result.exit_code == 0
    assert "0 of 1 exercises passed, 0 of 10 points" in result.output
    assert "Next: 01 · The date that changed month" in result.output
    assert "exercises/01-date-seam/README.md" in result.output
    assert "seamlab check 01" in result.output


def test_list_shows_chapter_seam_status_and_points(course_copy):
    result = seamlab("list")

    assert result.exit_code == 0
    row = next(line for line in result.output.splitlines() if "The date that changed month" in line)
    for cell in ("01", "validator -> repository (Postgres DATE)", "not started", "0/10"):
        assert cell in row


def test_hints_come_one_at_a_time_and_are_remembered(course_copy):
    first = seamlab("hint", "01")
    second = seamlab("hint", "date-seam")

    assert "Hint 1 of 3" in first.output and "Hint 2 of 3" not in first.output
    assert "Hint 1 of 3" in second.output and "Hint 2 of 3" in second.output
    assert progress_of(course_copy)["hints_revealed"] == 2
    assert "(hint 3 of 3)" in seamlab().output


def test_hints_stop_at_the_third_and_say_it_was_the_last(course_copy):
    for _ in range(4):
        result = seamlab("hint")

    assert "Hint 3 of 3" in result.output and "last hint" in result.output
    assert progress_of(course_copy)["hints_revealed"] == 3


def test_an_unknown_exercise_exits_2_and_names_the_real_ones(course_copy):
    result = seamlab("hint", "42")

    assert result.exit_code == 2
    assert "There is no exercise '42'" in result.output and "01" in result.output


def test_a_corrupt_progress_file_is_rebuilt_with_a_warning(course_copy):
    state = course_copy / ".seamlab"
    state.mkdir()
    (state / "progress.json").write_text("{not json")

    result = seamlab("list")

    assert result.exit_code == 0
    assert "could not be read" in result.output
    assert any(p.name.startswith("progress.json.corrupt-") for p in state.iterdir())
    assert json.loads((state / "progress.json").read_text())["exercises"] == {}


# --- reset and solution ---------------------------------------------------------------------


def test_reset_restores_the_starter_and_backs_up_the_learners_files(course_copy):
    seamlab("list")  # the first command keeps a copy of the untouched starter
    folder = course_copy / "exercises" / SLUG
    starter = (folder / "validation.py").read_text()
    (folder / "validation.py").write_text("# my attempt\n")
    (folder / "notes.txt").write_text("try strptime\n")

    result = seamlab("reset", "01")

    assert result.exit_code == 0
    assert (folder / "validation.py").read_text() == starter
    assert not (folder / "notes.txt").exists()
    backups = list((course_copy / ".seamlab" / "backups").iterdir())
    assert [b.name.startswith(f"{SLUG}-") for b in backups] == [True]
    assert (backups[0] / "validation.py").read_text() == "# my attempt\n"
    assert (backups[0] / "notes.txt").read_text() == "try strptime\n"
    assert str(backups[0].relative_to(course_copy)) in result.output.replace("\n", "")


def test_reset_restores_a_deleted_exercise_folder(course_copy):
    seamlab("list")
    shutil.rmtree(course_copy / "exercises" / SLUG)

    assert seamlab("reset", SLUG).exit_code == 0
    assert (course_copy / "exercises" / SLUG / "tests" / "test_validation.py").is_file()


def test_reset_keeps_files_in_dot_folders_of_an_exercise(course_copy):
    folder = course_copy / "exercises" / SLUG
    workflow = folder / ".github" / "workflows" / "tests.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: starter\n")
    seamlab("list")  # the starter copy now includes .github/
    workflow.write_text("name: my edit\n")

    assert seamlab("reset", "01").exit_code == 0
    assert workflow.read_text() == "name: starter\n"


def test_the_solution_stays_closed_until_the_exercise_passes(course_copy):
    result = seamlab("solution", "01")

    assert result.exit_code == 2
    assert "opens once your code passes" in result.output and "--force" in result.output
    assert "strptime" not in result.output


def test_the_solution_with_force_is_a_diff_of_the_fix(course_copy):
    result = seamlab("solution", "01", "--force")

    assert result.exit_code == 0
    assert "--- starter/validation.py" in result.output
    assert "+++ solution/validation.py" in result.output
    assert '-    birth_date: str' in result.output
    assert "README" not in result.output


def test_the_solution_opens_after_a_recorded_pass(course_copy):
    state = course_copy / ".seamlab"
    state.mkdir()
    (state / "progress.json").write_text(json.dumps({"exercises": {SLUG: {"status": "passed"}}}))

    result = seamlab("solution", "01")

    assert result.exit_code == 0 and "+++ solution/validation.py" in result.output


# --- check, against the real services ---------------------------------------------------------


def test_check_on_the_starter_exits_1_and_explains_the_swapped_date(course_copy, postgres):
    result = seamlab("check", "01")

    assert result.exit_code == 1, result.output
    assert "The seam validator -> repository (Postgres DATE) is still broken" in result.output
    assert "A date like 03 04 keeps its day and month" in result.output
    assert "the day and month were swapped" in result.output
    assert "seamlab hint 01 (hint 1 of 3)" in result.output
    entry = progress_of(course_copy)
    assert (entry["status"], entry["last_verdict"], entry["checks"]) == ("attempted", "failed", 1)


def test_check_exits_0_once_the_fix_is_in_and_moves_progress_on(course_copy, postgres):
    shutil.copy(course_copy / "solutions" / SLUG / "validation.py",
                course_copy / "exercises" / SLUG / "validation.py")

    result = seamlab("check")

    assert result.exit_code == 0, result.output
    assert "Passed." in result.output and "seamlab solution 01" in result.output
    assert progress_of(course_copy)["status"] == "passed"
    assert "1 of 1 exercises passed, 10 of 10 points" in seamlab().output


def test_check_json_and_target_grade_any_folder_without_touching_progress(course_copy, postgres):
    junit = course_copy / "report.xml"
    result = seamlab("check", SLUG, "--json", "--junit", str(junit),
                     "--target", str(course_copy / "solutions" / SLUG))

    assert result.exit_code == 0
    assert json.loads(result.output)["verdict"] == "passed"
    assert "<testsuite" in junit.read_text()
    assert not (course_copy / ".seamlab" / "progress.json").exists() or SLUG not in json.loads(
        (course_copy / ".seamlab" / "progress.json").read_text())["exercises"]


def run_in_a_kernel(code: str, folder: Path) -> list:
    """The outputs of one code cell run in a real IPython kernel started in ``folder``."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(notebook, kernel_name="python3", timeout=180,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook.cells[0].outputs


def test_a_check_in_a_notebook_shows_the_terminals_verdict_and_counts_in_progress(
        course_copy, postgres):
    import html

    from seamlab.notebook import HTML_WIDTH

    outputs = run_in_a_kernel('import seamlab\npassed = seamlab.check("01")', course_copy)

    assert [o.output_type for o in outputs] == ["display_data"], outputs
    plain, rich = outputs[0].data["text/plain"], outputs[0].data["text/html"]
    assert plain.startswith(f"{SLUG}: ") and "hidden tests pass." in plain.splitlines()[0]
    shown = html.unescape(re.sub(r"<[^>]+>", "", rich))
    for words in ("01 · The date that changed month",
                  "The seam validator -> repository (Postgres DATE) is still broken",
                  "the day and month were swapped", "seamlab hint 01 (hint 1 of 3)"):
        assert words in " ".join(shown.split()), words
    assert max(len(line) for line in shown.splitlines()) <= HTML_WIDTH
    entry = progress_of(course_copy)
    assert (entry["status"], entry["last_verdict"], entry["checks"]) == ("attempted", "failed", 1)
    row = next(line for line in seamlab("list").output.splitlines() if "changed month" in line)
    assert "not yet" in row


def test_check_exits_3_when_postgres_is_down_and_does_not_blame_the_learner(
    course_copy, monkeypatch, unused_port
):
    monkeypatch.setenv("TEST_DB_PORT", str(unused_port))

    result = seamlab("check", "01")

    assert result.exit_code == 3, result.output
    assert "This is not your code" in result.output
    assert f"127.0.0.1:{unused_port}" in result.output.replace("\n", "")
    assert "Fix:" in result.output  # the cause comes with the way out
    progress = course_copy / ".seamlab" / "progress.json"
    assert not progress.exists() or SLUG not in json.loads(progress.read_text())["exercises"]


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- watch ------------------------------------------------------------------------------------


@pytest.mark.parametrize("poll", [True, False], ids=["polling", "file-events"])
def test_the_watcher_reports_a_saved_file_once_it_settles(tmp_path, poll):
    import queue
    import threading
    import time

    from seamlab import watch

    (tmp_path / "validation.py").write_text("v1\n")
    stop, batches = threading.Event(), queue.Queue()

    def collect():
        for batch in watch.changes(tmp_path, stop=stop, poll=poll, debounce=0.1):
            batches.put(batch)

    thread = threading.Thread(target=collect, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        batch = None
        while batch is None and time.monotonic() < deadline:
            # Saved again until seen: the watcher may still be starting when the first save lands.
            (tmp_path / "validation.py").write_text(f"v{time.monotonic()}\n")
            (tmp_path / "__pycache__").mkdir(exist_ok=True)
            (tmp_path / "__pycache__" / "validation.cpython-311.pyc").write_text("x")
            try:
                batch = batches.get(timeout=1.0)
            except queue.Empty:
                pass
        assert batch is not None, "no change was reported within 10 s"
        assert {p.name for p in batch} == {"validation.py"}
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


@pytest.mark.parametrize("poll", [True, False], ids=["polling", "file-events"])
def test_a_save_made_before_the_watcher_started_is_not_lost(tmp_path, poll):
    # `watch` prints "save a file to re-check" before its watcher runs; a learner (or a test)
    # that saves in between must still get a re-check.
    import threading

    from seamlab import watch

    (tmp_path / "validation.py").write_text("v1\n")
    baseline = watch.snapshot(tmp_path)
    (tmp_path / "validation.py").write_text("v2, saved at once\n")
    stop = threading.Event()
    timer = threading.Timer(10, stop.set)
    timer.start()
    try:
        batch = next(watch.changes(tmp_path, stop=stop, poll=poll, debounce=0.1,
                                   baseline=baseline), None)
    finally:
        timer.cancel()
        stop.set()
    assert batch is not None and {p.name for p in batch} == {"validation.py"}


def test_watch_rechecks_on_save_and_stops_once_everything_passes(course_copy, postgres):
    import io
    import threading

    from rich.console import Console

    from seamlab.commands.watching import watch_exercise
    from seamlab.commands.workspace import Workspace
    from seamlab.waiting import wait_for

    out = io.StringIO()
    workspace = Workspace.open(Console(file=out, width=200))
    stop = threading.Event()
    codes = []
    thread = threading.Thread(
        target=lambda: codes.append(watch_exercise(workspace, None, poll=True, stop=stop)), daemon=True
    )
    thread.start()
    try:
        wait_for(lambda: "Watching exercises/01-date-seam/" in out.getvalue() or not thread.is_alive(),
                 timeout=60, what="watch to finish its first check")
        assert "is still broken" in out.getvalue()

        shutil.copy(course_copy / "solutions" / SLUG / "validation.py",
                    course_copy / "exercises" / SLUG / "validation.py")
        thread.join(timeout=60)
    finally:
        stop.set()
    assert codes == [0], out.getvalue()
    assert "re-checking 01" in out.getvalue() and "Passed." in out.getvalue()
    assert "Every exercise passes" in out.getvalue()


def test_in_a_git_checkout_reset_restores_the_committed_starter_even_if_edited_early(course_copy):
    import subprocess

    def git(*args):
        subprocess.run(["git", "-C", str(course_copy), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "course.toml", "exercises")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "course")
    validation = course_copy / "exercises" / SLUG / "validation.py"
    committed = validation.read_text()
    validation.write_text("# edited before seamlab ever ran\n")

    assert seamlab("reset", "01").exit_code == 0
    assert validation.read_text() == committed

    validation.write_text(committed + "# a course update\n")  # the course author ships a change
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "update")
    validation.write_text("# learner work\n")

    assert seamlab("reset", "01").exit_code == 0
    assert validation.read_text() == committed + "# a course update\n"


@pytest.mark.parametrize("breakage", ["folder", "read-only"])
def test_every_command_works_when_progress_cannot_be_saved(course_copy, postgres, breakage):
    path = course_copy / ".seamlab" / "progress.json"
    if breakage == "folder":
        path.mkdir(parents=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"version": 1, "exercises": {}}\n')
        path.chmod(0o444)

    for args in ([], ["list"], ["hint", "01"]):
        result = seamlab(*args)
        assert result.exit_code == 0, result.output
        assert "Warning:" in result.output
    checked = seamlab("check", "01")

    assert checked.exit_code == 1, checked.output  # the starter fails: the verdict is shown
    assert "Warning:" in checked.output and "Traceback" not in checked.output
    assert "swapped" in checked.output.lower() or "fail" in checked.output.lower()
    assert path.is_dir() if breakage == "folder" else path.stat().st_mode & 0o777 == 0o444


def test_outside_any_course_check_says_which_course_it_uses(tmp_path, monkeypatch):
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if k != "SEAMLAB_HOME"}
    result = subprocess.run([sys.executable, "-m", "seamlab.cli", "list"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120, check=False)

    assert "not inside a course folder" in result.stdout, result.stdout + result.stderr
    assert str(ROOT) in result.stdout.splitlines()[0]


def test_up_says_it_found_the_running_services_and_that_down_will_leave_them(course_copy, postgres):
    result = seamlab("up", "--service", "postgres", "--service", "redis")

    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Found Postgres and Redis already running (not started by seamlab)" in said
    assert "seamlab started none of them, so `seamlab down` leaves them alone" in said
    assert "compose ports" not in said and "stops what seamlab started" not in said


def test_up_names_what_it_started_and_what_down_will_stop():
    from seamlab.backends import EMBEDDED_PATH, UpReport, ServiceStatus
    from seamlab.commands.services import _what_up_did

    report = UpReport(services=[
        ServiceStatus("postgres", "127.0.0.1:5433", EMBEDDED_PATH, True, "started"),
        ServiceStatus("redis", "127.0.0.1:6380", EMBEDDED_PATH, True, "reused"),
        ServiceStatus("mail", "127.0.0.1:8025", "compose ports", True, "running"),
    ])

    assert _what_up_did(report) == (
        "Started Postgres. Redis was already running, started by seamlab earlier. Found Mail "
        "provider already running (not started by seamlab). `seamlab down` stops Postgres and Redis."
    )
