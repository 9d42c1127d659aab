# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Integration tests in CI
#
# **Objectives**
#
# - Run the suite against service containers with timeouts and fail-fast
# - Run tests in parallel without sharing a database between workers
# - Find the cause of a flaky test instead of rerunning it

# %% [markdown]
# On your machine, `seamlab up` provides the services. In CI, the same topology comes from
# **service containers**: containers the CI system starts next to the job, on known ports,
# and waits for until their healthchecks pass. The course ships a GitHub Actions workflow that
# re-runs these notebooks against your exercises; here is what it declares:

# %%
import yaml

from seamlab import lab
from seamlab.paths import project_root

work = lab.workdir()  # this notebook's scratch folder for the test files below

workflow = yaml.safe_load((project_root() / ".github/workflows/learner-ci.yml").read_text())
job = workflow["jobs"]["notebooks"]
for name, service in job["services"].items():
    health = service["options"].split("--health-cmd ")[1].split(" --health-")[0]
    print(f"{name:<9} {service['image']:<19} ports {service['ports'][0]:<10} health: {health}")
print("TEST_* set for the job:", ", ".join(sorted(job["env"])))
print("test step:", job["steps"][-1]["run"])

# %% [markdown]
# Three details carry the weight:
#
# - `--health-cmd` makes the runner wait until Postgres, Redis and RabbitMQ **answer**, not
#   merely until their containers exist (chapter 03).
# - The job's `TEST_*` variables point the tests at those containers; nothing else changes
#   between your laptop and CI.
# - The same ports as the course (5433, 6380, 5673), so the notebooks' outputs match exactly.
#
# ## `--timeout`: a hung test must fail, not hang the job
#
# An integration test can wait forever: for a message that never comes, a lock never
# released, a socket with no timeout. Without a limit the CI job sits until the platform kills
# it after hours, with no hint of which test hung. `pytest-timeout` fails the **test** instead.
#
# `-x` (stop at the first failure) is the other half for local work: when the database is
# down, you want one failure, not three hundred.
#
# **Predict, then run.** Three tests, the second waits for an event nobody sends. With
# `--timeout=2 -x`, what happens to each?

# %%
# %%writefile {work}/test_hang.py
import threading


def test_before():
    assert True


def test_waits_for_an_event_that_never_comes():
    never = threading.Event()
    never.wait()  # no timeout: the bug


def test_after():
    assert True

# %%
run = lab.run_tests(
    "test_hang.py",
    args=["--timeout=2", "--timeout-method=signal", "-x"],
    plugins=["pytest_timeout"],
    show=False,
)
for outcome in run.outcomes:
    print(f"{outcome.outcome:<7} {outcome.nodeid.split('::')[1]:<42} {outcome.message[:60]}")
print("tests that never ran:", 3 - len(run.outcomes))

# %% [markdown]
# The hung test fails after two seconds with a message naming it, and `-x` stops the run.
# Set the timeout well above your slowest honest test (the course uses 60 s per test, 120 s
# per notebook cell) and treat every timeout as a bug to find, not a number to raise.
#
# ## `-n auto`: parallel, but not sharing
#
# `pytest-xdist` runs tests in several worker processes. It is the cheapest speed-up there is,
# and it breaks every suite whose tests share state. Two workers, one database: tests that
# create the same table, or count rows, collide.
#
# **Predict, then run.** The suite below creates the table it needs once per session and,
# like many suites, never drops it. First two sessions one after the other on **one shared**
# database (what two workers or two CI jobs do), then two workers with the course plugin's
# default: a **private database per worker**, cloned from a template.

# %%
# %%writefile {work}/test_inbox.py
import pytest
from sqlalchemy import text


@pytest.fixture(scope="session", autouse=True)
def inbox_table(db_engine):
    """The suite's setup: create the table it needs (like many suites, it never drops it)."""
    with db_engine.begin() as conn:
        conn.execute(text("CREATE TABLE inbox (id serial PRIMARY KEY, body text)"))


@pytest.mark.parametrize("n", range(4))
def test_a_message_can_be_stored(db_session, n):
    db_session.execute(text("INSERT INTO inbox (body) VALUES ('hello')"))
    assert db_session.execute(text("SELECT count(*) FROM inbox")).scalar() == 1

# %%
box = lab.sandbox()
shared_env = {"SEAMLAB_ISOLATED": "1", **box.settings.to_env()}  # use this one database as is
for attempt in ("first", "second"):
    run = lab.run_tests("test_inbox.py", env=shared_env, show=False)
    reason = " (the table is already there)" if "DuplicateTable" in run.output else ""
    print(f"{attempt} session on one shared database -> all 4 passed: {run.passed}{reason}")
