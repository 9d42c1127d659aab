"""``kind = "write-tests"``: the learner's tests against the correct system and each planted fault.

A learner's test suite is good when it catches real mistakes. So their test files (the
exercise's ``tests`` in course.toml) are copied into a fresh copy of the correct system (the
solution folder) and run: they must pass there. Then, once per planted fault
(``grading.mutants``: ``src/seamlab/mutants/<slug>/*.py``), the fault is laid over the module it
names and the fault's test files run again: at least one test must fail. Every run has its own
copy and its own private state, so the faults run side by side (``fault_workers``); the order
of the outcomes is the faults' order, whatever finishes first. Score = faults caught, scaled to
the points.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from seamlab.config import Settings
from seamlab.errors import ServiceUnavailable
from seamlab.grading import outcome
from seamlab.grading.job import Graded, Job, Phases
from seamlab.grading.mutants import Mutant, load_mutants
from seamlab.grading.results import MutantOutcome

if TYPE_CHECKING:
    from seamlab.course import Exercise

_COPY_IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")
#: At most this many faults run at once (each is a child pytest with its own database).
MAX_FAULT_WORKERS = 2
WORKERS_ENV = "SEAMLAB_FAULT_WORKERS"


class WriteTests:
    name = "write-tests"

    def __init__(self, junit: bool = True) -> None:
        #: Write the JUnit report of the run on the correct system (False: another part's).
        self.junit = junit

    def grade(self, job: Job) -> Graded:
        exercise, slug = job.exercise, job.slug
        missing = [name for name in exercise.tests if not (job.target / name).is_file()]
        if missing:
            return Graded("learner_error",
                          f"{slug}: your test file {missing[0]} is missing from {job.target}. "
                          f"Fix: `seamlab reset {exercise.id}` restores the starter file.")
        decision = run_system(job, junit=job.junit if self.junit else None)
        if decision.no_tests:
            return Graded("failed", f"{slug}: no tests were found in "
                                    f"{', '.join(exercise.tests)}: write at least one test_ function.")
        if decision.verdict != "passed":
            return Graded(decision.verdict, _against_correct(slug, decision), decision.tests)
        started = time.perf_counter()
        faults = against_faults(job)
        job.phases.times["mutants"] = round(time.perf_counter() - started, 4)

        caught = sum(m.caught for m in faults)
        missed = [m for m in faults if not m.caught]
        score = round(exercise.points * caught / len(faults)) if faults else exercise.points
        if missed:
            names = "; ".join(f"'{m.description}'" for m in missed)
            return Graded("failed", f"{slug}: your tests pass on the correct system and catch "
                                    f"{caught} of {len(faults)} planted faults. Missed: {names}",
                          decision.tests, faults, score)
        return Graded("passed", f"{slug}: your tests pass on the correct system and catch all "
                                f"{len(faults)} planted faults.", decision.tests, faults, score)


def build_system(exercise: Exercise, learner: Path, into: Path,
                 mutant: Mutant | None = None) -> Path:
    """A copy of the correct system with the learner's test files (and a fault) laid over it.

    The correct system is the solution folder. A learner's copy of the course has none (a
    release never ships ``solutions/``): there it is the learner's own folder with the correct
    modules the hidden folder keeps (``hidden/<slug>/reference/*.py``) laid over it.
    """
    system = into / "system"
    if exercise.solution_folder.is_dir():
        shutil.copytree(exercise.solution_folder, system, ignore=_COPY_IGNORE)
    else:
        shutil.copytree(learner, system, ignore=_COPY_IGNORE)
        for module in sorted((exercise.hidden_dir / "reference").glob("*.py")):
            shutil.copyfile(module, system / module.name)
    for name in exercise.tests:
        source, dest = learner / name, system / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copyfile(source, dest)
        elif dest.exists():
            dest.unlink()
    if mutant is not None:
        mutant.lay(system)
    return system


def test_files(exercise: Exercise, mutant: Mutant | None) -> tuple[str, ...]:
    """The learner's files a run uses: the fault's own (``# tests:``), else all of them."""
    return (mutant.tests if mutant is not None and mutant.tests else exercise.tests)


def run_system(job: Job, mutant: Mutant | None = None, *, junit: Path | None = None,
               phases: Phases | None = None) -> outcome.Decision:
    """One isolated run of the learner's tests on a fresh copy of the system (with a fault)."""
    phases = phases or job.phases
    scratch = Path(tempfile.mkdtemp(prefix="seamlab-system-"))
    try:
        system = build_system(job.exercise, job.target, scratch, mutant)
        phases.mark("copy")
        paths = [system / name for name in test_files(job.exercise, mutant)
                 if (system / name).is_file()]
        return job.run(job.spec(paths or [system], system, system, junit=junit), phases)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def fault_workers(faults: int) -> int:
    """How many faults run at once: the cores this process may use, at most
    MAX_FAULT_WORKERS (``SEAMLAB_FAULT_WORKERS`` overrides, e.g. 1 to measure one at a time)."""
    wanted = os.environ.get(WORKERS_ENV, "")
    if wanted.isdigit() and int(wanted) > 0:
        limit = int(wanted)
    else:
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            cores = os.cpu_count() or 1
        limit = min(cores, MAX_FAULT_WORKERS)
    return max(1, min(faults, limit))


def against_faults(job: Job) -> list[MutantOutcome]:
    """Run the learner's tests once per planted fault, in parallel, each on its own state;
    caught = at least one test failed. Raises ServiceUnavailable if a service was down."""
    faults = load_mutants(job.exercise)
    if not faults:
        return []

    def one(mutant: Mutant) -> MutantOutcome:
        decision = run_system(job, mutant, phases=Phases())
        if decision.verdict == "infra_error" and not decision.no_tests:
            raise ServiceUnavailable("a course service", "the grading run", decision.headline,
                                     "run `seamlab doctor`")
        caught = any(t.outcome in ("failed", "error", "timeout") for t in decision.tests)
        detail = "" if caught else _why_missed(job.exercise, mutant, decision)
        return MutantOutcome(name=mutant.name, description=mutant.description, caught=caught,
                             detail=detail)

    workers = fault_workers(len(faults))
    if workers == 1:
        return [one(mutant) for mutant in faults]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="seamlab-fault") as pool:
        return list(pool.map(one, faults))  # map keeps the faults' order


def run_against_mutants(exercise: Exercise, target: Path, *, settings: Settings | None = None,
                        timeout: float | None = None,
                        wall_timeout: float | None = None) -> list[MutantOutcome]:
    """The planted faults alone (the invariants: an empty test file must catch none)."""
    job = Job.start(exercise, target, timeout=timeout, settings=settings,
                    wall_timeout=wall_timeout)
    return against_faults(job)


def _why_missed(exercise: Exercise, mutant: Mutant, decision: outcome.Decision) -> str:
    files = ", ".join(test_files(exercise, mutant))
    planted = f"Planted in {mutant.mutates}."
    if decision.no_tests:
        ran = f"{planted} Your {files} ran against it, but they hold no test."
    else:
        passed = sum(1 for t in decision.tests if t.outcome == "passed")
        ran = (f"{planted} Your {files} ran against it and did not fail ({passed} passed), so none of "
               "the tests looks at what this mistake changes.")
    return f"{ran} {mutant.advice}".strip()


def _against_correct(slug: str, decision: outcome.Decision) -> str:
    first = decision.headline.strip().splitlines()[0] if decision.headline.strip() else ""
    if decision.verdict == "infra_error":
        return f"{slug}: could not grade (not counted against you). {first}"
    bad = next((t for t in decision.tests if t.outcome != "passed"), None)
    name = f"{bad.name}: " if bad else ""
    where = f" (at {bad.location})" if bad and bad.location else ""
    return (f"{slug}: your tests must pass on the correct system first, but {name}{first}"
            f"{where}")
