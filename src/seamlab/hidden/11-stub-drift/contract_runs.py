"""Run the learner's own contract tests in a child pytest, next to their code, and read results.

The grader's hidden run is already a child process; this starts a grandchild for the learner's
test file, with our fixtures as its conftest (never the learner's), no plugin autoload, the
course's pytest.ini, a per-test timeout and a wall-clock limit: a `seamlab.pytest_child` run.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from seamlab import pytest_child
from seamlab.grading.runner import INI_FILE

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "contract_fixtures.py"
CONTRACT_TESTS = "tests/test_mail_contract.py"


@dataclass
class LearnerRun:
    label: str
    returncode: int | None
    output: str
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # test name -> first line of why

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def describe(self) -> str:
        if self.timed_out:
            return f"{self.label}: your tests did not finish in time."
        if self.returncode == 5:
            return f"{self.label}: pytest found no tests in {CONTRACT_TESTS}."
        parts = [f"{len(self.passed)} passed"]
        parts += [f"{name} failed ({why})" for name, why in self.failed.items()]
        if self.returncode not in (0, 1):
            tail = " | ".join(self.output.strip().splitlines()[-3:])
            parts.append(f"pytest exited with {self.returncode}: {tail}")
        return f"{self.label}: " + "; ".join(parts) + "."


def target_dir() -> Path:
    return Path(os.environ.get("SEAMLAB_TARGET_DIR", ".")).resolve()


def copy_learner_code(into: Path) -> Path:
    """The learner's modules and contract tests, with our fixtures as the only conftest."""
    source = target_dir()
    into.mkdir(parents=True)
    for module in source.glob("*.py"):
        if module.name != "conftest.py":
            shutil.copyfile(module, into / module.name)
    (into / "tests").mkdir()
    shutil.copyfile(source / CONTRACT_TESTS, into / CONTRACT_TESTS)
    shutil.copyfile(FIXTURES, into / "conftest.py")
    return into


def start(folder: Path, env_extra: dict[str, str], per_test: float = 15.0,
          wall: float = 60.0) -> pytest_child.Running:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SEAMLAB_"))}
    env.update(env_extra)
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", SEAMLAB_TARGET_DIR=str(folder), SEAMLAB_ISOLATED="1"
    )
    args = [
        CONTRACT_TESTS, "-q", "-p", "no:cacheprovider", "-c", str(INI_FILE),
        "--rootdir", str(folder), "--confcutdir", str(folder), "-p", "seamlab.pytest_plugin",
        "--junitxml", str(folder / "results.xml"),
    ]  # fmt: skip
    limits = pytest_child.Limits(wall=wall, per_test=per_test)
    return pytest_child.start(pytest_child.ChildSpec(args, folder, env, limits))


def finish(label: str, folder: Path, process: pytest_child.Running) -> LearnerRun:
    done = process.wait()
    run = LearnerRun(label, done.returncode, done.output)
    for case in pytest_child.read_junit(folder / "results.xml") or []:
        if case.outcome == "passed":
            run.passed.append(case.name)
        elif case.outcome in ("failed", "error"):
            run.failed[case.name] = case.message[:300] or "no message"
    return run
