"""``grade()``: one isolated, bounded run of an exercise's hidden tests against a folder.

Phases (timed in ``GradeResult.phases``): check the services, clone a private database from
the template and lease a private Redis database, run pytest in a child process, decide the
verdict, drop the database and give the Redis database back. The private state is released in
``finally`` blocks, so a crash, a kill of the child or a Ctrl-C in the parent leaves nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from seamlab.config import Settings
from seamlab.errors import ServiceUnavailable
from seamlab.grading import outcome, runner
from seamlab.grading.expected import hidden_tests
from seamlab.grading.results import GradeResult, TestOutcome

if TYPE_CHECKING:
    from seamlab.course import Exercise

DEFAULT_TEST_TIMEOUT = 20.0
#: Address space of a grading child and everything it starts (RLIMIT_AS). The libraries a
#: hidden run imports take ~0.6 GB of address space; more than this is the learner's code.
DEFAULT_MEMORY_MB = 3072
DB_PREFIX = "seamlab_g"
#: Postgres and Redis are always needed (the private state) and checked by creating it;
#: RabbitMQ is checked up front when an exercise uses it; the mail provider runs in the child.
_PROBED = ("postgres", "redis", "rabbitmq")


class Phases:
    """Wall time of each phase, for profiling (``seamlab check --verbose``, bench/check.py)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._start = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = round(self.times.get(name, 0.0) + now - self._start, 4)
        self._start = now


def wall_limit(per_test: float, wall_timeout: float | None) -> float:
    """The backstop for the whole child: generous, because it only catches what nothing else can."""
    return wall_timeout if wall_timeout is not None else max(60.0, 6 * per_test)


def services_for(exercise: Exercise) -> tuple[str, ...]:
    wanted = {"postgres", "redis", *exercise.services}
    return tuple(s for s in _PROBED if s in wanted)


def probe(settings: Settings, services: tuple[str, ...], timeout: float = 2.0) -> None:
    """Raise ServiceUnavailable (one line, with the fix) when a needed service is down."""
    from seamlab.backends import wait_ready

    wait_ready(settings, services=services, timeout=timeout)


def probe_before(settings: Settings, services: tuple[str, ...]) -> None:
    """The up-front check: only what creating the private state does not already check."""
    extra = tuple(s for s in services if s not in ("postgres", "redis"))
    if extra:
        probe(settings, extra)


_swept = False


def sweep_stale(settings: Settings) -> None:
    """Once per process: what killed graders left behind (databases, Redis leases, folders)."""
    global _swept
    if _swept:
        return
    _swept = True
    from seamlab import isolation

    runner.sweep_stale_folders()
    try:
        isolation.drop_stale_databases(settings, DB_PREFIX)
        isolation.reclaim_dead_leases(settings)
    except Exception:  # noqa: BLE001 - a sweep never stops a grade; the next one retries
        _swept = False


class PrivateState:
    """A private database and Redis database for one child run; released on exit, always."""

    def __init__(self, settings: Settings, phases: Phases) -> None:
        self.settings = settings
        self.phases = phases
        self._stack = ExitStack()

    def __enter__(self) -> Settings:
        from seamlab import isolation

        sweep_stale(self.settings)
        try:
            database = self._stack.enter_context(
                isolation.private_database(self.settings, prefix=DB_PREFIX))
            redis_db = self._stack.enter_context(isolation.private_redis_db(self.settings))
        except BaseException:
            self._stack.close()
            raise
        from seamlab.grading import guard

        private = self.settings.with_database(database).with_redis_db(redis_db)
        private = guard.restrict(private, database)
        self.phases.mark("private_state")
        return private

    def __exit__(self, *exc_info) -> None:
        started = time.perf_counter()
        self._stack.close()
        self.phases.times["cleanup"] = round(
            self.phases.times.get("cleanup", 0.0) + time.perf_counter() - started, 4)


def run_isolated(spec: runner.RunSpec, settings: Settings, phases: Phases) -> runner.ChildRun:
    with PrivateState(settings, phases) as private:
        spec.service_env = private.to_env()
        if "TEST_MAIL_URL" not in settings.explicit:
            # Each run gets its own mail provider (started by the plugin inside the child);
            # pointing every run at the shared one on 8025 would let runs reset each other.
            del spec.service_env["TEST_MAIL_URL"]
        child = runner.run(spec)
        phases.mark("child")
    return child


