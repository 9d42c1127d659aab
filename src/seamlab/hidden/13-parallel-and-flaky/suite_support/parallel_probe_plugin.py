"""pytest plugin for exercise 13's runs of the learner's suite (`-p parallel_probe_plugin`).

Loaded in the xdist controller and in every worker. It

- shuffles the collected tests with the seed in PROBE_SEED (the same order in every worker,
  as xdist requires);
- tags every Postgres connection a worker opens with PGAPPNAME=<PROBE_TAG>-<worker>, and after
  each test asks pg_stat_activity which databases that worker's connections are in;
- records which Redis databases and keys each worker's redis-py clients touch, and every
  FLUSHDB / FLUSHALL;
- writes one JSON file per process into PROBE_DIR: workers their observations, the controller
  every test report (outcome, worker, the first lines of the error).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

_OBSERVER_APP = "seamlab13-observer"
_KEYLESS = {
    "PING", "FLUSHDB", "FLUSHALL", "SCAN", "KEYS", "INFO", "SELECT", "CLIENT", "CONFIG",
    "DBSIZE", "HELLO", "AUTH", "ECHO", "TIME", "MULTI", "EXEC", "DISCARD", "UNWATCH", "SCRIPT",
    "RANDOMKEY", "LASTSAVE", "COMMAND", "QUIT", "RESET", "MEMORY", "SLOWLOG", "WAIT",
}
_MULTI_KEY = {"DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH"}
_MAX_KEYS = 5000

_state: dict = {"databases": set(), "redis": {}, "observer_error": None}
_observer = None
_reports: list[dict] = []


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput") and bool(getattr(config.option, "numprocesses", None))


# --- order ------------------------------------------------------------------------------------
def pytest_collection_modifyitems(session, config, items) -> None:
    seed = os.environ.get("PROBE_SEED")
    if seed:
        random.Random(int(seed)).shuffle(items)


# --- Postgres: which database each worker's connections are in ---------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if _is_controller(config):
        return
    tag = os.environ.get("PROBE_TAG", "seamlab13")
    os.environ["PGAPPNAME"] = f"{tag}-{_worker()}"
    _patch_redis()


def _observe_databases() -> None:
    global _observer
    if _state["observer_error"]:
        return
    try:
        import psycopg

        from seamlab.config import Settings

        if _observer is None or _observer.closed:
            settings = Settings.from_env()
            _observer = psycopg.connect(
                settings.db_conninfo("postgres"),
                autocommit=True,
                connect_timeout=5,
                application_name=_OBSERVER_APP,
            )
        rows = _observer.execute(
            "SELECT DISTINCT datname FROM pg_stat_activity "
            "WHERE application_name = %s AND datname IS NOT NULL",
            (os.environ["PGAPPNAME"],),
        ).fetchall()
        _state["databases"].update(name for (name,) in rows)
    except Exception as error:  # noqa: BLE001 - observing must never break the learner's run
        _state["observer_error"] = f"{type(error).__name__}: {error}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield
    _observe_databases()


# --- Redis: which databases and keys each worker touches ---------------------------------------
def _record(client, args) -> None:
    try:
        kwargs = client.connection_pool.connection_kwargs
        where = f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"
        seen = _state["redis"].setdefault(where, {"keys": set(), "flushdb": 0, "flushall": 0})
        command = str(args[0]).upper() if args else ""
        if command == "FLUSHDB":
            seen["flushdb"] += 1
        elif command == "FLUSHALL":
            seen["flushall"] += 1
        elif command and command not in _KEYLESS and len(args) > 1:
            keys = args[1:] if command in _MULTI_KEY else args[1:2]
            for key in keys:
                if len(seen["keys"]) < _MAX_KEYS:
                    seen["keys"].add(key.decode() if isinstance(key, bytes) else str(key))
    except Exception:  # noqa: BLE001, S110 - observing must never break the learner's run
        pass


def _patch_redis() -> None:
    try:
        import redis.client
    except ImportError:
        return
    if getattr(redis.client.Redis, "_seamlab13_patched", False):
        return

    def wrap(method):
        def recorded(self, *args, **options):
            _record(self, args)
            return method(self, *args, **options)

        return recorded

    redis.client.Redis.execute_command = wrap(redis.client.Redis.execute_command)
    pipeline = redis.client.Pipeline
    for name in ("immediate_execute_command", "pipeline_execute_command"):
        if hasattr(pipeline, name):
            setattr(pipeline, name, wrap(getattr(pipeline, name)))
    redis.client.Redis._seamlab13_patched = True


# --- reports ----------------------------------------------------------------------------------
def pytest_runtest_logreport(report) -> None:
    node = getattr(report, "node", None)
    worker = node.gateway.id if node is not None else _worker()
    message = ""
    if report.failed:
        text = getattr(report, "longreprtext", "") or str(report.longrepr)
        errors = [line[2:].strip() for line in text.splitlines() if line.startswith("E ")]
        message = " ".join(errors[:3]) if errors else (text.strip().splitlines() or [""])[-1]
    _reports.append(
        {
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            "worker": worker,
            "message": message[:600],
        }
    )


def pytest_sessionfinish(session, exitstatus) -> None:
    folder = os.environ.get("PROBE_DIR")
    if not folder:
        return
    if hasattr(session.config, "workerinput"):
        data = {
            "worker": _worker(),
            "databases": sorted(_state["databases"]),
            "observer_error": _state["observer_error"],
            "redis": {
                where: {"keys": sorted(seen["keys"]), "flushdb": seen["flushdb"],
                        "flushall": seen["flushall"]}
                for where, seen in _state["redis"].items()
            },
        }
        name = f"worker-{_worker()}.json"
    else:
        data = {"exitstatus": int(exitstatus), "reports": _reports}
        name = "controller.json"
    Path(folder, name).write_text(json.dumps(data), encoding="utf-8")
    if _observer is not None and not _observer.closed:
        _observer.close()
