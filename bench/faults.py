"""Grading time of the exercises graded against planted faults, faults one at a time vs side by
side (``SEAMLAB_FAULT_WORKERS``), on the solutions: prints wall seconds, phases and the load.

    .venv/bin/python bench/faults.py [--runs 3] [--workers 1,2] [02 06 15]

Verdicts must be the same whatever the workers (they are printed, and compared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("exercises", nargs="*")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()

    from seamlab import course
    from seamlab.grading import grade
    from seamlab.grading.kinds.write_tests import WORKERS_ENV

    loaded = course.load(ROOT)
    chosen = ([loaded.exercise(ref) for ref in args.exercises] if args.exercises
              else [e for e in loaded.exercises if e.writes_tests])
    print(f"load average at start: {os.getloadavg()}")
    failed = False
    for exercise in chosen:
        verdicts = set()
        for workers in args.workers.split(","):
            os.environ[WORKERS_ENV] = workers
            walls = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = grade(exercise, target=exercise.solution_folder)
                walls.append(time.perf_counter() - started)
                verdicts.add((result.verdict, tuple((m.name, m.caught) for m in result.mutants)))
            phases = ", ".join(f"{k} {v:.2f}" for k, v in result.phases.items())
            print(f"{exercise.slug:32} fault workers {workers}: median {statistics.median(walls):6.2f} s "
                  f"(runs {', '.join(f'{w:.2f}' for w in walls)}; {len(result.mutants)} faults; "
                  f"{result.verdict}; last phases: {phases}; load {os.getloadavg()[0]:.2f})")
        if len(verdicts) != 1:
            print(f"  DIFFERENT VERDICTS: {verdicts}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
