"""Bad input, tried: each gets the right verdict and a clear message, and leaves nothing behind.

Every case builds a throwaway learner folder from the fix-demo fixture exercise with one file
replaced, grades it against the real services, and checks that no private database, Redis
lease, child process or temporary folder of the run is left afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures.demo import FIX_DEMO, learner_copy

from seamlab import isolation
from seamlab.config import Settings
from seamlab.grading import grade
from seamlab.progress import Progress
from seamlab.waiting import wait_for

STARTER = (FIX_DEMO.folder / "greetings.py").read_text(encoding="utf-8")
SOLUTION = (FIX_DEMO.solution_folder / "greetings.py").read_text(encoding="utf-8")
LOOPING_RECALL = STARTER.replace('    return client.get(f"greeting:{name}")',
                                 "    while True:\n        pass")
SWALLOWING_RECALL = STARTER.replace(
    '    return client.get(f"greeting:{name}")',
    "    import time\n\n    while True:\n        try:\n            time.sleep(0.05)\n"
    "        except BaseException:\n            pass")
PASS_EVERYTHING_CONFTEST = """\
import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    report.outcome = "passed"
    return report
"""
FLUSHALL = ("import os\nimport redis\n"
            "redis.Redis.from_url(os.environ['TEST_REDIS_URL']).flushall()\n")
DROP_EVERYTHING = """\
import psycopg

from seamlab.config import Settings

with psycopg.connect(Settings.from_env().db_conninfo(), autocommit=True) as conn:
    conn.execute("DROP SCHEMA public CASCADE")
    conn.execute("DROP DATABASE seamlab_template")
"""


def _pid_prefix() -> str:
    return f"seamlab_g_{os.getpid()}_"


def our_databases(settings: Settings) -> list[str]:
    with isolation.connect_admin(settings) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            (_pid_prefix() + "%",)).fetchall()
    return [row[0] for row in rows]


def our_leases(settings: Settings) -> list[str]:
    client = isolation.redis_client(settings, db=0)
    try:
        keys = client.keys(f"{isolation.LEASE_PREFIX}*")
        return sorted(k.decode() for k in keys if client.get(k) == str(os.getpid()).encode())
    finally:
        client.close()


def processes_graded_on(target: Path) -> list[int]:
    """Ids of live processes started for a grading run of ``target``."""
    marker = f"SEAMLAB_TARGET_DIR={target}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture
def leaves_nothing(tmp_path, monkeypatch, settings):
    """Runs grading with its temp folders in a private scratch dir, then checks for leftovers."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    databases, leases = our_databases(settings), our_leases(settings)
    targets: list[Path] = []
    yield targets
    assert list(scratch.iterdir()) == [], "a grading run left a temporary folder behind"
    assert our_databases(settings) == databases, "a grading run left its database behind"
    assert our_leases(settings) == leases, "a grading run kept its Redis database leased"
    for target in targets:
        assert processes_graded_on(target) == [], "a grading run left a process running"


def learner(tmp_path: Path, source: str = "starter", **files: str) -> Path:
    folder = FIX_DEMO.folder if source == "starter" else FIX_DEMO.solution_folder
    return learner_copy(folder, tmp_path / "work", **files)


