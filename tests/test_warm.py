"""The warm path: forks of a pre-imported server give the cold path's verdicts, fall back to a
cold start when the server is gone or stale, and never run learner code in a process that
imported anyone's code.

Real grades of every exercise of course.toml (starter and solution), real services, no mocks.
Slow: run it alone, ``nice -n 10 .venv/bin/pytest -n 2 tests/test_warm.py``.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import pytest
from fixtures.demo import FIX_DEMO, learner_copy

from seamlab import course, pytest_child, warm
from seamlab.grading import grade

ROOT = Path(__file__).resolve().parents[1]
COURSE = course.load(ROOT)
#: Where no learner or hidden code may come from, in a server or in a child before its run.
FORBIDDEN = (ROOT / "exercises", ROOT / "solutions", ROOT / "src" / "seamlab" / "hidden",
             ROOT / "tests" / "fixtures")


def _solution(exercise) -> Path:
    return next((ROOT / "solutions").glob(exercise.slug))


def _essence(result) -> tuple:
    """What must not differ between warm and cold: verdict, score, every test's outcome and
    every planted fault's catch."""
    return (result.verdict, result.score,
            sorted((t.nodeid, t.outcome) for t in result.tests),
            sorted((m.name, m.caught) for m in result.mutants))


@pytest.fixture(autouse=True)
def warm_allowed(monkeypatch):
    monkeypatch.setenv(warm.OFF_ENV, "1")


@pytest.fixture
def cold():
    warm.use(None)
    yield
    warm.use(None)


@pytest.fixture
def session_server():
    """One session server per worker (as `seamlab watch` has), kept between tests."""
    warm.use("session")
    assert warm.server_pid(), "the session server did not start"


def _grade(mode: str, exercise, target: Path, **limits):
    before = dict(pytest_child.started_as)
    if mode == "cold":
        saved, warm._mode = warm._mode, None  # keeps the session server for the warm run
        try:
            result = grade(exercise, target=target, **limits)
        finally:
            warm._mode = saved
        assert pytest_child.started_as["warm"] == before["warm"]
        return result
    result = grade(exercise, target=target, **limits)
    assert pytest_child.started_as["warm"] > before["warm"], pytest_child.started_as["refused"]
    assert pytest_child.started_as["cold"] == before["cold"], pytest_child.started_as["refused"]
    return result


_CPYTHON_AST_BUG = "AST constructor recursion depth mismatch"


@pytest.mark.parametrize("which", ["starter", "solution"])
@pytest.mark.parametrize("exercise", COURSE.exercises, ids=lambda e: e.slug)
def test_warm_and_cold_give_the_same_verdict_and_test_results(session_server, exercise, which):
    target = exercise.folder if which == "starter" else _solution(exercise)

    cold_result = _grade("cold", exercise, target)
    warm_result = _grade("warm", exercise, target)

    if _CPYTHON_AST_BUG in warm_result.summary and _CPYTHON_AST_BUG not in cold_result.summary:
        # A known divergence, the reason the warm path is opt-in (SEAMLAB_WARM=1): CPython
        # 3.11.7's AST recursion-depth check misfires in a forked warm child (seen on 05's and
        # 07's starters, not every run). Any other difference fails below.
        pytest.xfail(f"warm path: {_CPYTHON_AST_BUG} (CPython); warm stays opt-in")
    assert _essence(warm_result) == _essence(cold_result), (cold_result.summary,
                                                             warm_result.summary)
    if which == "solution":
        assert warm_result.verdict == "passed", warm_result.summary


def _hog(tmp_path: Path) -> Path:
    original = (FIX_DEMO.solution_folder / "greetings.py").read_text(encoding="utf-8")
    hog = "\n\ndef save(conn, name):\n    return b'x' * (10 << 30)\n"
    return learner_copy(FIX_DEMO.folder, tmp_path, **{"greetings.py": original + hog})


def _sleeper(tmp_path: Path) -> Path:
    """Caught by the per-test timeout."""
    original = (FIX_DEMO.solution_folder / "greetings.py").read_text(encoding="utf-8")
    hang = "\n\ndef save(conn, name):\n    import time\n    time.sleep(300)\n"
    return learner_copy(FIX_DEMO.folder, tmp_path, **{"greetings.py": original + hang})


def _stubborn(tmp_path: Path) -> Path:
    """Swallows the per-test timeout: only the wall limit stops it."""
    original = (FIX_DEMO.solution_folder / "greetings.py").read_text(encoding="utf-8")
    hang = ("\n\ndef save(conn, name):\n    while True:\n        try:\n"
            "            import time; time.sleep(1)\n        except BaseException:\n"
            "            pass\n")
    return learner_copy(FIX_DEMO.folder, tmp_path, **{"greetings.py": original + hang})


@pytest.mark.parametrize("learner", [_hog, _sleeper, _stubborn],
                         ids=["memory-hog", "hang", "hang-past-the-wall-limit"])
