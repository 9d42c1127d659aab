"""Hostile submissions are contained, graded as what they are, and change nobody else's grade.

One autograde run (exercise 01, two workers, short limits) grades an honest solution, an
untouched starter and one submission per attack (tests/fixtures/hostile/): each attack is the
solution plus a module that attacks when the hidden tests import the learner's code. To keep
the shared machine safe even if the sandbox broke, the attacks aim only at things this test
owns: a sentinel database and a private redis-server on a free port.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

from seamlab import course as course_module
from seamlab import isolation
from seamlab.config import Settings
from seamlab.embedded.process import free_port
from seamlab.instructor import autograde, netns, store
from seamlab.instructor.sandbox import UID_BASE, UID_COUNT, Limits, processes_of

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures") / "hostile"
ATTACKS = ("fork_bomb", "memory_hog", "endless_loop", "print_100mb", "drop_neighbour",
           "flushall", "read_secrets", "rewrite_gradebook")
#: Per process: two checkouts testing at once against the same Postgres must not share it.
SENTINEL_DB = f"seamlab_hostile_target_{os.getpid()}"

pytestmark = pytest.mark.skipif(netns.available() is not None,
                                reason=f"the sandbox needs root: {netns.available()}")




@pytest.fixture(scope="module")
def private_redis():
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--databases", "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "the test's private redis-server did not start"
            time.sleep(0.02)
    client.set("sentinel", "still here")
    yield port, client
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def sentinel_database():
    settings = Settings.from_env()
    with isolation.connect_admin(settings) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SENTINEL_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SENTINEL_DB}"')
    yield SENTINEL_DB
    with isolation.connect_admin(settings) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SENTINEL_DB}" WITH (FORCE)')


def _lay_out(course, folder: Path, attack: str | None, solved: bool, fill: dict) -> None:
    exercise = course.exercise("01")
    source = exercise.solution_folder if solved else exercise.folder
    dest = folder / exercise.slug
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
    if attack:
        text = (FIXTURES / f"{attack}.py").read_text()
        for key, value in fill.items():
            text = text.replace("{{" + key + "}}", value)
        text = text.replace("LIKE 'seamlab%%'", f"LIKE '{SENTINEL_DB}%%'")
        (dest / "hostile.py").write_text(text)
        with open(dest / "validation.py", "a") as fh:
            fh.write("\nimport hostile  # noqa: E402,F401\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, private_redis, sentinel_database):
    port, _ = private_redis
    base = tmp_path_factory.mktemp("hostile")
    subs, out = base / "submissions", base / "grades"
    course = course_module.load(ROOT)
    fill = {"COURSE": str(ROOT), "SUBMISSIONS": str(subs), "OUT": str(out)}
    _lay_out(course, subs / "honest", None, True, fill)
    _lay_out(course, subs / "starter", None, False, fill)
    for attack in ATTACKS:
        _lay_out(course, subs / attack, attack, True, fill)
    flush = (subs / "flushall" / "01-date-seam" / "hostile.py")
    flush.write_text(flush.read_text().replace("6380", str(port)))
    previous = os.environ.get("TEST_REDIS_URL")
    os.environ["TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    try:
        options = autograde.Options(
            workers=2, exercises=("01",), timeout=5, wall_timeout=25,
            limits=Limits(cpu_seconds=20, memory_mb=1024, processes=64, output_mb=4))
        autograde.autograde(course, subs, out, options)
    finally:
        if previous is None:
            os.environ.pop("TEST_REDIS_URL", None)
        else:
            os.environ["TEST_REDIS_URL"] = previous
    records = {r.learner: r for r in store.load_all(out)}
    return records, out


def _message(record: store.Record) -> str:
    return record.result.summary + " " + " ".join(t.message for t in record.result.tests)


def test_the_honest_solution_keeps_full_marks_next_to_the_attacks(graded):
    records, _ = graded
    honest = records["honest"]
    assert honest.result.verdict == "passed", honest.result.summary
    assert honest.result.score == 10
    starter = records["starter"]
    assert (starter.result.verdict, starter.result.score) == ("failed", 0), starter.result.summary


def _runs_of_this_test(port: int) -> list[int]:
    """Sandboxed processes still running for this module's autograde run (other tests may
    be grading in parallel): recognised by the test's private Redis port in their env."""
    mark = f"127.0.0.1:{port}/".encode()
    found = []
    for uid in range(UID_BASE, UID_BASE + UID_COUNT):
        for pid in processes_of(uid):
            try:
                if mark in Path(f"/proc/{pid}/environ").read_bytes():
                    found.append(pid)
            except OSError:
                continue
    return found


def test_a_fork_bomb_stops_at_the_process_cap_and_leaves_nothing_running(graded,
                                                                        private_redis):
    record = graded[0]["fork_bomb"]
    assert record.result.verdict in ("learner_error", "timed_out"), record.result.summary
    assert record.result.score == 0
    assert "fork bomb stopped" in _message(record) or record.result.verdict == "timed_out"
    assert any("killed" in note for note in record.notes), record.notes
    left = _runs_of_this_test(private_redis[0])
    assert left == [], f"processes of the graded runs still running: {left}"


def test_a_memory_hog_meets_the_memory_limit(graded):
    record = graded[0]["memory_hog"]
    assert record.result.verdict == "learner_error", record.result.summary
    assert "MemoryError" in _message(record)


def test_an_endless_loop_is_stopped_by_the_clock(graded):
    record = graded[0]["endless_loop"]
    assert record.result.verdict == "timed_out", record.result.summary
    assert record.result.score == 0


def test_printing_100_mb_stops_at_the_output_cap(graded):
    record = graded[0]["print_100mb"]
    assert record.result.verdict == "learner_error", record.result.summary
    assert "printing stopped after 4 MB" in _message(record), _message(record)[:500]


def test_dropping_a_neighbours_database_is_refused(graded, sentinel_database):
    record = graded[0]["drop_neighbour"]
    message = _message(record)
    assert "dropped=[]" in message, message[:800]
    assert "may only connect as role" in message  # the superuser login never reached Postgres
    with isolation.connect_admin(Settings.from_env()) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                            (sentinel_database,)).fetchone(), "the sentinel database was dropped"


def test_flushall_is_denied_and_reaches_no_other_redis(graded, private_redis):
    record = graded[0]["flushall"]
    message = _message(record)
    assert "flushed=[]" in message, message[:800]
    assert "NOPERM" in message or "no permissions" in message
    _, client = private_redis
    assert client.get("sentinel") == b"still here"


def test_hidden_tests_solutions_and_other_submissions_cannot_be_read(graded):
    message = _message(graded[0]["read_secrets"])
    assert "readable=[]" in message, message[:800]


def test_learner_code_cannot_rewrite_the_gradebook(graded):
    records, out = graded
    message = _message(records["rewrite_gradebook"])
    assert "written=[]" in message, message[:800]
    assert records["honest"].result.verdict == "passed"
    assert not (out / "gradebook.csv").exists() or "hostile,100" not in (
        out / "gradebook.csv").read_text()


def test_the_sandbox_leaves_no_roles_behind(graded):
    with isolation.connect_admin(Settings.from_env()) as conn:
        left = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s",
                            (f"seamlab\\_job\\_{os.getpid()}%",)).fetchall()
    assert left == []