CASES = {
    "a syntax error": (
        {"greetings.py": STARTER + "\n\ndef broken(:\n    pass\n"},
        "learner_error", "SyntaxError", "greetings.py"),
    "an exception at import time": (
        {"greetings.py": STARTER + "\nraise RuntimeError('MAIL_URL is not set')\n"},
        "learner_error", "RuntimeError: MAIL_URL is not set", "greetings.py"),
    "an infinite loop at import time": (
        {"greetings.py": STARTER + "\nwhile True:\n    pass\n"},
        "timed_out", "This import took longer than 3 s", "greetings.py"),
    "an infinite loop in a function": (
        {"greetings.py": LOOPING_RECALL},
        "timed_out", "This test took longer than 3 s", "greetings.py"),
    "sys.exit() at import time": (
        {"greetings.py": "import sys\n\nsys.exit(0)\n" + STARTER},
        "learner_error", "Your code called sys.exit(0)", "greetings.py:3"),
    "os._exit() at import time": (
        {"greetings.py": "import os\n\nos._exit(0)\n" + STARTER},
        "learner_error", "Your code stopped the test run", None),
    "a conftest.py that forces every test to pass": (
        {"conftest.py": PASS_EVERYTHING_CONFTEST},
        "failed", "real Redis gave back b'hello ada'", None),
    "FLUSHALL at import time": (
        {"greetings.py": FLUSHALL + STARTER},
        "learner_error", "use FLUSHDB", "greetings.py:3"),
    "dropping the schema and the template database": (
        {"greetings.py": DROP_EVERYTHING + SOLUTION},
        "learner_error", "must be owner of database seamlab_template", "greetings.py:7"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_learner_code_gets_the_right_verdict_and_leaves_nothing(case, tmp_path,
                                                                   leaves_nothing):
    files, verdict, message, location = CASES[case]
    target = learner(tmp_path, **files)
    leaves_nothing.append(target)

    result = grade(FIX_DEMO, target=target, timeout=3)

    assert result.verdict == verdict, result.summary
    assert message in result.summary, result.summary
    worst = next(t for t in result.tests if t.outcome != "passed")
    if location is not None:  # "file:line" exactly, or just "file" when the line may vary
        assert worst.location == location or (
            ":" not in location and (worst.location or "").startswith(location + ":")
        ), worst.location
    assert "Traceback" not in result.summary


def test_a_loop_that_swallows_the_timeout_is_stopped_by_the_wall_clock(tmp_path, leaves_nothing):
    target = learner(tmp_path, **{"greetings.py": SWALLOWING_RECALL})
    leaves_nothing.append(target)

    result = grade(FIX_DEMO, target=target, timeout=1, wall_timeout=8)

    assert result.verdict == "timed_out"
    assert "stopped after 8 s" in result.summary
    assert "test_recall_gives_back_text_from_real_redis did not finish" in result.summary


def test_vandal_code_does_not_change_a_concurrent_run(tmp_path, leaves_nothing, settings):
    vandal = learner(tmp_path / "a", **{"greetings.py": FLUSHALL + DROP_EVERYTHING + STARTER})
    honest = learner(tmp_path / "b", source="solution")
    leaves_nothing.extend([vandal, honest])
    results = {}

    def run(name: str, target: Path) -> None:
        results[name] = grade(FIX_DEMO, target=target, timeout=5)

    threads = [threading.Thread(target=run, args=("vandal", vandal)),
               threading.Thread(target=run, args=("honest", honest))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results["vandal"].verdict == "learner_error"
    assert results["honest"].verdict == "passed", results["honest"].summary
    with isolation.connect_admin(settings) as conn:
        template = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (isolation.TEMPLATE_DB,)).fetchone()
    assert template is not None, "learner code dropped the template database"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postgres_down_is_an_infrastructure_error_not_the_learners(leaves_nothing, settings):
    port = _closed_port()

    result = grade(FIX_DEMO, target=FIX_DEMO.solution_folder,
                   settings=replace(settings, db_port=port))

    assert result.verdict == "infra_error"
    assert not result.counts_against_learner
    assert f"Postgres at 127.0.0.1:{port} is not reachable" in result.summary
    assert "(not counted against you)" in result.summary
    assert len(result.summary.splitlines()) == 1


def test_redis_down_is_an_infrastructure_error_and_drops_the_database(leaves_nothing, settings):
    port = _closed_port()

    result = grade(FIX_DEMO, target=FIX_DEMO.solution_folder,
                   settings=replace(settings, redis_url=f"redis://127.0.0.1:{port}/0"))

    assert result.verdict == "infra_error"
    assert f"Redis at 127.0.0.1:{port} is not reachable" in result.summary


def test_a_missing_learner_folder_says_how_to_get_it_back(tmp_path):
    result = grade(FIX_DEMO, target=tmp_path / "nowhere")

    assert result.verdict == "learner_error"
    assert "seamlab reset 91" in result.summary


def test_a_garbage_progress_file_is_set_aside_and_grading_still_records(tmp_path):
    progress_file = tmp_path / ".seamlab" / "progress.json"
    progress_file.parent.mkdir()
    progress_file.write_bytes(b"\x00\xffnot json{{")

    progress = Progress.load(tmp_path)
    result = grade(FIX_DEMO, target=FIX_DEMO.solution_folder)
    progress.record_check(result.exercise, result.verdict, result.score, result.max_score)
    progress.save()

    assert progress.warning and "could not be read" in progress.warning
    assert Progress.load(tmp_path).passed("fix-demo")


def test_ctrl_c_during_a_check_kills_the_run_and_cleans_up(tmp_path, settings):
    target = learner(tmp_path, **{"greetings.py": STARTER + "\nwhile True:\n    pass\n"})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    script = (
        # Ctrl-C as in a terminal, even when this suite was started where SIGINT is ignored
        # (a background job of a non-interactive shell), which the child would inherit.
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from pathlib import Path\n"
        "from fixtures.demo import FIX_DEMO\n"
        "from seamlab.grading import grade\n"
        f"grade(FIX_DEMO, target=Path({str(target)!r}), timeout=60)\n"
    )
    # PYTHONFAULTHANDLER: should the check not stop, SIGABRT makes it say where it was.
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONFAULTHANDLER": "1"}
    grader = subprocess.Popen([sys.executable, "-c", script], env=env,
                              stderr=subprocess.PIPE)
    try:
        wait_for(lambda: processes_graded_on(target), timeout=60,
                 what="the grading child process never started")
        grader.send_signal(signal.SIGINT)
        try:
            _, stderr = grader.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            grader.send_signal(signal.SIGABRT)
            _, stderr = grader.communicate(timeout=10)
            pytest.fail("the check was still running 30 s after Ctrl-C; it was here:\n"
                        + stderr.decode(errors="replace")[-3000:])
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()

    assert b"KeyboardInterrupt" in stderr, "Ctrl-C must reach the caller after the cleanup"
    wait_for(lambda: not processes_graded_on(target), timeout=5,
             what="the child kept running after Ctrl-C")
    with isolation.connect_admin(settings) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            (f"seamlab_g_{grader.pid}_%",)).fetchall()
    assert left == [], "Ctrl-C left the private database behind"
    client = isolation.redis_client(settings, db=0)
    try:
        holders = [client.get(k) for k in client.keys(f"{isolation.LEASE_PREFIX}*")]
    finally:
        client.close()
    assert str(grader.pid).encode() not in holders, "Ctrl-C left the Redis lease behind"
    assert list(scratch.iterdir()) == [], "Ctrl-C left a temporary folder behind"