def test_a_hang_and_a_memory_hog_get_the_same_verdict_warm_and_cold(session_server, tmp_path,
                                                                    learner):
    target = learner(tmp_path)
    limits = {"timeout": 2.0, "wall_timeout": 12.0}

    cold_result = _grade("cold", FIX_DEMO, target, **limits)
    warm_result = _grade("warm", FIX_DEMO, target, **limits)

    assert cold_result.verdict in ("learner_error", "timed_out"), cold_result.summary
    assert _essence(warm_result) == _essence(cold_result)
    assert warm_result.summary == cold_result.summary
    assert not pytest_child.carrying_env("SEAMLAB_TARGET_DIR", str(target.resolve()))


def test_the_server_has_imported_no_learner_or_hidden_code_after_grading(session_server):
    for exercise in COURSE.exercises[:2]:
        assert _grade("warm", exercise, _solution(exercise)).verdict == "passed"

    files = [entry.split("=", 1)[1] for entry in warm.modules()]

    assert [f for f in files if f and any(Path(f).is_relative_to(x) for x in FORBIDDEN)] == []
    assert "pytest" in {entry.split("=", 1)[0] for entry in warm.modules()}


def test_a_warm_child_starts_without_any_module_of_exercises_solutions_or_hidden(
        session_server, tmp_path):
    """The first code of a run (a conftest) sees the modules its fork brought: none of a learner
    or of hidden tests, even after the server forked runs of other exercises."""
    exercise = COURSE.exercises[0]
    assert _grade("warm", exercise, _solution(exercise)).verdict == "passed"
    seen = tmp_path / "modules.txt"
    (tmp_path / "conftest.py").write_text(textwrap.dedent(f'''
        import sys
        with open({str(seen)!r}, "w") as fh:
            for name, module in list(sys.modules.items()):
                fh.write(f"{{name}}={{getattr(module, '__file__', None) or ''}}\\n")
        '''), encoding="utf-8")
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n", "utf-8")
    env = {**warm.server_env(), "SEAMLAB_TARGET_DIR": str(_solution(exercise))}
    spec = pytest_child.ChildSpec(["-q", "-p", "no:cacheprovider", "test_nothing.py"], tmp_path,
                                  env, pytest_child.Limits(wall=120), warm=True,
                                  import_roots=[tmp_path])
    before = pytest_child.started_as["warm"]

    done = pytest_child.run(spec)

    assert done.returncode == 0, done.output
    assert pytest_child.started_as["warm"] == before + 1, pytest_child.started_as["refused"]
    files = [line.split("=", 1)[1] for line in seen.read_text("utf-8").splitlines()]
    assert "sqlalchemy" in seen.read_text("utf-8")  # it is a fork of the warm server
    assert [f for f in files if f and any(Path(f).is_relative_to(x) for x in FORBIDDEN)] == []


# --- falling back ------------------------------------------------------------------------------
@pytest.fixture
def shared(tmp_path, monkeypatch):
    """A shared server (as `seamlab check` uses) for a course folder of this test alone."""
    root = tmp_path / "course"
    root.mkdir()
    monkeypatch.setenv("SEAMLAB_WARM_IDLE", "120")
    warm.use("shared", root)
    yield root
    try:
        pid = int(warm.status()["pid"])
        os.kill(pid, signal.SIGKILL)
    except (warm.Refused, OSError, KeyError, TypeError):
        pass
    warm.use(None)


def test_a_killed_server_is_replaced_and_a_server_that_cannot_start_means_a_cold_start(
        shared, monkeypatch):
    exercise = COURSE.exercises[0]
    target = _solution(exercise)
    first = _grade("warm", exercise, target)
    os.kill(int(warm.status()["pid"]), signal.SIGKILL)
    time.sleep(0.2)

    again = _grade("warm", exercise, target)  # a new server, started for this run
    os.kill(int(warm.status()["pid"]), signal.SIGKILL)
    real_spawn = warm._spawn
    monkeypatch.setattr(warm, "_spawn", lambda path, parent, idle: real_spawn(
        path.with_name("elsewhere.sock"), parent, 0.0))  # never listens where it is sought
    monkeypatch.setattr(warm, "_connect_wait", 1.0)
    cold_count = pytest_child.started_as["cold"]
    fallback = grade(exercise, target=target)

    assert pytest_child.started_as["cold"] == cold_count + 1
    assert "no warm server" in pytest_child.started_as["refused"]
    assert _essence(first) == _essence(again) == _essence(fallback)


def test_a_server_started_in_another_environment_refuses_and_the_run_starts_cold(
        shared, monkeypatch):
    exercise = COURSE.exercises[0]
    target = _solution(exercise)
    first = _grade("warm", exercise, target)
    monkeypatch.setenv("LC_SEAMLAB_WARM_TEST", "another shell")
    cold_count = pytest_child.started_as["cold"]

    other = grade(exercise, target=target)

    assert pytest_child.started_as["cold"] == cold_count + 1
    assert "another environment" in pytest_child.started_as["refused"]
    assert _essence(other) == _essence(first)
    assert _essence(_grade("warm", exercise, target)) == _essence(first)  # a new server
