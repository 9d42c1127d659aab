"""Run our own test suite K times and print how often each test failed: the flake count.

    .venv/bin/python bench/flakes.py --runs 5 --parallel 2 --hog 1

Each run happens in its own fresh clone of HEAD (its own .venv, built by `make install`), so
two runs at once share nothing but the services on the course ports, as two developers'
checkouts would. ``--parallel`` runs that many at once; ``--hog N`` keeps N CPU-bound
processes spinning for the whole time, to look for timing assumptions on a busy machine.
A test that failed in some runs and passed in others is a flake; one that failed in every run
is simply broken. Nothing here reruns a failure: the point is to count them and fix the cause.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _spin() -> None:  # pragma: no cover - a CPU hog, killed by the parent
    while True:
        pass


def _one_run(index: int, work: Path, pytest_args: list[str]) -> tuple[int, dict[str, str], float]:
    clone = work / f"run{index}"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    subprocess.run(["make", "-s", "install"], cwd=clone, check=True,
                   stdout=subprocess.DEVNULL)
    junit = work / f"run{index}.xml"
    started = time.monotonic()
    with open(work / f"run{index}.log", "w") as log:
        subprocess.run([str(clone / ".venv/bin/seamlab"), "up"], cwd=clone, stdout=log,
                       stderr=subprocess.STDOUT, check=False)
        subprocess.run([str(clone / ".venv/bin/pytest"), *pytest_args, f"--junitxml={junit}",
                        "tests"], cwd=clone, stdout=log, stderr=subprocess.STDOUT, check=False)
    return index, _outcomes(junit), time.monotonic() - started


def _outcomes(junit: Path) -> dict[str, str]:
    """nodeid -> passed / failed / skipped, from pytest's JUnit XML."""
    if not junit.exists():
        return {"<the whole run>": "failed"}
    found: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            found[name] = "failed"
        elif case.find("skipped") is not None:
            found[name] = "skipped"
        else:
            found[name] = "passed"
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=1, help="runs at once (separate clones)")
    parser.add_argument("--hog", type=int, default=0, help="CPU-bound processes beside the runs")
    parser.add_argument("--workers", default="2", help="xdist workers per run (pytest -n)")
    parser.add_argument("--keep", type=Path, help="folder for the clones and logs (kept)")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="seamlab-flakes-"))
    work.mkdir(parents=True, exist_ok=True)
    hogs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(args.hog)]
    for hog in hogs:
        hog.start()
    pytest_args = ["-q", "-n", args.workers, "-p", "no:cacheprovider"]
    failures: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    try:
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            jobs = [pool.submit(_one_run, i, work, pytest_args) for i in range(args.runs)]
            for job in jobs:
                index, outcomes, seconds = job.result()
                failed = sorted(n for n, o in outcomes.items() if o == "failed")
                load = os.getloadavg()[0]
                print(f"run {index}: {len(outcomes)} tests, {len(failed)} failed, "
                      f"{seconds:.0f} s, load {load:.1f}", flush=True)
                for name, outcome in outcomes.items():
                    seen[name] += outcome != "skipped"
                    failures[name] += outcome == "failed"
    finally:
        for hog in hogs:
            hog.terminate()
    print(f"\n{args.runs} runs ({args.parallel} at once, {args.hog} CPU hogs); logs in {work}")
    if not +failures:
        print("no test failed in any run")
        return 0
    print(f"{'failed':>6} {'of':>3}  test")
    for name, count in failures.most_common():
        if count:
            kind = "broken" if count == seen[name] else "flaky"
            print(f"{count:>6} {seen[name]:>3}  {name}  ({kind})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
