"""Fixtures for exercise 13: the learner's suite, run three times under two xdist workers."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from seamlab import pytest_child

HERE = Path(__file__).resolve().parent
SUPPORT = HERE / "suite_support"
#: The leaderboard code the learner's tests run against (copies of the solution's modules).
REFERENCE = HERE / "reference"
SEEDS = (1301, 2602, 3903)
MAINTENANCE = {"postgres", "template0", "template1"}
WORKERS = 2
PER_TEST_TIMEOUT = 20
RUN_TIMEOUT = 30.0
SUITE_INI = """\
[pytest]
testpaths = tests
console_output_style = classic
"""
#: Variables of the grading run that must not leak into the learner's runs.
_NOT_INHERITED = (
    "SEAMLAB_TARGET_DIR",
    "SEAMLAB_REPORT_FD",
    "SEAMLAB_IMPORT_TIMEOUT",
    "SEAMLAB_ISOLATED",
    "PGOPTIONS",
    "PGAPPNAME",
    "PYTEST_ADDOPTS",
    "PYTEST_CURRENT_TEST",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
    "PYTHONPATH",
)


@dataclass
class SuiteRun:
    seed: int
    returncode: int | None
    timed_out: bool
    output: str
    controller: dict | None
    workers: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
    limit: float = RUN_TIMEOUT
    #: The key another test run keeps in the same Redis database (planted by the check) was gone
    #: after this run: something deleted keys it had not written.
    planted_key_gone: bool = False

    @property
    def label(self) -> str:
        return f"pytest -n {WORKERS}, shuffled with seed {self.seed}"

    def failures(self) -> list[dict]:
        return [r for r in (self.controller or {}).get("reports", []) if r["outcome"] == "failed"]

    def ran(self) -> int:
        return sum(1 for r in (self.controller or {}).get("reports", []) if r["when"] == "call")


@dataclass
class Suite:
    folder: Path
    runs: list[SuiteRun]
    given_database: str
    #: "database/schema" names that existed before the runs, and after them.
    before: set[str]
    after: set[str]

    def used_namespaces(self) -> set[str]:
        return {name for run in self.runs for data in run.workers.values()
                for name in data["namespaces"]}

    def leftovers(self) -> list[str]:
        """Databases and schemas the suite's workers used, that are new and still there."""
        left = []
        for namespace in sorted(self.used_namespaces()):
            database, _, schema = namespace.partition("/")
            if database in MAINTENANCE:
                continue
            if database != self.given_database:
                if database not in self.before and database in self.after:
                    left.append(f"database {database}")
            elif namespace not in self.before and namespace in self.after:
                left.append(f"schema {schema} in database {database}")
        return sorted(set(left))


@pytest.fixture(scope="session")
def target_dir() -> Path:
    return Path(os.environ.get("SEAMLAB_TARGET_DIR", ".")).resolve()


def _copy_suite(target: Path, folder: Path) -> None:
    tests = target / "tests"
    if not tests.is_dir():
        pytest.fail(
            f"There is no tests/ folder in {target}. Restore the exercise with "
            f"`seamlab reset 13` and edit it again.",
            pytrace=False,
        )
    shutil.copytree(tests, folder / "tests", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for module in REFERENCE.glob("*.py"):
        shutil.copy(module, folder / module.name)
    shutil.copy(SUPPORT / "parallel_probe_plugin.py", folder / "parallel_probe_plugin.py")
    (folder / "conftest.py").write_text("", encoding="utf-8")
    (folder / "pytest.ini").write_text(SUITE_INI, encoding="utf-8")


def _namespaces(settings) -> set[str]:
    """Every database on the server, and every "database/schema" in the given database."""
    with psycopg.connect(settings.db_conninfo(), autocommit=True, connect_timeout=5) as connection:
        databases = {name for (name,) in connection.execute("SELECT datname FROM pg_database")}
        schemas = {
            f"{settings.db_name}/{name}"
            for (name,) in connection.execute("SELECT nspname FROM pg_namespace")
        }
    return databases | schemas


#: A key that stands for another test run sharing the Redis database, there during every run:
#: a test that looks at (or deletes) every key meets it deterministically, not by timing luck.
PLANTED_KEY = "another-run:leaderboard:top"


def _redis(settings):
    import redis

    return redis.Redis.from_url(settings.redis_url, socket_timeout=5)


def _plant(settings) -> None:
    client = _redis(settings)
    try:
        client.set(PLANTED_KEY, "[]")
    finally:
        client.close()


def _unplant(settings) -> bool:
    """Remove the planted key; True when it was already gone."""
    client = _redis(settings)
    try:
        return client.delete(PLANTED_KEY) == 0
    finally:
        client.close()


def _run(folder: Path, seed: int, settings) -> SuiteRun:
    _plant(settings)
    run = _run_once(folder, seed, settings)
    run.planted_key_gone = _unplant(settings)
    return run


def _run_once(folder: Path, seed: int, settings) -> SuiteRun:
    probe_dir = folder / f"probe-{seed}"
    probe_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED and k != "CI"}
    env.update(settings.to_env())
    env.update(
        PYTHONPATH=str(folder),
        PYTHONDONTWRITEBYTECODE="1",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PROBE_SEED=str(seed),
        PROBE_DIR=str(probe_dir),
    )
    args = [
        "-c", "pytest.ini", "--rootdir", str(folder), "-q", "-p", "no:cacheprovider",
        "-p", "xdist.plugin", "-p", "parallel_probe_plugin", "-n", str(WORKERS),
    ]  # fmt: skip
    limits = pytest_child.Limits(wall=RUN_TIMEOUT, per_test=PER_TEST_TIMEOUT)
    spec = pytest_child.ChildSpec(args, folder, env, limits, python_flags=(),
                                  output_dir=probe_dir)
    done = pytest_child.run(spec)
    output, timed_out = done.output, done.timed_out
    workers = {}
    for path in probe_dir.glob("worker-*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        workers[data["worker"]] = data
    controller_path = probe_dir / "controller.json"
    controller = (
        json.loads(controller_path.read_text(encoding="utf-8"))
        if controller_path.is_file() else None
    )
    return SuiteRun(seed, done.returncode, timed_out, output, controller, workers,
                    done.duration)


@pytest.fixture(scope="session")
def suite(target_dir, seamlab_settings, tmp_path_factory) -> Suite:
    """The learner's tests/ next to a pristine copy of the leaderboard, run once per seed."""
    folder = tmp_path_factory.mktemp("parallel-suite")
    _copy_suite(target_dir, folder)
    before = _namespaces(seamlab_settings)
    runs = [_run(folder, seed, seamlab_settings) for seed in SEEDS]
    after = _namespaces(seamlab_settings)
    suite = Suite(folder, runs, seamlab_settings.db_name, before, after)
    # Only what the learner's suite was seen using, and created: never anybody else's.
    _drop_leftovers(seamlab_settings, suite.leftovers())
    return suite


def _drop_leftovers(settings, leftovers: list[str]) -> None:
    from psycopg import sql

    for leftover in leftovers:
        kind, name = leftover.split(" ")[:2]
        statement = (
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            if kind == "database"
            else sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
        ).format(sql.Identifier(name))
        conninfo = settings.db_conninfo("postgres" if kind == "database" else None)
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
                connection.execute(statement)
        except psycopg.Error:
            pass  # the private database of the run is dropped by the grader anyway
