"""The one child-pytest runner: forged reports, escaped descendants, memory, orphans.

Real processes, real services (the fix-demo exercise on Postgres and Redis), no mocks.
"""

from __future__ import annotations

import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
from fixtures.demo import FIX_DEMO, learner_copy

from seamlab import pytest_child
from seamlab.grading import grade
from seamlab.grading.expected import hidden_tests

SRC = Path(__file__).resolve().parents[1] / "src" / "seamlab"

#: Learner code that, at import, writes a report saying every hidden test passed, then leaves
#: with exit status 0 before pytest can say anything. ``{how}`` is where it writes.
_FORGERY = '''
import json, os
names = ["test_recall_gives_back_text_from_real_redis", "test_saves_the_person_as_a_row"]
report = {{"version": 1, "finished": True, "exitstatus": 0, "collected": 2, "current": None,
          "tests": [{{"nodeid": "test_greetings_hidden.py::" + n, "name": n, "outcome": "passed",
                     "seam": False, "message": "", "location": None, "duration": 0.0}}
                    for n in names]}}
line = (json.dumps(report) + "\\n").encode()
{how}
os._exit(0)
'''
_INTO_CWD = '''
for name in ("report.json", "report.jsonl"):
    with open(name, "wb") as fh:
        fh.write(line)
'''
_INTO_EVERY_FD = '''
for fd in range(3, 64):
    try:
        os.write(fd, line)
    except OSError:
        pass
'''


def _forged(tmp_path: Path, how: str) -> Path:
    code = _FORGERY.format(how=textwrap.indent(textwrap.dedent(how), ""))
    original = (FIX_DEMO.solution_folder / "greetings.py").read_text(encoding="utf-8")
    return learner_copy(FIX_DEMO.folder, tmp_path, **{"greetings.py": code + original})


def test_a_report_forged_in_the_working_folder_scores_nothing(tmp_path):
    result = grade(FIX_DEMO, target=_forged(tmp_path, _INTO_CWD))

    assert result.verdict == "learner_error", result.summary
    assert result.score == 0


def test_a_report_forged_on_the_inherited_descriptor_scores_nothing_with_a_note(tmp_path):
    result = grade(FIX_DEMO, target=_forged(tmp_path, _INTO_EVERY_FD))

    assert result.verdict == "learner_error", result.summary
    assert result.score == 0
    assert "tampered" in result.summary, result.summary


def test_the_parent_knows_the_hidden_tests_without_importing_them():
    tree = ast.parse((FIX_DEMO.hidden_dir / "test_greetings_hidden.py").read_text("utf-8"))
    names = [f"test_greetings_hidden.py::{node.name}" for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")]

    assert hidden_tests(FIX_DEMO.hidden_dir) == names and len(names) >= 2


def test_the_honest_solution_still_passes_the_cross_checks():
    result = grade(FIX_DEMO, target=FIX_DEMO.solution_folder)

    assert result.verdict == "passed", result.summary


# --- processes ---------------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"


def _write_tests(folder: Path, body: str) -> None:
    (folder / "test_escape.py").write_text(textwrap.dedent(body), encoding="utf-8")


def test_a_process_that_called_setsid_twice_is_killed_with_the_run(tmp_path):
    pids = tmp_path / "pids.txt"
    _write_tests(tmp_path, f'''
        import os, time

        def test_leaves_a_daemon_behind():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.setsid()
                    with open({str(pids)!r}, "a") as fh:
                        fh.write(f"{{os.getpid()}}\\n")
                    time.sleep(300)
                os._exit(0)
            time.sleep(0.5)
        ''')
    spec = pytest_child.ChildSpec(["-q", "-p", "no:cacheprovider", "test_escape.py"], tmp_path,
                                  dict(os.environ), pytest_child.Limits(wall=30))
    done = pytest_child.run(spec)

    assert done.returncode == 0, done.output
    daemon = int(pids.read_text().split()[0])
    deadline = time.monotonic() + 5
    while _alive(daemon) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(daemon), "the setsid() daemon outlived its run"
    assert done.killed >= 1


def test_the_child_dies_with_its_parent(tmp_path):
    _write_tests(tmp_path, '''
        import time

        def test_waits():
            time.sleep(300)
        ''')
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f'''
            import os, sys
            from pathlib import Path
            from seamlab import pytest_child
            spec = pytest_child.ChildSpec(["-q", "-p", "no:cacheprovider", "test_escape.py"],
                                          Path({str(tmp_path)!r}), dict(os.environ),
                                          pytest_child.Limits(wall=300))
            running = pytest_child.start(spec)
            print(running.pid, flush=True)
            running.wait()
            ''')],
        stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the pytest child outlived the process that started it"


