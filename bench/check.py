"""`seamlab check` per exercise, warm and cold, next to the time the hidden tests themselves take.

For every exercise of course.toml (or those named), the median wall time of `seamlab check NN
--target solutions/NN-*` as a learner runs it (a new process each time):
  - cold: ``SEAMLAB_WARM=0`` (the default) (a fresh interpreter imports pytest and the libraries per run);
  - warm: ``SEAMLAB_WARM=1``, the course's shared warm server (started by the warm-up run, kept between commands);
and the hidden tests' own time (setup + call + teardown, from ``--json``), the warm overhead
(wall - tests) and the sum over all exercises. Prints the load average with the figures: on a
busy machine every figure grows, the difference between warm and cold stays.

Goals (issue 11): check 01 <= 0.5 s; every exercise <= its tests' time + 0.7 s; 07 <= 4 s;
all checked one after another <= 35 s.
Usage: .venv/bin/python bench/check.py [--runs 3] [--exercise 01 ...] [--target solutions]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def check(cli: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, the hidden tests' own seconds, the verdict."""
    started = time.perf_counter()
    done = subprocess.run([*cli, "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - started
    try:
        result = json.loads(done.stdout)
    except ValueError:
        return wall, 0.0, f"no JSON (exit {done.returncode})"
    return wall, sum(t.get("duration", 0.0) for t in result.get("tests", [])), result["verdict"]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--exercise", action="append", default=None)
    parser.add_argument("--target", default="solutions", help="exercises, solutions or a path")
    args = parser.parse_args()

    from seamlab import course
    from seamlab.notebook import resolve_target

    loaded = course.load(ROOT)
    exercises = [loaded.exercise(ref) for ref in args.exercise] if args.exercise \
        else list(loaded.exercises)
    seamlab_cli = shutil.which("seamlab", path=str(Path(sys.executable).parent))
    if not seamlab_cli:
        sys.exit("no seamlab executable next to this Python: run `make install`")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SEAMLAB_"))}
    modes = {"cold": {**base, "SEAMLAB_WARM": "0"}, "warm": {**base, "SEAMLAB_WARM": "1"}}

    print(f"seamlab check NN --target {args.target}, median of {args.runs} (after one warm-up "
          f"run each); {load()}")
    print(f"{'exercise':<34} {'cold s':>7} {'warm s':>7} {'tests s':>8} {'warm-tests':>10}  "
          "verdict")
    totals = {"cold": 0.0, "warm": 0.0, "tests": 0.0}
    for exercise in exercises:
        target = resolve_target(exercise, args.target)
        cli = [seamlab_cli, "check", exercise.id, "--target", str(target)]
        medians, tests, verdicts = {}, [], set()
        for mode, env in modes.items():
            check(cli, env)  # warm-up: page cache, template database, the warm server
            samples = [check(cli, env) for _ in range(args.runs)]
            medians[mode] = statistics.median(s[0] for s in samples)
            tests += [s[1] for s in samples]
            verdicts |= {s[2] for s in samples}
        tests_s = statistics.median(tests)
        for key, value in (("cold", medians["cold"]), ("warm", medians["warm"]),
                           ("tests", tests_s)):
            totals[key] += value
        print(f"{exercise.slug:<34} {medians['cold']:7.2f} {medians['warm']:7.2f} "
              f"{tests_s:8.2f} {medians['warm'] - tests_s:10.2f}  {'/'.join(sorted(verdicts))}",
              flush=True)
    print(f"{'all, one after another':<34} {totals['cold']:7.2f} {totals['warm']:7.2f} "
          f"{totals['tests']:8.2f} {totals['warm'] - totals['tests']:10.2f}")
    print(load())


if __name__ == "__main__":
    main()