def grade(
    exercise: Exercise,
    target: Path | None = None,
    junit: Path | None = None,
    timeout: float | None = None,
    *,
    settings: Settings | None = None,
    wall_timeout: float | None = None,
) -> GradeResult:
    """Grade ``target`` (default: the learner's ``exercises/<slug>``) and return the result.

    ``timeout`` is the limit per test (and per test-module import), in seconds.
    ``wall_timeout`` bounds the whole child process (default: a generous multiple).
    """
    if exercise.kind == "write-tests":
        from seamlab.grading import mutants

        return mutants.grade_tests(exercise, target, junit=junit, timeout=timeout,
                                   settings=settings, wall_timeout=wall_timeout)

    started = time.perf_counter()
    target = Path(target or exercise.folder).resolve()
    per_test = timeout or getattr(exercise, "test_timeout", None) or DEFAULT_TEST_TIMEOUT
    result = GradeResult(exercise=exercise.slug, target=str(target), verdict="infra_error",
                         summary="", max_score=exercise.points)
    phases = Phases()

    if not target.is_dir():
        return _finish(result, "learner_error", [],
                       f"There is no folder {target}. Fix: `seamlab reset {exercise.id}` "
                       "restores the starter code.", started, phases)
    settings = settings or Settings.from_env()
    services = services_for(exercise)
    spec = runner.RunSpec(paths=[exercise.hidden_dir], target=target,
                          rootdir=exercise.hidden_dir, per_test_timeout=per_test,
                          wall_timeout=wall_limit(per_test, wall_timeout), junit=junit,
                          expected=hidden_tests(exercise.hidden_dir),
                          memory_mb=DEFAULT_MEMORY_MB)
    try:
        probe_before(settings, services)
        phases.mark("services")
        child = run_isolated(spec, settings, phases)
    except ServiceUnavailable as error:
        return _finish(result, "infra_error", [], str(error), started, phases)

    decision = outcome.decide(child, spec.wall_timeout)
    if decision.verdict in ("learner_error", "failed") and _has_errors(decision.tests):
        # A service that went away mid-run makes the learner's code raise: not their fault.
        try:
            probe(settings, services, timeout=0.5)
        except ServiceUnavailable as error:
            return _finish(result, "infra_error", decision.tests, str(error), started, phases)
    return _finish(result, decision.verdict, decision.tests, decision.headline, started, phases)


def run_visible(exercise: Exercise, target: Path | None = None,
                timeout: float | None = None) -> GradeResult:
    """Run the learner's own (visible) unit tests in ``target/tests``, as the learner would.

    Their conftest.py and pytest configuration *are* used here: these are their tests.
    """
    started = time.perf_counter()
    target = Path(target or exercise.folder).resolve()
    per_test = timeout or DEFAULT_TEST_TIMEOUT
    phases = Phases()
    spec = runner.RunSpec(paths=[target / "tests"], target=target, rootdir=target,
                          per_test_timeout=per_test, wall_timeout=wall_limit(per_test, None),
                          isolated=False, sealed=False)
    child = runner.run(spec)
    phases.mark("child")
    decision = outcome.decide(child, spec.wall_timeout)
    result = GradeResult(exercise=exercise.slug, target=str(target), verdict="infra_error",
                         summary="", max_score=exercise.points)
    return _finish(result, decision.verdict, decision.tests, decision.headline, started, phases,
                   noun="visible")


def _has_errors(tests: list[TestOutcome]) -> bool:
    return any(t.outcome == "error" for t in tests)


def _finish(result: GradeResult, verdict: str, tests: list[TestOutcome], headline: str,
            started: float, phases: Phases, noun: str = "hidden") -> GradeResult:
    result.verdict = verdict
    result.tests = tests
    result.score = result.max_score if verdict == "passed" else 0
    result.summary = summarize(result.exercise, verdict, tests, headline, noun)
    result.duration = round(time.perf_counter() - started, 4)
    result.phases = phases.times
    return result


def summarize(slug: str, verdict: str, tests: list[TestOutcome], headline: str,
              noun: str = "hidden") -> str:
    """One line for humans; no durations, ports of private state or ids, so it is stable."""
    first = headline.strip().splitlines()[0] if headline.strip() else ""
    total = len(tests)
    if verdict == "passed":
        return f"{slug}: all {total} {noun} tests pass."
    if verdict == "failed":
        failing = [t for t in tests if t.outcome == "failed"]
        return (f"{slug}: {len(failing)} of {total} {noun} tests fail. "
                f"{failing[0].name}: {failing[0].first_line}")
    if verdict == "learner_error":
        culprit = next((t for t in tests if t.outcome == "error"), None)
        where = f" at {culprit.location}" if culprit and culprit.location else ""
        return f"{slug}: your code raised an error{where}. {first}"
    if verdict == "timed_out":
        return f"{slug}: timed out. {first}"
    return f"{slug}: could not grade (not counted against you). {first}"


def iter_failures(result: GradeResult) -> Iterator[TestOutcome]:
    return (t for t in result.tests if t.outcome != "passed")