def test_a_memory_hog_gets_its_own_verdict_at_its_line(tmp_path):
    original = (FIX_DEMO.solution_folder / "greetings.py").read_text(encoding="utf-8")
    hog = "\n\ndef save(conn, name):\n    return b'x' * (10 << 30)\n"
    target = learner_copy(FIX_DEMO.folder, tmp_path, **{"greetings.py": original + hog})
    text = (target / "greetings.py").read_text(encoding="utf-8").splitlines()
    line = next(number for number, code in enumerate(text, 1) if "10 << 30" in code)
    started = time.monotonic()
    result = grade(FIX_DEMO, target=target)
    seconds = time.monotonic() - started

    print(f"time to verdict on a 10 GB memory hog: {seconds:.2f} s")
    assert result.verdict == "learner_error", result.summary
    assert "used more than" in result.summary and f"MB at greetings.py:{line}" in result.summary, \
        result.summary


def test_there_is_one_junit_reader_and_one_child_popen():
    """No module but pytest_child starts pytest itself or parses JUnit XML."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name in ("pytest_child.py", "child_process.py"):
            continue
        text = path.read_text(encoding="utf-8")
        if "ElementTree" in text and "junit" in text.lower():
            offenders.append(f"{path.relative_to(SRC)}: reads JUnit itself")
        if '"-m", "pytest"' in text and "Popen" in text:
            offenders.append(f"{path.relative_to(SRC)}: starts pytest itself")
    assert offenders == []


# --- nothing left behind -----------------------------------------------------------------------
_GRADER = '''
# As from a terminal, even when this suite runs under nohup or as a background job, which
# would hand the grader SIGHUP/SIGINT ignored (and a check rightly leaves an ignored one be).
import signal
import sys
signal.signal(signal.SIGHUP, signal.SIG_DFL)
signal.signal(signal.SIGINT, signal.default_int_handler)
from pathlib import Path
sys.path.insert(0, {tests!r})
from fixtures.demo import FIX_DEMO
from seamlab.cli import _stop_on_term_and_hangup
from seamlab.grading import grade
_stop_on_term_and_hangup()
try:
    result = grade(FIX_DEMO, target=Path({target!r}))
    print(result.verdict, result.summary, flush=True)
except KeyboardInterrupt as stop:
    print("stopped by", stop, flush=True)
    sys.exit(130)
'''


def _hanging_learner(tmp_path: Path) -> Path:
    original = (FIX_DEMO.solution_folder / "greetings.py").read_text(encoding="utf-8")
    hang = "\n\ndef save(conn, name):\n    import time\n    time.sleep(300)\n"
    return learner_copy(FIX_DEMO.folder, tmp_path, **{"greetings.py": original + hang})


def _grading_children(target: Path) -> list[int]:
    return sorted(pytest_child.carrying_env("SEAMLAB_TARGET_DIR", str(target.resolve())))


def _grading_databases(pid: int) -> list[str]:
    from seamlab import isolation
    from seamlab.config import Settings

    with isolation.connect_admin(Settings.from_env()) as conn:
        return [row[0] for row in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"seamlab_g_{pid}_%",))]


def _start_grader(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    target = _hanging_learner(tmp_path)
    script = _GRADER.format(tests=str(Path(__file__).parent), target=str(target))
    grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _grading_children(target):
        assert time.monotonic() < deadline, "the grading child never started"
        assert grader.poll() is None, grader.stdout.read()
        time.sleep(0.1)
    time.sleep(1.0)  # into the hanging test
    return grader, target


def _gone(pids: list[int], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(pid) for pid in pids)


def test_sigterm_and_sighup_stop_a_check_like_ctrl_c_and_leave_nothing(tmp_path):
    for number, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")):
        grader, target = _start_grader(tmp_path / name)
        children = _grading_children(target)
        grader.send_signal(number)
        out, _ = grader.communicate(timeout=30)

        assert f"stopped by {name}" in out
        assert _gone(children), f"{name}: the grading child outlived the check"
        assert _grading_databases(grader.pid) == []


def test_after_a_sigkill_the_child_dies_and_the_next_grade_sweeps_what_was_left(tmp_path):
    from seamlab.grading import job, runner

    grader, target = _start_grader(tmp_path)
    children = _grading_children(target)
    grader.kill()
    grader.wait()
    assert _gone(children), "the grading child outlived a SIGKILLed check"
    left = _grading_databases(grader.pid)
    folders = list(Path(tempfile.gettempdir()).glob(f"{runner.TEMP_PREFIX}{grader.pid}-*"))
    assert left and folders, "nothing was left to sweep (the test proves nothing)"

    job._swept = False
    grade(FIX_DEMO, target=FIX_DEMO.solution_folder)

    assert _grading_databases(grader.pid) == []
    assert not any(folder.exists() for folder in folders)


# --- quick verdicts ----------------------------------------------------------------------------
def test_after_one_test_times_out_the_rest_are_not_run_because_of_it(tmp_path):
    started = time.monotonic()
    result = grade(FIX_DEMO, target=_hanging_learner(tmp_path), timeout=3)
    seconds = time.monotonic() - started

    print(f"time to verdict on a hang (per-test timeout 3 s): {seconds:.2f} s")
    assert result.verdict == "timed_out", result.summary
    hung, *rest = [t for t in result.tests if t.outcome == "timeout"]
    assert hung.name == "test_saves_the_person_as_a_row" and "3 s" in hung.message
    assert rest and all(f"Not run: {hung.name} timed out" in t.message for t in rest)
    assert len(result.tests) == 2


def test_the_manifest_can_set_a_tighter_per_test_timeout(tmp_path):
    from dataclasses import replace

    tight = replace(FIX_DEMO, test_timeout=2.0)
    result = grade(tight, target=_hanging_learner(tmp_path))

    assert result.verdict == "timed_out", result.summary
    assert "longer than 2 s" in result.summary, result.summary


def test_a_postgres_that_dies_mid_run_is_not_blamed_on_the_learner_and_leaves_nothing(
        tmp_path, monkeypatch):
    """The learner's test is inside a query when its Postgres crashes: the verdict is "could
    not grade", the child and the run folder go at once, and the grading database the crash
    kept is dropped by the next grader once Postgres is back."""
    from seamlab.embedded.postgres import PostgresServer
    from seamlab.embedded.process import free_port
    from seamlab.grading import job, runner

    server = PostgresServer(tmp_path / "pg", free_port())
    server.start()
    server.wait_ready()
    env = {**os.environ, "TEST_DB_PORT": str(server.port)}
    original = (FIX_DEMO.solution_folder / "greetings.py").read_text(encoding="utf-8")
    waits = "\n\ndef save(conn, name):\n    conn.execute(\"SELECT pg_sleep(120)\")\n"
    target = learner_copy(FIX_DEMO.folder, tmp_path, **{"greetings.py": original + waits})
    script = _GRADER.format(tests=str(Path(__file__).parent), target=str(target))
    try:
        grader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                  text=True, env=env)
        deadline = time.monotonic() + 60
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            while not admin.execute("SELECT 1 FROM pg_stat_activity WHERE query LIKE "
                                    "'SELECT pg_sleep(120)%'").fetchone():
                assert time.monotonic() < deadline, "the learner's query never started"
                assert grader.poll() is None, grader.stdout.read()
                time.sleep(0.1)
        children = _grading_children(target)
        os.kill(server.pid(), signal.SIGQUIT)  # an immediate shutdown: a crash, no goodbyes
        said, _ = grader.communicate(timeout=60)

        assert said.startswith("infra_error"), said
        assert "not counted against you" in said, said
        assert _gone(children), "the grading child outlived its run"
        folders = list(Path(tempfile.gettempdir()).glob(f"{runner.TEMP_PREFIX}{grader.pid}-*"))
        assert folders == [], folders

        server.start()
        server.wait_ready()
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            kept = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                 (f"seamlab_g_{grader.pid}_%",)).fetchall()
        assert kept, "the crash dropped the grading database itself (the test proves nothing)"
        from seamlab.config import Settings

        job._swept = False
        monkeypatch.setenv("TEST_DB_PORT", str(server.port))
        job.sweep_stale(Settings.from_env())
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            assert admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                 (f"seamlab_g_{grader.pid}_%",)).fetchall() == []
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)
