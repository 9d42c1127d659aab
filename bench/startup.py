"""How long the embedded services take: cold start per service, warm `up`, clone, `down`.

Runs everything from a temporary project on free ports, so it never touches the course's own
services. Prints figures; asserts nothing.

    .venv/bin/python bench/startup.py [--skip-rabbitmq] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seamlab import backends, isolation
from seamlab.config import Settings
from seamlab.embedded.process import free_port


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-rabbitmq", action="store_true", help="RabbitMQ takes seconds")
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of the warm figures")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="seamlab-bench-"))
    root.chmod(0o755)  # the Postgres account must be able to reach the run dir when run as root
    settings = Settings(
        db_port=free_port(),
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        amqp_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
        mail_url=f"http://127.0.0.1:{free_port()}",
    )
    services = [s for s in backends.SERVICES if not (args.skip_rabbitmq and s == "rabbitmq")]
    folder = backends.run_dir(root)
    folder.mkdir(parents=True)
    print(f"project {root}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    try:
        print("\ncold start, one service at a time (start + wait until it answers):")
        for service in services:
            server = backends._server(service, folder, backends.port_of(settings, service))
            if not server.available():
                print(f"  {service:<9} not installed: {server.install_hint()}")
                continue
            if service == "postgres":
                server.home.mkdir(parents=True, exist_ok=True)
                server._owned_dir(server.home, 0o755)
                init = timed(server.initdb)
                start = timed(lambda s=server: (s.start(), s.wait_ready()))
                print(f"  postgres  initdb {init:6.2f} s   start->ready {start:6.2f} s")
            else:
                start = timed(lambda s=server: (s.start(), s.wait_ready()))
                print(f"  {service:<9} start->ready {start:6.2f} s")

        warm = [timed(lambda: backends.up(root, services, settings=settings))
                for _ in range(args.rounds)]
        print(f"\nwarm up() in-process (all reused): median {statistics.median(warm):.3f} s, "
              f"max {max(warm):.3f} s over {args.rounds}")

        env = {**os.environ, **settings.to_env(), "SEAMLAB_HOME": str(root)}
        seamlab = shutil.which("seamlab") or str(Path(sys.executable).parent / "seamlab")
        cli = [timed(lambda: subprocess.run([seamlab, "up"], env=env, capture_output=True,
                                            check=False)) for _ in range(min(args.rounds, 3))]
        print(f"warm `seamlab up` as a command (process start + imports + up): "
              f"median {statistics.median(cli):.2f} s")

        isolation.ensure_template(settings)
        clones = []
        for _ in range(args.rounds):
            with isolation.private_database(settings, prefix="seamlab_bench") as _name:
                pass
        for _ in range(args.rounds):
            name = isolation.database_name("seamlab_bench")
            clones.append(timed(lambda n=name: isolation.create_database(settings, n)))
            isolation.drop_database(settings, name)
        print(f"private database clone: median {statistics.median(clones) * 1000:.0f} ms")

        leases = []
        for _ in range(args.rounds):
            def lease():
                with isolation.private_redis_db(settings):
                    pass
            leases.append(timed(lease))
        print(f"private Redis db lease + release: median {statistics.median(leases) * 1000:.1f} ms")

        ready = [timed(lambda: backends.wait_ready(settings, ("postgres", "redis"), root=root))
                 for _ in range(args.rounds)]
        print(f"wait_ready(postgres, redis) when up: median {statistics.median(ready) * 1000:.1f} ms")
    finally:
        down = timed(lambda: backends.down(root, settings=settings))
        print(f"\ndown (stop everything): {down:.2f} s")
        pg_home = backends._server("postgres", folder, settings.db_port).home
        shutil.rmtree(pg_home, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
