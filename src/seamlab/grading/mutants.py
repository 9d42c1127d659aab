"""Grading write-tests exercises: the learner's tests against the correct system and each fault.

A learner's test suite is good when it catches real mistakes. So their test files (the
exercise's ``tests`` in course.toml) are copied into a fresh copy of the correct system (the
solution folder) and run: they must pass there. Then, once per planted fault in
``src/seamlab/mutants/<slug>/*.py``, the fault's module is copied over the module it names and
the tests run again: at least one must fail. Score = faults caught, scaled to the points.
"""

from __future__ import annotations

import ast
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from seamlab.config import Settings
from seamlab.errors import SeamlabError, ServiceUnavailable
from seamlab.grading import engine, outcome, runner
from seamlab.grading.results import GradeResult, MutantOutcome, TestOutcome

if TYPE_CHECKING:
    from seamlab.course import Exercise

_COPY_IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc")


class MutantError(SeamlabError):
    """A planted-fault file is malformed (an authoring mistake, caught by the invariants)."""


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    mutates: str  # path of the module it replaces, relative to the system folder
    path: Path


def load_mutants(exercise: Exercise) -> list[Mutant]:
    """Every ``*.py`` in the exercise's mutants folder, sorted by name."""
    folder = exercise.mutants_dir
    if not folder.is_dir():
        return []
    return [read_mutant(path) for path in sorted(folder.glob("*.py"))]


def read_mutant(path: Path) -> Mutant:
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    if not first.startswith("# mutates:"):
        raise MutantError(f"{path}: the first line must be '# mutates: <module>.py'.")
    mutates = first.split(":", 1)[1].strip()
    try:
        docstring = ast.get_docstring(ast.parse(text)) or ""
    except SyntaxError as error:
        raise MutantError(f"{path}:{error.lineno}: not valid Python ({error.msg}).") from None
    if not docstring.strip():
        raise MutantError(f"{path}: needs a one-line docstring naming the mistake.")
    return Mutant(name=path.stem, description=docstring.strip().splitlines()[0],
                  mutates=mutates, path=path)


def build_system(exercise: Exercise, learner: Path, into: Path,
                 mutant: Mutant | None = None) -> Path:
    """A copy of the correct system with the learner's test files (and a fault) laid over it."""
    system = into / "system"
    shutil.copytree(exercise.solution_folder, system, ignore=_COPY_IGNORE)
    for name in exercise.tests:
        source, dest = learner / name, system / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_file():
            shutil.copyfile(source, dest)
        elif dest.exists():
            dest.unlink()
    if mutant is not None:
        shutil.copyfile(mutant.path, system / mutant.mutates)
    return system


def _spec(exercise: Exercise, system: Path, per_test: float, wall: float,
          junit: Path | None = None) -> runner.RunSpec:
    paths = [system / name for name in exercise.tests if (system / name).is_file()]
    return runner.RunSpec(paths=paths or [system], target=system, rootdir=system,
                          per_test_timeout=per_test, wall_timeout=wall, junit=junit)


def _run(exercise: Exercise, learner: Path, settings: Settings, per_test: float, wall: float,
         mutant: Mutant | None = None, junit: Path | None = None):
    phases = engine.Phases()
    scratch = Path(tempfile.mkdtemp(prefix="seamlab-system-"))
    try:
        system = build_system(exercise, learner, scratch, mutant)
        phases.mark("copy")
        child = engine.run_isolated(_spec(exercise, system, per_test, wall, junit), settings,
                                    phases)
        return outcome.decide(child, wall), phases
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_against_mutants(exercise: Exercise, target: Path, *, settings: Settings | None = None,
                        timeout: float | None = None,
                        wall_timeout: float | None = None) -> list[MutantOutcome]:
    """Run the tests in ``target`` once per planted fault; caught = at least one test failed.

    Raises ServiceUnavailable if a service was down during any of the runs.
    """
    settings = settings or Settings.from_env()
    per_test = timeout or engine.DEFAULT_TEST_TIMEOUT
    wall = engine.wall_limit(per_test, wall_timeout)
    faults = load_mutants(exercise)
    if not faults:
        return []

    def one(mutant: Mutant) -> MutantOutcome:
        decision, _ = _run(exercise, Path(target).resolve(), settings, per_test, wall, mutant)
        if decision.verdict == "infra_error" and not decision.no_tests:
            raise ServiceUnavailable("a course service", "the grading run", decision.headline,
                                     "run `seamlab doctor`")
        caught = any(t.outcome in ("failed", "error", "timeout") for t in decision.tests)
        return MutantOutcome(name=mutant.name, description=mutant.description, caught=caught)

    workers = max(1, min(len(faults), os.cpu_count() or 2, 4))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="seamlab-mutant") as pool:
        return list(pool.map(one, faults))


