"""Exercise 13: the learner's suite must pass under `pytest -n 2`, in any order, every time,
without reruns and without fixed sleeps.

The suite (the learner's tests/ next to a pristine copy of the leaderboard code) is run three
times, each time shuffled with another seed, over two xdist workers. While it runs, a small
plugin watches where each worker keeps its tables (database and schema) and which Redis keys it
uses, so sharing is caught even in a run where the timing happened to be lucky. The learner's files are also read
with `ast` for rerun markers and sleeps.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

#: The shuffle seeds of the three runs (the same tuple as conftest.SEEDS, which runs them).
SEEDS = (1301, 2602, 3903)
#: The key planted for "another test run" (the same value as conftest.PLANTED_KEY).
PLANTED_KEY = "another-run:leaderboard:top"

# Three runs of the learner's suite happen in the first test's setup: allow for them.
pytestmark = pytest.mark.timeout(110)

MAINTENANCE = {"postgres", "template0", "template1"}
#: Rerun plugins (pytest-rerunfailures, flaky, pytest-retry): importing one, or its marker or
#: decorator, reruns a failing test. A name that merely contains "retry" (a helper that polls)
#: is not one.
RERUN_MODULES = ("flaky", "pytest_rerunfailures", "pytest_retry")
RERUN_MARKS = ("flaky",)


def _run_problems(run) -> list[str]:
    if run.timed_out:
        return [f"the run did not finish within {run.limit:g} s and was stopped; its output ends:\n"
                + _tail(run.output)]
    if run.controller is None or not run.ran():
        return [f"no test ran (exit code {run.returncode}); the output ends:\n" + _tail(run.output)]
    lines = []
    for report in run.failures():
        phase = "" if report["when"] == "call" else f" (in fixture {report['when']})"
        lines.append(f"{report['nodeid']} on {report['worker']}{phase}: {report['message']}")
    if not lines and run.returncode != 0:
        lines.append(f"pytest exited with code {run.returncode}; the output ends:\n"
                     + _tail(run.output))
    return lines


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# Not marked `seam`: on the starter a run fails only when the timing exposes the sharing (most
# runs, not all). The tests below catch the sharing itself, every time.
@pytest.mark.parametrize("index", range(len(SEEDS)), ids=[f"seed-{seed}" for seed in SEEDS])
def test_the_suite_passes_under_two_workers_in_a_shuffled_order(suite, index):
    run = suite.runs[index]
    assert run.seed == SEEDS[index], "conftest.SEEDS and this module's SEEDS disagree"
    problems = _run_problems(run)
    advice = (
        "\nThe same suite passes when run alone, one test after another. Under -n 2 two "
        "worker processes run tests at the same time: whatever they share (a database, "
        "tables, Redis keys) one of them can change under the other's feet."
    )
    if any(PLANTED_KEY in line for line in problems):
        advice = (
            f"\nThe key {PLANTED_KEY!r} belongs to another test run using the same Redis "
            f"database (the check keeps it there during every run, as a CI job next to yours "
            f"would). A test that lists every key (KEYS *, SCAN without a match pattern, "
            f"DBSIZE) sees it: look only at your own namespace's keys."
        )
    elif any("permission denied to create database" in line for line in problems):
        advice = (
            "\nThe check runs your suite as the owner of one private database, without the "
            "right to create others (so a mistake cannot reach other runs). Give each worker a "
            "schema of its own in that database instead (see the README)."
        )
    assert not problems, (
        f"Ran your tests with {run.label}: {len(problems)} problem(s):\n  - "
        + "\n  - ".join(problems)
        + advice
    )


@pytest.mark.seam
def test_no_two_workers_share_their_tables(suite):
    shared = []
    for run in suite.runs:
        users: dict[str, list[str]] = {}
        for worker, data in sorted(run.workers.items()):
            for namespace in data["namespaces"]:
                if namespace.partition("/")[0] not in MAINTENANCE:
                    users.setdefault(namespace, []).append(worker)
        for namespace, workers in users.items():
            if len(workers) > 1:
                database, _, schema = namespace.partition("/")
                shared.append(
                    f"{' and '.join(workers)} both kept their tables in schema {schema!r} of "
                    f"database {database!r}"
                )
    assert not shared, (
        "Your workers share their tables:\n  - " + "\n  - ".join(sorted(set(shared))) + "\n"
        "One worker's DELETE or create_all() then runs in the middle of the other's test. Give "
        "each worker its own schema (CREATE SCHEMA named after its worker_id, and an engine "
        "whose search_path is that schema), or its own database where you may create one; "
        "drop it at the end of the session."
    )


@pytest.mark.seam
def test_no_worker_wipes_or_shares_another_workers_redis_keys(suite):
    # The same finding in several runs is one problem: say it once, with the runs' seeds.
    problems: dict[str, list[int]] = {}

    def found(problem: str, seed: int) -> None:
        seeds = problems.setdefault(problem, [])
        if seed not in seeds:
            seeds.append(seed)

    for run in suite.runs:
        if run.planted_key_gone:
            found(
                f"the key {PLANTED_KEY!r}, which another test run keeps in the same Redis "
                f"database, was deleted during the run: a cleanup removed keys outside its "
                f"own namespace",
                run.seed,
            )
        seen: dict[str, dict[str, dict]] = {}
        for worker, data in sorted(run.workers.items()):
            for where, usage in data["redis"].items():
                seen.setdefault(where, {})[worker] = usage
        for where, by_worker in seen.items():
            db = where.rsplit("/", 1)[-1]
            for worker, usage in by_worker.items():
                if usage["flushall"]:
                    found(
                        f"{worker} called FLUSHALL, which empties every Redis database on the "
                        f"server, other test runs' included",
                        run.seed,
                    )
                others = [w for w in by_worker if w != worker]
                if usage["flushdb"] and others:
                    found(
                        f"{worker} called FLUSHDB on Redis database {db} while "
                        f"{' and '.join(others)} kept keys there",
                        run.seed,
                    )
            if len(by_worker) > 1:
                common = set.intersection(*(set(u["keys"]) for u in by_worker.values()))
                if common:
                    shown = ", ".join(sorted(common)[:5])
                    found(
                        f"{' and '.join(sorted(by_worker))} both used the keys {shown} in Redis "
                        f"database {db}",
                        run.seed,
                    )
    lines = [
        f"{problem} (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
        for problem, seeds in problems.items()
    ]
    assert not lines, (
        "Your workers step on each other's Redis keys:\n  - "
        + "\n  - ".join(lines)
        + "\nGive each worker its own key namespace (LeaderboardCache takes a `namespace`; build "
        "it from worker_id) and clean up by deleting that namespace's keys (SCAN with a match "
        "pattern, then DEL) instead of flushing the database everybody shares."
    )


@pytest.mark.seam
def test_no_test_is_rerun_or_waits_with_a_fixed_sleep(target_dir):
    problems = []
    for path in sorted((target_dir / "tests").rglob("*.py")):
        problems += [f"{path.relative_to(target_dir)}:{line}: {what}"
                     for line, what in _suspicious(path)]
    assert not problems, (
        "Your tests still lean on luck:\n  - " + "\n  - ".join(problems) + "\n"
        "A rerun marker hides a failure instead of explaining it, and a fixed sleep is either "
        "too short on a busy CI machine or wasted time everywhere else. Wait for the thing you "
        "need by asking again and again until a deadline (seamlab.waiting.wait_for, or a loop "
        "of your own), and remove the rerun markers."
    )


def test_the_suite_removes_the_schemas_or_databases_it_creates(suite):
    left = suite.leftovers()
    assert not left, (
        f"After the three runs, what your workers created was still there: {', '.join(left)}. "
        f"Each run would leave more behind (and the next run's CREATE fails when it reuses the "
        f"name). Drop each worker's schema (DROP SCHEMA <name> CASCADE) or database (DROP "
        f"DATABASE <name> WITH (FORCE)) at the end of its session."
    )


# --- reading the learner's files ---------------------------------------------------------------
def _suspicious(path: Path) -> list[tuple[int, str]]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as error:
        return [(error.lineno or 0, f"cannot be parsed: {error.msg}")]
    finder = _Finder()
    finder.visit(tree)
    found: dict[int, str] = {}
    for line, what in sorted(finder.found):
        found.setdefault(line, what)  # one finding per line is enough
    return sorted(found.items())


class _Finder(ast.NodeVisitor):
    """Rerun markers and imports anywhere; sleep() calls that are not inside a polling loop."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self.sleep_names: set[str] = set()
        self.rerun_names: set[str] = set()
        self.loops = 0

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in RERUN_MODULES:
                self.found.append((node.lineno, f"imports {alias.name} (a rerun plugin)"))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if module.split(".")[0] in RERUN_MODULES:
                self.found.append((node.lineno, f"imports {alias.name} from {module} (a rerun "
                                                f"plugin)"))
                self.rerun_names.add(alias.asname or alias.name)
            if module in ("time", "asyncio", "gevent", "trio") and alias.name == "sleep":
                self.sleep_names.add(alias.asname or alias.name)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Attribute) and node.value.attr == "mark" and (
            node.attr in RERUN_MARKS
        ):
            self.found.append((node.lineno, f"marks a test with pytest.mark.{node.attr}"))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and any(
            flag in node.value for flag in ("--reruns", "--retries", "--force-flaky")
        ):
            self.found.append((node.lineno, "adds a rerun option to the command line"))

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg in ("reruns", "max_runs", "reruns_delay"):
            self.found.append((node.value.lineno, f"passes {node.arg}= (a rerun setting)"))
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(target, ast.Name) and target.id in self.rerun_names:
                self.found.append((decorator.lineno, f"decorates {node.name} with @{target.id}"))
        loops, self.loops = self.loops, 0  # a loop around a def does not make its body a loop
        self.generic_visit(node)
        self.loops = loops

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _loop(self, node) -> None:
        polls = _polls(node)
        self.loops += polls
        self.generic_visit(node)
        self.loops -= polls

    visit_While = visit_For = visit_AsyncFor = _loop  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        is_sleep = (isinstance(func, ast.Attribute) and func.attr == "sleep") or (
            isinstance(func, ast.Name) and func.id in self.sleep_names
        )
        if is_sleep and not self.loops:
            what = "sleeps a fixed time instead of waiting for something (not in a polling loop)"
            self.found.append((node.lineno, what))
        self.generic_visit(node)


