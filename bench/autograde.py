"""Autograde throughput: a synthetic class graded with 1 and with 2 workers.

    .venv/bin/python bench/autograde.py [--learners 30] [--exercise 01 ...] [--workers 1 2]

Default: every exercise of course.toml. Autograde runs are cold (a fresh interpreter per run):
the sandbox gives each run its own uid, namespaces and jail, which a fork of the warm server
(`seamlab.warm`) cannot reproduce exactly, so confined runs never take the warm path.

The class is a mix of starters, solutions and partial fixes (some exercises solved, some not),
handed in as folders, zips and git repositories. Each run grades everything from scratch
(--force) in the sandbox and prints wall time and exercise-grades per minute. Needs the course
services (`seamlab up`) and root for the sandbox (or --no-sandbox).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from seamlab import course as course_module
from seamlab.instructor import autograde
from seamlab.instructor.synthetic import make_class

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--exercise", action="append", default=None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args(argv)
    course = course_module.load(ROOT)
    chosen = ([course.exercise(ref) for ref in args.exercise] if args.exercise
              else list(course.exercises))
    with tempfile.TemporaryDirectory(prefix="seamlab-bench-") as tmp:
        subs = Path(tmp) / "submissions"
        make_class(course, subs, args.learners, chosen)
        print(f"{args.learners} synthetic submissions x {len(chosen)} exercises "
              f"({', '.join(e.slug for e in chosen)}), sandbox "
              f"{'off' if args.no_sandbox else 'on'}; every run cold; {_load()}")
        for workers in args.workers:
            out = Path(tmp) / f"grades-{workers}"
            options = autograde.Options(workers=workers, force=True,
                                        exercises=tuple(e.id for e in chosen),
                                        sandbox=not args.no_sandbox)
            started = time.perf_counter()
            outcome = autograde.autograde(course, subs, out, options)
            wall = time.perf_counter() - started
            grades = len(outcome.graded)
            verdicts: dict[str, int] = {}
            for record in outcome.graded:
                verdicts[record.result.verdict] = verdicts.get(record.result.verdict, 0) + 1
            per_grade = sorted(r.result.duration for r in outcome.graded)
            median = per_grade[len(per_grade) // 2] if per_grade else 0.0
            print(f"workers={workers}: {grades} grades in {wall:.1f} s = "
                  f"{grades / wall * 60:.1f} exercise-grades/min "
                  f"(median {median:.2f} s per grade; {verdicts}); {_load()}", flush=True)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    main(sys.argv[1:])