def grade_tests(exercise: Exercise, target: Path | None = None, *, junit: Path | None = None,
                timeout: float | None = None, settings: Settings | None = None,
                wall_timeout: float | None = None) -> GradeResult:
    started = time.perf_counter()
    target = Path(target or exercise.folder).resolve()
    settings = settings or Settings.from_env()
    per_test = timeout or engine.DEFAULT_TEST_TIMEOUT
    wall = engine.wall_limit(per_test, wall_timeout)
    result = GradeResult(exercise=exercise.slug, target=str(target), verdict="infra_error",
                         summary="", max_score=exercise.points)
    phases = engine.Phases()
    slug = exercise.slug

    missing = [name for name in exercise.tests if not (target / name).is_file()]
    if missing:
        return _done(result, "learner_error", [], [],
                     f"{slug}: your test file {missing[0]} is missing from {target}. Fix: "
                     f"`seamlab reset {exercise.id}` restores the starter file.", started, phases)
    try:
        engine.probe_before(settings, engine.services_for(exercise))
        phases.mark("services")
        decision, run_phases = _run(exercise, target, settings, per_test, wall, junit=junit)
        phases.times.update(run_phases.times)
        if decision.no_tests:
            return _done(result, "failed", [], [],
                         f"{slug}: no tests were found in {', '.join(exercise.tests)}: write at "
                         "least one test_ function.", started, phases)
        if decision.verdict != "passed":
            return _done(result, decision.verdict, decision.tests, [],
                         _against_correct(slug, decision), started, phases)
        faults = run_against_mutants(exercise, target, settings=settings, timeout=per_test,
                                     wall_timeout=wall)
        phases.mark("mutants")
    except ServiceUnavailable as error:
        return _done(result, "infra_error", [], [],
                     f"{slug}: could not grade (not counted against you). {error}", started,
                     phases)

    caught = sum(m.caught for m in faults)
    missed = [m for m in faults if not m.caught]
    result.score = round(exercise.points * caught / len(faults)) if faults else exercise.points
    if missed:
        names = "; ".join(f"'{m.description}'" for m in missed)
        summary = (f"{slug}: your tests pass on the correct system and catch {caught} of "
                   f"{len(faults)} planted faults. Missed: {names}")
        return _done(result, "failed", decision.tests, faults, summary, started, phases,
                     score=result.score)
    summary = (f"{slug}: your tests pass on the correct system and catch all {len(faults)} "
               "planted faults.")
    return _done(result, "passed", decision.tests, faults, summary, started, phases,
                 score=exercise.points)


def _against_correct(slug: str, decision: outcome.Decision) -> str:
    first = decision.headline.strip().splitlines()[0] if decision.headline.strip() else ""
    if decision.verdict == "infra_error":
        return f"{slug}: could not grade (not counted against you). {first}"
    bad = next((t for t in decision.tests if t.outcome != "passed"), None)
    name = f"{bad.name}: " if bad else ""
    where = f" (at {bad.location})" if bad and bad.location else ""
    return (f"{slug}: your tests must pass on the correct system first, but {name}{first}"
            f"{where}")


def _done(result: GradeResult, verdict: str, tests: list[TestOutcome],
          faults: list[MutantOutcome], summary: str, started: float, phases: engine.Phases,
          score: int = 0) -> GradeResult:
    result.verdict = verdict
    result.tests = tests
    result.mutants = faults
    result.summary = summary
    result.score = score
    result.duration = round(time.perf_counter() - started, 4)
    result.phases = phases.times
    return result
