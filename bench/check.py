"""How long does grading take, and what does the grader add over a bare pytest run?

Prints the median wall time (warm services) of:
  - `seamlab check 01` as a learner runs it (a new process: CLI start, grading, rendering);
  - `grade(01)` called in-process (what the autograder and notebooks pay);
  - a bare `pytest` over the same hidden tests (plugin autoload on: what a developer types);
  - a bare `pytest` with only the seamlab plugin (the same plugins the grader loads);
and the ratio grade / bare-minimal, plus the split of a grade run into its phases.

Targets (from the issue): check under 1.5 s warm; overhead under 1.5x bare pytest.
Usage: .venv/bin/python bench/check.py [--runs 7] [--exercise 01] [--target solutions]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def median_of(runs: int, measure) -> tuple[float, list[float]]:
    measure()  # warm-up: caches, template database, page cache
    samples = [measure() for _ in range(runs)]
    return statistics.median(samples), samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--exercise", default="01")
    parser.add_argument("--target", default="exercises", help="exercises, solutions or a path")
    args = parser.parse_args()

    from seamlab import course
    from seamlab.grading import grade
    from seamlab.notebook import resolve_target

    exercise = course.load(ROOT).exercise(args.exercise)
    target = resolve_target(exercise, args.target)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    python = sys.executable

    results = []

    def in_process() -> float:
        started = time.perf_counter()
        results.append(grade(exercise, target=target))
        return time.perf_counter() - started

    figures: dict[str, tuple[float, list[float]]] = {}
    seamlab_cli = shutil.which("seamlab", path=str(Path(python).parent))
    if seamlab_cli:
        cli = [seamlab_cli, "check", exercise.id]
        if args.target != "exercises":
            cli += ["--target", str(target)]
        figures["seamlab check (new process)"] = median_of(args.runs, lambda: timed(cli, env))
    figures["grade() in-process"] = median_of(args.runs, in_process)
    bare_env = {**env, "SEAMLAB_TARGET_DIR": str(target)}
    bare = [python, "-m", "pytest", str(exercise.hidden_dir), "-q", "-p", "no:cacheprovider",
            "--rootdir", str(exercise.hidden_dir)]
    figures["bare pytest (autoload)"] = median_of(args.runs, lambda: timed(bare, bare_env))
    minimal_env = {**bare_env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    minimal = [*bare, "-p", "seamlab.pytest_plugin", "-p", "timeout"]
    figures["bare pytest (seamlab plugin only)"] = median_of(
        args.runs, lambda: timed(minimal, minimal_env))

    shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
    print(f"exercise {exercise.slug}, target {shown}, {args.runs} runs each (median)")
    for name, (median, samples) in figures.items():
        spread = f"min {min(samples):.2f} / max {max(samples):.2f}"
        print(f"  {name:<36} {median:6.2f} s   ({spread})")
    ratio = figures["grade() in-process"][0] / figures["bare pytest (seamlab plugin only)"][0]
    print(f"  overhead: grade() / bare pytest (same plugins) = {ratio:.2f}x   (target < 1.5x)")
    if seamlab_cli:
        check_s = figures["seamlab check (new process)"][0]
        print(f"  seamlab check warm: {check_s:.2f} s   (target < 1.5 s)")

    phases: dict[str, list[float]] = {}
    for result in results[1:]:
        tests_s = sum(t.duration for t in result.tests)
        split = dict(result.phases)
        split["  of which: tests (setup+call+teardown)"] = tests_s
        for name, seconds in split.items():
            phases.setdefault(name, []).append(seconds)
    print("phases of grade() (median):")
    for name, values in phases.items():
        print(f"  {name:<40} {statistics.median(values) * 1000:7.0f} ms")
    print(f"load average now: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
