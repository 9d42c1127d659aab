"""Grade every exercise of every submission: parallel workers, each run confined, resumable.

    plan = plan_jobs(course, submissions, work, exercises=None, shard=(1, 1))
    outcome = autograde(course, Path("submissions"), out=Path("grades"), workers=2)

A job is one (learner, exercise). Jobs run in worker processes (``spawn``: nothing of the
parent's threads leaks in); each worker installs the sandbox (:mod:`.sandbox`) for every
grading child it starts. Results come back to the parent, which alone writes
``<out>/results/`` (so learner code, running as another user with the output folder hidden,
cannot touch the gradebook). Re-running skips jobs whose stored result matches the learner's
folder as it is now, unless ``force``; ``shard=(i, n)`` keeps the jobs whose stable hash falls
in shard i of n, so n machines can share the work and ``gradebook merge`` joins them.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from seamlab.config import Settings
from seamlab.course import Course
from seamlab.errors import SeamlabError
from seamlab.grading.results import GradeResult
from seamlab.instructor import store
from seamlab.instructor.sandbox import Limits
from seamlab.instructor.submissions import (
    Submission,
    SubmissionError,
    discover,
    materialize,
)

WORK = ".work"
MISSING_NOTE = "not submitted"


@dataclass(frozen=True)
class Job:
    learner: str
    exercise: str  # slug
    folder: str | None  # the learner's exercise folder; None when missing
    digest: str
    problem: str = ""  # why the submission could not be read, if it could not

    @property
    def key(self) -> str:
        return f"{self.learner}/{self.exercise}"


@dataclass
class Options:
    workers: int = 0  # 0: the core count
    force: bool = False
    shard: tuple[int, int] = (1, 1)
    exercises: tuple[str, ...] = ()
    timeout: float = 20.0
    wall_timeout: float = 120.0
    limits: Limits = field(default_factory=Limits)
    sandbox: bool = True


@dataclass
class Outcome:
    planned: int
    skipped: int
    graded: list[store.Record]
    seconds: float
    workers: int

    def infra_problem(self) -> str | None:
        """One line when infrastructure errors are half or more of what was graded: the
        gradebook then says more about the machine than about the learners."""
        broken = [r for r in self.graded if r.result.verdict == "infra_error"]
        if not broken or len(broken) * 2 < len(self.graded):
            return None
        first = broken[0].result.summary.strip().splitlines()[0]
        return (f"{len(broken)} of {len(self.graded)} grading runs failed for infrastructure "
                f"reasons (not the learners'), e.g. {broken[0].learner}/{broken[0].exercise}: "
                f"{first} Fix the machine, then run autograde again (graded jobs are kept).")


def parse_shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        index = count = 0
    if count < 1 or not 1 <= index <= count:
        raise SeamlabError(f"--shard {text!r} must look like i/n with 1 <= i <= n "
                           "(for example 1/2 and 2/2 for two machines).")
    return index, count


def in_shard(key: str, shard: tuple[int, int]) -> bool:
    index, count = shard
    number = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)
    return number % count == index - 1


def plan_jobs(course: Course, submissions: list[Submission], work: Path,
              exercises: tuple[str, ...] = (), shard: tuple[int, int] = (1, 1)) -> list[Job]:
    chosen = [course.exercise(ref) for ref in exercises] if exercises else list(course.exercises)
    jobs = []
    for sub in submissions:
        keys = [f"{sub.learner}/{ex.slug}" for ex in chosen]
        if not any(in_shard(key, shard) for key in keys):
            continue
        try:
            root, problem = materialize(sub, work), ""
        except SubmissionError as error:
            root, problem = None, str(error)
        for exercise in chosen:
            key = f"{sub.learner}/{exercise.slug}"
            if not in_shard(key, shard):
                continue
            folder = root / exercise.slug if root is not None else None
            present = folder is not None and folder.is_dir() and not folder.is_symlink()
            # A refused submission is graded 0 with its reason, not shown as "not submitted".
            fingerprint = ("refused-" + hashlib.sha256(problem.encode()).hexdigest()[:8]
                           if problem else store.digest(folder if present else None))
            jobs.append(Job(sub.learner, exercise.slug, str(folder) if present else None,
                            fingerprint, problem))
    return jobs


def pending(jobs: list[Job], out: Path, force: bool) -> list[Job]:
    if force:
        return jobs
    todo = []
    for job in jobs:
        record = store.read(store.path_for(out, job.learner, job.exercise))
        if record is None or not record.final or record.digest != job.digest:
            todo.append(job)
    return todo


# --- in the worker processes --------------------------------------------------------------------
_worker: dict = {}


def _init_worker(root: str, options: Options, hidden: list[str]) -> None:
    from seamlab import course as course_module
    from seamlab.grading import runner

    _worker["course"] = course_module.load(Path(root))
    _worker["options"] = options
    _worker["settings"] = Settings.from_env()
    if options.sandbox:
        from seamlab.instructor.sandbox import Policy

        policy = Policy(admin=_worker["settings"], limits=options.limits,
                        hidden_paths=[Path(p) for p in hidden])
        _worker["policy"] = policy
        # For the life of this worker process (kept referenced: a collected context manager
        # would restore the unconfined runner).
        _worker["confinement"] = runner.confine(policy)
        _worker["confinement"].__enter__()


def grade_job(job: Job) -> dict:
    """Grade one job in this worker; returns the record as a dict (the parent stores it)."""
    from seamlab.grading import grade

    exercise = _worker["course"].exercise(job.exercise)
    options: Options = _worker["options"]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    if job.folder is None:
        why = job.problem or f"there is no folder {job.exercise}/ in this submission"
        result = GradeResult(exercise=job.exercise, target="", verdict="learner_error",
                             summary=f"{job.exercise}: not graded: {why.rstrip('.')}.",
                             max_score=exercise.points)
        return store.Record(job.learner, job.exercise, result, job.digest,
                            [job.problem or MISSING_NOTE], now).to_dict()
    policy = _worker.get("policy")
    if options.sandbox:
        from seamlab.grading import runner
        from seamlab.instructor.sandbox import SandboxError

        if policy is None or runner._confinement is not policy:
            raise SandboxError("The sandbox is not installed in this grading worker.")
    if policy is not None:
        policy.readable_hidden = {exercise.slug} if exercise.writes_tests else set()
    result = grade(exercise, target=Path(job.folder), timeout=options.timeout,
                   settings=_worker["settings"], wall_timeout=options.wall_timeout)
    notes = []
    if policy is not None:
        notes = policy.take_notes()
        policy.cleanup()
    result.target = f"{job.learner}/{job.exercise}"  # not the worker's private path
    return store.Record(job.learner, job.exercise, result, job.digest, notes, now).to_dict()


# --- in the parent ------------------------------------------------------------------------------
def prepare_services(settings: Settings, sandbox: bool) -> None:
    from seamlab import isolation
    from seamlab.backends import wait_ready

    wait_ready(settings, services=("postgres", "redis"), timeout=10)
    isolation.ensure_template(settings)
    if sandbox:
        from seamlab.instructor.sandbox import check_machine, drop_stale_roles

        check_machine()
        drop_stale_roles(settings)


def autograde(course: Course, submissions_dir: Path, out: Path, options: Options,
              on_progress: Callable[[store.Record | None, int, int], None] | None = None
              ) -> Outcome:
    """Grade what is pending and store it; returns what was graded (outputs are separate)."""
    started = time.perf_counter()
    out = Path(out).resolve()
    submissions_dir = Path(submissions_dir).resolve()
    if out == submissions_dir or submissions_dir in out.parents:
        raise SeamlabError(f"--out {out} is inside the submissions folder. Fix: write the "
                           "grades somewhere else (the default is ./grades).")
    work = out / WORK / f"unpacked-{options.shard[0]}-of-{options.shard[1]}"
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o755)
    subs = discover(submissions_dir)
    jobs = plan_jobs(course, subs, work, options.exercises, options.shard)
    todo = pending(jobs, out, options.force)
    workers = options.workers or os.cpu_count() or 1
    workers = max(1, min(workers, len(todo) or 1))
    graded: list[store.Record] = []
    if on_progress:
        on_progress(None, 0, len(todo))
    if todo:
        settings = Settings.from_env()
        prepare_services(settings, options.sandbox)
        hidden = [str(submissions_dir), str(out), str(course.root / "solutions"),
                  str(course.root / ".git"),
                  str(course.root / ".seamlab")]
        # Missing exercises need no worker; real ones go round-robin-free to a pool.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                 initializer=_init_worker,
                                 initargs=(str(course.root), options, hidden)) as pool:
            futures = {pool.submit(grade_job, job): job for job in todo}
            try:
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for future in done:
                        record = _record_of(future, futures[future], course)
                        store.write(out, record)
                        graded.append(record)
                        if on_progress:
                            on_progress(record, len(graded), len(todo))
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    shutil.rmtree(work, ignore_errors=True)
    return Outcome(planned=len(jobs), skipped=len(jobs) - len(todo), graded=graded,
                   seconds=time.perf_counter() - started, workers=workers)


def _record_of(future, job: Job, course: Course) -> store.Record:
    try:
        return store.Record.from_dict(future.result())
    except Exception as error:  # noqa: BLE001 - a worker died: infrastructure, not the learner
        result = GradeResult(exercise=job.exercise, target=job.key, verdict="infra_error",
                             summary=f"{job.exercise}: could not grade (not counted against "
                             f"you): the grading worker failed ({type(error).__name__}: "
                             f"{error}).",
                             max_score=course.exercise(job.exercise).points)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        return store.Record(job.learner, job.exercise, result, job.digest, [], now)
