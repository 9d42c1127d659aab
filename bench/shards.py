"""One machine vs N shards: the commands of .github/workflows/autograde-class.yml, timed here.

    .venv/bin/python bench/shards.py [--learners 6] [--exercise 01 --exercise 09] [--shards 3]

Grades a synthetic class once unsharded (`seamlab autograde --shard 1/1`) and once as N shard
processes, one after another (each with its own --out, as N matrix jobs would), merges them
with `seamlab gradebook merge` and checks the merged gradebook equals the unsharded one. Prints
wall time per run, exercise-grades/min, the load average, and the wall time the N shards would
take side by side on N runners (the slowest shard). Needs the services and root (the sandbox).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seamlab import course as course_module
from seamlab.instructor.synthetic import make_class

ROOT = Path(__file__).resolve().parents[1]
SEAMLAB = str(Path(sys.executable).with_name("seamlab"))


def grade(subs: Path, out: Path, shard: str, exercises: list[str], workers: int) -> float:
    args = [SEAMLAB, "autograde", str(subs), "--out", str(out), "--shard", shard,
            "--workers", str(workers)]
    for ref in exercises:
        args += ["--exercise", ref]
    started = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=6)
    parser.add_argument("--exercise", action="append", default=None)
    parser.add_argument("--shards", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    course = course_module.load(ROOT)
    refs = args.exercise or ["01", "09"]
    jobs = args.learners * len(refs)
    with tempfile.TemporaryDirectory(prefix="seamlab-shards-") as tmp:
        tmp = Path(tmp)
        make_class(course, tmp / "subs", args.learners, [course.exercise(r) for r in refs])
        print(f"{args.learners} learners x {len(refs)} exercises ({' '.join(refs)}) = {jobs} "
              f"grades, {args.workers} workers, {os.cpu_count()} cores")
        load = os.getloadavg()[0]
        whole = grade(tmp / "subs", tmp / "whole", "1/1", refs, args.workers)
        print(f"unsharded: {whole:6.1f} s  ({jobs / whole * 60:5.1f} grades/min)  "
              f"load before {load:.1f}, after {os.getloadavg()[0]:.1f}")
        times = []
        for index in range(1, args.shards + 1):
            load = os.getloadavg()[0]
            seconds = grade(tmp / "subs", tmp / f"shard-{index}", f"{index}/{args.shards}", refs,
                            args.workers)
            graded = len(list((tmp / f"shard-{index}" / "results").glob("*/*.json")))
            times.append(seconds)
            print(f"shard {index}/{args.shards}: {seconds:6.1f} s  {graded} grades  "
                  f"load before {load:.1f}")
        shards = [str(tmp / f"shard-{i}") for i in range(1, args.shards + 1)]
        subprocess.run([SEAMLAB, "gradebook", "merge", str(tmp / "merged"), *shards],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        differ = [name for name in ("gradebook.csv", "gradebook.json", "report.html")
                  if not filecmp.cmp(tmp / "merged" / name, tmp / "whole" / name, shallow=False)]
        same = not differ
        for name in differ:
            diff = subprocess.run(["diff", str(tmp / "whole" / name), str(tmp / "merged" / name)],
                                  check=False, capture_output=True, text=True).stdout
            print(f"{name} differs (a test message with a random value differs between any two "
                  f"gradings, sharded or not):\n{diff[:1500]}")
        print(f"shards one after another: {sum(times):6.1f} s; side by side (slowest shard): "
              f"{max(times):6.1f} s; merged gradebook {'==' if same else '!='} unsharded")


if __name__ == "__main__":
    main(sys.argv[1:])