with box.connect() as conn:
    conn.execute("DROP TABLE IF EXISTS inbox")  # the shared runs' leftover

run = lab.run_tests(
    "test_inbox.py",
    args=["-n", "2"],
    plugins=["seamlab.pytest_plugin", "xdist.plugin"],
    show=False,
)
print(f"-n 2, a database per worker           -> all 4 passed: {run.passed}")

# %% [markdown]
# On one shared database, the second session finds the first one's table and every test
# errors. Many things are "second sessions": two xdist workers, two CI jobs on one database
# server, today's run after yesterday's crashed one. With parallel workers it is worse: who
# comes second changes with timing, so the failure moves around.
#
# With a database per worker the same tests pass every time. The course's pytest plugin does
# this for you: each pytest session, and so each xdist worker, leases its own database (cloned
# from a template) and Redis db, and drops them at the end. Without such a plugin:
#
# - give each worker its own names (xdist sets `PYTEST_XDIST_WORKER` to `gw0`, `gw1`, ...), or
# - run the integration tests serially.
#
# ## Flaky tests: reruns are debt
#
# A test that sometimes fails with no change to the code is **flaky**. The usual reflex is
# `@pytest.mark.flaky(reruns=2)`: run it again until it passes. That hides the failure from
# the dashboard, and keeps the cause, which is nearly always one of:
#
# - waiting by `sleep` instead of polling (chapter 08);
# - shared state between tests or workers (chapter 06, and above);
# - a real service with no timeout, or a real race in the code under test.
#
# Here is a typical one: a background worker finishes "soon", and the test sleeps a little
# before looking. We run it 30 times in one session.

# %%
# %%writefile {work}/test_job.py
import random
import threading
import time

import pytest

from seamlab.waiting import wait_for


def start_job(results):
    def work():
        time.sleep(random.uniform(0, 0.02))  # the real world: sometimes quick, sometimes not
        results.append("done")
    threading.Thread(target=work).start()


@pytest.mark.parametrize("attempt", range(30))
def test_job_finishes_sleep_version(attempt):
    results = []
    start_job(results)
    time.sleep(0.01)
    assert results == ["done"]


@pytest.mark.parametrize("attempt", range(30))
def test_job_finishes_polling_version(attempt):
    results = []
    start_job(results)
    wait_for(lambda: results, timeout=2, what="the job to finish")
    assert results == ["done"]

# %% [markdown]
# **Predict, then run.** Which version fails some of its 30 runs?

# %%
run = lab.run_tests("test_job.py", show=False)
sleepy = [o for o in run.outcomes if "sleep_version" in o.nodeid]
polling = [o for o in run.outcomes if "polling_version" in o.nodeid]
print("sleep version:   some of 30 runs failed:", any(o.outcome == "failed" for o in sleepy))
print("polling version: all 30 runs passed:   ", all(o.outcome == "passed" for o in polling))

# %% [markdown]
# How much would reruns have hidden? With the failure rate just measured (it changes from run
# to run), the chance that a test with two reruns still fails is that rate cubed:

# %%
# NBVAL_IGNORE_OUTPUT
rate = sum(o.outcome == "failed" for o in sleepy) / len(sleepy)
print(f"measured failure rate of the sleep version: {rate:.0%}")
print(f"with 2 reruns, the suite goes red only {rate ** 3:.1%} of the time; the race is still there")

# %% [markdown]
# Reruns turn a loud, frequent failure into a rare, confusing one, and teach the team to
# ignore red builds. If you must quarantine a flaky test, do it with a ticket and a date, and
# fix the cause: here, replace the sleep with `wait_for`.
#
# ## A checklist for the CI job
#
# - Services as containers with health checks; tests configured only by `TEST_*` variables.
# - `--timeout` on every test; `-x` locally, the full report in CI.
# - `-n auto` only with per-worker isolation (private database and Redis db per worker).
# - No retries as a fix; each flaky test gets a cause.
# - The notebooks too: `pytest -p nbval --nbval notebooks --nbval-sanitize-with notebooks/sanitize.cfg`
#   (see the course README for the exact command).

# %% [markdown]
# ## Key points
#
# - Service containers with health checks give CI the same services as your laptop; `TEST_*`
#   variables are the only switch.
# - `--timeout` turns a hung test into a named failure; `-x` stops at the first failure.
# - Parallel workers need isolated state; a database per worker makes `-n auto` safe.
# - A rerun hides a flaky test's cause; find it (sleep, shared state, missing timeout).
#
# **Your turn:** `13-parallel-and-flaky` (green alone, red together). Run `seamlab check 13`,
# or the cell below. Then push your course folder to GitHub and watch `learner-ci` re-run these
# notebooks against your exercises.

# %%
import seamlab

passed = seamlab.check("13")
