"""How long does a learner wait for the verdict on a hang and on a memory hog?

Grades copies of an exercise's solution (default 01) in which one function the hidden tests
call is replaced by, in turn:
  - an endless loop (`while True: pass`: a CPU hang, not a sleep),
  - a sleep of five minutes (a hang that waits, as a lost lock or a dead socket would),
  - a 10 GB allocation (a memory hog),
and prints, for each, the wall time to the verdict, the verdict and its first line, next to the
per-test timeout in force. The goal (issue 10): a hang is judged in the per-test timeout plus a
few seconds (not one timeout per test), a memory hog in seconds, with its own message.
Asserts nothing; prints the load average with the figures.

    .venv/bin/python bench/verdicts.py [--exercise 01] [--timeout 5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BODIES = {
    "endless loop": "        while True:\n            pass\n",
    "sleep 300 s": "        import time\n        time.sleep(300)\n",
    "10 GB allocation": "        return b'x' * (10 << 30)\n",
}


def broken_copy(solution: Path, into: Path, module: str, method: str, body: str) -> Path:
    """The solution with ``def <method>(...):``'s body in ``module`` replaced by ``body``."""
    target = into / "learner"
    shutil.copytree(solution, target, ignore=shutil.ignore_patterns("__pycache__"))
    path = target / module
    source = path.read_text(encoding="utf-8")
    header = re.search(rf"^(\s*)def {method}\(.*?\).*?:\n", source, re.M | re.S)
    if header is None:
        raise SystemExit(f"{module} has no `def {method}(`: pick another with --function")
    # The body ends where the next line at the def's own indentation (or less) starts.
    indent = len(header.group(1))
    rest = source[header.end():].splitlines(keepends=True)
    end = next((i for i, line in enumerate(rest)
                if line.strip() and len(line) - len(line.lstrip()) <= indent), len(rest))
    docstring = '        """Replaced by bench/verdicts.py."""\n'
    path.write_text(source[:header.end()] + docstring + body + "".join(rest[end:]),
                    encoding="utf-8")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="01")
    parser.add_argument("--function", default="repository.py:add",
                        help="module:method whose body is replaced (a method of a class)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="per-test timeout (default: the manifest's or the grader's)")
    args = parser.parse_args()

    from seamlab import course
    from seamlab.grading import grade
    from seamlab.grading.engine import DEFAULT_TEST_TIMEOUT

    exercise = course.load(ROOT).exercise(args.exercise)
    module, method = args.function.split(":")
    per_test = args.timeout or exercise.test_timeout or DEFAULT_TEST_TIMEOUT
    print(f"exercise {exercise.id} ({exercise.slug}), {module}:{method} replaced; "
          f"per-test timeout {per_test:g} s; load average before: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{'learner code':<18} {'seconds':>8}  verdict        what the learner reads first")
    for label, body in BODIES.items():
        with tempfile.TemporaryDirectory(prefix="seamlab-verdicts-") as work:
            target = broken_copy(exercise.solution_folder, Path(work), module, method, body)
            started = time.perf_counter()
            result = grade(exercise, target=target, timeout=args.timeout)
            seconds = time.perf_counter() - started
        said = next((t.message for t in result.tests if t.message), result.summary)
        first = said.splitlines()[0][:90] if said else ""
        print(f"{label:<18} {seconds:8.2f}  {result.verdict:<14} {first}")
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
