"""pytest plugin for the probe runs: private state per session, shuffled order, a JSON report.

Loaded with ``-p isolation_probe_plugin`` next to the learner's conftest.py. Environment:
``PROBE_RUN`` (a label), ``PROBE_SEED`` (shuffle seed; unset = file order), ``PROBE_REPORT``
(where the controller writes the JSON report).

Private state per session (when SEAMLAB_ISOLATED=1): every pytest session that runs tests (the single process, or each
xdist worker) gets its own Postgres schema (through ``PGOPTIONS=-c search_path=...``, so any
engine the learner builds lands there) and its own leased Redis database (through
``TEST_REDIS_URL``). Two workers never share rows or keys, so a per-test cleanup such as FLUSHDB
in one worker cannot disturb the other: the probes judge isolation *between tests*, which is
what the learner's fixtures are responsible for.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from pathlib import Path

import pytest

_config: pytest.Config | None = None
_reports: list[dict] = []
_cleanup: list = []


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _is_controller(config: pytest.Config) -> bool:
    return not _is_worker(config) and getattr(config.option, "numprocesses", None) not in (
        None,
        0,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    global _config
    _config = config
    # Without SEAMLAB_ISOLATED the seamlab plugin already leases a private database and Redis
    # database for every session; with it (grading), all sessions would share the run's.
    if _is_controller(config) or os.environ.get("SEAMLAB_ISOLATED") != "1":
        return
    _private_state(config)


def _private_state(config: pytest.Config) -> None:
    import psycopg
    from psycopg import sql

    from seamlab.config import Settings
    from seamlab.isolation import private_redis_db

    settings = Settings.from_env()
    worker = config.workerinput["workerid"] if _is_worker(config) else "main"
    schema = f"probe_{worker}_{secrets.token_hex(3)}"
    os.environ.pop("PGOPTIONS", None)
    with psycopg.connect(settings.db_conninfo(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    os.environ["PGOPTIONS"] = f"-c search_path={schema}"

    # Lease from the server's own registry in db 0. (With a URL naming another db, redis-py's
    # from_url lets the URL's db win over db=0, and the lease would be recorded in the wrong
    # place, where other processes cannot see it.)
    lease = private_redis_db(settings.with_redis_db(0))
    index = lease.__enter__()
    os.environ["TEST_REDIS_URL"] = settings.with_redis_db(index).redis_url

    def drop() -> None:
        lease.__exit__(None, None, None)
        os.environ.pop("PGOPTIONS", None)
        with psycopg.connect(settings.db_conninfo(), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))

    _cleanup.append(drop)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _cleanup:
        try:
            _cleanup.pop()()
        except Exception as error:  # noqa: BLE001 - best effort; the grader drops the database
            print(f"probe cleanup: {type(error).__name__}: {error}")


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    seed = os.environ.get("PROBE_SEED")
    if seed:
        items.sort(key=lambda item: item.nodeid)
        random.Random(int(seed)).shuffle(items)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _config is None or _is_worker(_config):
        return
    node = getattr(report, "node", None)
    gateway = getattr(node, "gateway", None)
    _reports.append(
        {
            "nodeid": report.nodeid,
            "name": report.nodeid.rsplit("::", 1)[-1],
            "when": report.when,
            "outcome": report.outcome,
            "duration": report.duration,
            "worker": getattr(gateway, "id", "main"),
            "message": _message(report),
            "properties": [list(pair) for pair in getattr(report, "user_properties", [])],
        }
    )


def _message(report: pytest.TestReport) -> str:
    if report.passed:
        return ""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text[:1500]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_worker(session.config):
        return
    path = os.environ.get("PROBE_REPORT")
    if path:
        Path(path).write_text(
            json.dumps({"exitstatus": int(exitstatus), "reports": _reports}), encoding="utf-8"
        )