def _polls(loop: ast.For | ast.AsyncFor | ast.While) -> bool:
    """A loop that can ask again: it may run more than once, and it looks at something each time
    (a condition in `while`, an `if`, a `break`/`return`). `for _ in range(1): sleep(1)` and a
    loop that only sleeps N times are fixed sleeps."""
    if isinstance(loop, (ast.For, ast.AsyncFor)):
        count = _fixed_count(loop.iter)
        if count is not None and count < 2:
            return False
    elif isinstance(loop.test, ast.Constant) and not loop.test.value:
        return False
    asks = isinstance(loop, ast.While) and not isinstance(loop.test, ast.Constant)
    for child in ast.walk(loop):
        if child is not loop and isinstance(child, (ast.If, ast.Break, ast.Return, ast.Assert,
                                                    ast.Raise, ast.IfExp, ast.Try)):
            asks = True
    return asks


def _fixed_count(iterable: ast.expr) -> int | None:
    """How many times a `for` over `range(<constant>)` or a literal runs; None when not known."""
    if isinstance(iterable, (ast.List, ast.Tuple, ast.Set)):
        return len(iterable.elts)
    if isinstance(iterable, ast.Constant) and isinstance(iterable.value, (str, bytes)):
        return len(iterable.value)
    if (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "range" and iterable.args
            and all(isinstance(a, ast.Constant) and isinstance(a.value, int)
                    for a in iterable.args)):
        return len(range(*(a.value for a in iterable.args)))
    return None
