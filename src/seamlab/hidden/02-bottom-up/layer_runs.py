"""Run the learner's layer tests in a child pytest, next to the correct layers or a planted fault.

The grader's hidden run is already a child process; this starts a grandchild for the learner's
test files, with our fixtures as their conftest (never the learner's), no plugin autoload, the
course's pytest.ini, the run's own database and mail provider, a per-test timeout and a
wall-clock limit, in its own process group. The grandchildren are forked from a warm
interpreter (`forked_pytest`) when it is up, which saves each of them the second it takes a
fresh one to import pytest, SQLAlchemy and FastAPI.
"""

from __future__ import annotations

import ast
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from forked_pytest import Forked, Zygote, ZygoteGone

from seamlab import pytest_child
from seamlab.grading.runner import INI_FILE

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
FAULTS = HERE / "faults"
FIXTURES = HERE / "layer_fixtures.py"
LAYER_TESTS = {
    "repository": "tests/test_repository_layer.py",
    "service": "tests/test_service_layer.py",
    "api": "tests/test_api_layer.py",
}


@dataclass(frozen=True)
class Fault:
    name: str  # file stem, "<layer>_<what>"
    layer: str
    mutates: str
    mistake: str
    path: Path


def faults() -> list[Fault]:
    found = []
    for path in sorted(FAULTS.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        mutates = text.splitlines()[0].split(":", 1)[1].strip()
        mistake = (ast.get_docstring(ast.parse(text)) or "").strip().splitlines()[0]
        found.append(Fault(path.stem, path.stem.split("_", 1)[0], mutates, mistake, path))
    return found


@dataclass
class LayerRun:
    label: str
    returncode: int | None
    output: str
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # test name -> first line of why

    @property
    def caught(self) -> bool:
        return self.returncode in (1, 2) or bool(self.failed)

    def describe(self) -> str:
        if self.returncode is None:
            return f"{self.label}: your tests did not finish in time"
        if self.returncode == 5:
            return f"{self.label}: pytest found no tests"
        if self.returncode == 4:
            return f"{self.label}: pytest could not run ({self.tail()})"
        parts = [f"{len(self.passed)} passed"]
        parts += [f"{name} failed ({why})" for name, why in self.failed.items()]
        if self.returncode not in (0, 1):
            parts.append(f"pytest exited with {self.returncode}: {self.tail()}")
        return f"{self.label}: " + "; ".join(parts)

    def tail(self) -> str:
        return " | ".join(self.output.strip().splitlines()[-3:])[:400]


def target_dir() -> Path:
    return Path(os.environ.get("SEAMLAB_TARGET_DIR", ".")).resolve()


def missing_layer_tests() -> list[str]:
    return [name for name in LAYER_TESTS.values() if not (target_dir() / name).is_file()]


def build(into: Path, fault: Fault | None = None) -> Path:
    """The correct layers (one replaced by ``fault``), the learner's layer tests, our conftest."""
    shutil.copytree(REFERENCE, into, ignore=shutil.ignore_patterns("__pycache__"))
    if fault is not None:
        shutil.copyfile(fault.path, into / fault.mutates)
    (into / "tests").mkdir()
    for name in LAYER_TESTS.values():
        source = target_dir() / name
        if source.is_file():
            shutil.copyfile(source, into / name)
    shutil.copyfile(FIXTURES, into / "conftest.py")
    return into


@dataclass
class Started:
    label: str
    folder: Path
    process: pytest_child.Running | None = None  # a fresh interpreter, or
    forked: Forked | None = None  # a child of the zygote


def pytest_args(folder: Path, tests: list[str], per_test: float) -> list[str]:
    return [
        *tests, "-q", "-p", "no:cacheprovider", "-c", str(INI_FILE), "--rootdir", str(folder),
        "--confcutdir", str(folder), "-p", "seamlab.pytest_plugin", "-p", "timeout",
        "--timeout", f"{per_test:g}", "--junitxml", str(folder / "results.xml"),
    ]  # fmt: skip


def child_env(folder: Path, service_env: dict[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SEAMLAB_", "TEST_"))
    }
    env.update(service_env)
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", SEAMLAB_TARGET_DIR=str(folder), SEAMLAB_ISOLATED="1"
    )
    return env


def start(
    label: str,
    folder: Path,
    tests: list[str],
    service_env: dict[str, str],
    per_test: float = 10.0,
    zygote: Zygote | None = None,
) -> Started:
    """Start the run: forked from ``zygote`` when there is one that answers, else a fresh
    ``python -I -B -m pytest`` (the same run, a second of start-up dearer)."""
    args = pytest_args(folder, tests, per_test)
    env = child_env(folder, service_env)
    if zygote is not None:
        try:
            return Started(label, folder, forked=zygote.fork(str(folder), folder, args, env))
        except ZygoteGone:
            pass
    # pytest_args already names the per-test timeout; the wall limit is finish()'s.
    spec = pytest_child.ChildSpec(args, folder, env, pytest_child.Limits(wall=3600.0))
    return Started(label, folder, process=pytest_child.start(spec))


def finish_all(
    started: list[Started], zygote: Zygote | None, wall: float = 30.0
) -> list[LayerRun]:
    """Wait for every run (each at most ``wall`` seconds) and read its results."""
    forked = [run.forked for run in started if run.forked is not None]
    if forked and zygote is not None:
        try:
            zygote.wait(forked, wall)
        except ZygoteGone as error:
            for run in forked:
                if not run.done:
                    run.returncode, run.done = None, True
                    run.output.write_text(f"(the run was lost: {error})", encoding="utf-8")
    return [finish(run, wall) for run in started]


def finish(started: Started, wall: float = 30.0) -> LayerRun:
    if started.forked is not None:
        result = LayerRun(started.label, started.forked.returncode, started.forked.read_output())
        _read_junit(started.folder / "results.xml", result)
        return result
    done = started.process.wait(timeout=wall)
    result = LayerRun(started.label, done.returncode, done.output)
    _read_junit(started.folder / "results.xml", result)
    return result


def _read_junit(path: Path, result: LayerRun) -> None:
    for case in pytest_child.read_junit(path) or []:
        if case.outcome == "passed":
            result.passed.append(case.name)
        elif case.outcome in ("failed", "error"):
            result.failed[case.name] = case.message[:300] or "no message"
