"""One grading job: what every kind of exercise shares.

A job knows the exercise, the folder under grade, the settings and the limits (per test, the
whole child, memory), and times its phases (``GradeResult.phases``). ``Job.run`` is the one
isolated run every kind uses: clone a private database from the template and lease a private
Redis database, run pytest in a child through ``runner.run`` (``seamlab.pytest_child``), give
the state back in ``finally`` blocks (a crash, a kill of the child or a Ctrl-C in the parent
leaves nothing), and decide the verdict (``outcome.decide``). What the kinds decide comes back
as a ``Graded``; ``Job.finish`` turns it into the ``GradeResult``.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from seamlab.config import Settings
from seamlab.grading import outcome, runner
from seamlab.grading.results import GradeResult, MutantOutcome, TestOutcome

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
#: Most serious first (the order of verdicts when two parts of a grade disagree).
SEVERITY = ("infra_error", "timed_out", "learner_error", "failed", "passed")


class Phases:
    """Wall time of each phase, for profiling (``seamlab check --verbose``, bench/check.py)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._start = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = round(self.times.get(name, 0.0) + now - self._start, 4)
        self._start = now

    def add(self, other: Phases) -> None:
        """Count another timer's phases in this one (a run timed on its own, e.g. a fault's)."""
        for name, seconds in other.times.items():
            self.times[name] = round(self.times.get(name, 0.0) + seconds, 4)


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


@dataclass
class Graded:
    """What a kind decided about the folder: the parts of a GradeResult a kind owns."""

    verdict: str
    summary: str
    tests: list[TestOutcome] = field(default_factory=list)
    mutants: list[MutantOutcome] = field(default_factory=list)
    score: int = 0


@dataclass
class Job:
    """One grade of one folder: the exercise, the limits, the settings and the phase timer."""

    exercise: Exercise
    target: Path
    settings: Settings
    per_test: float
    wall: float
    junit: Path | None = None
    phases: Phases = field(default_factory=Phases)
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def start(cls, exercise: Exercise, target: Path | None = None, *, junit: Path | None = None,
              timeout: float | None = None, settings: Settings | None = None,
              wall_timeout: float | None = None) -> Job:
        """``timeout``: the limit per test (and per test-module import), in seconds;
        ``wall_timeout``: the whole child's (default: a generous multiple of it)."""
        per_test = (timeout or getattr(exercise, "test_timeout", None)
                    or DEFAULT_TEST_TIMEOUT)
        return cls(exercise=exercise, target=Path(target or exercise.folder).resolve(),
                   settings=settings or Settings.from_env(), per_test=per_test,
                   wall=wall_limit(per_test, wall_timeout), junit=junit)

    @property
    def slug(self) -> str:
        return self.exercise.slug

    def spec(self, paths: list[Path], target: Path, rootdir: Path, *,
             expected: list[str] | None = None, junit: Path | None = None) -> runner.RunSpec:
        """A sealed, isolated run with this job's limits."""
        return runner.RunSpec(paths=paths, target=target, rootdir=rootdir,
                              per_test_timeout=self.per_test, wall_timeout=self.wall,
                              junit=junit, expected=expected, memory_mb=DEFAULT_MEMORY_MB)

    def run(self, spec: runner.RunSpec, phases: Phases | None = None) -> outcome.Decision:
        """The run on its own private state, decided. ``phases``: time it on another timer
        (runs that go in parallel each time their own; ``Phases.add`` counts them after)."""
        child = run_isolated(spec, self.settings, phases or self.phases)
        return outcome.decide(child, spec.wall_timeout)

    def probe(self, timeout: float = 0.5) -> None:
        probe(self.settings, services_for(self.exercise), timeout=timeout)

    def finish(self, graded: Graded) -> GradeResult:
        return GradeResult(
            exercise=self.slug, target=str(self.target), verdict=graded.verdict,
            summary=graded.summary, tests=list(graded.tests), mutants=list(graded.mutants),
            score=graded.score, max_score=self.exercise.points,
            duration=round(time.perf_counter() - self.started, 4), phases=self.phases.times)


def most_serious(*verdicts: str) -> str:
    return min(verdicts, key=SEVERITY.index)
