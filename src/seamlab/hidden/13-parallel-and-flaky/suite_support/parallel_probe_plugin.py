"""pytest plugin for exercise 13's runs of the learner's suite (`-p parallel_probe_plugin`).

Loaded in the xdist controller and in every worker. It

- shuffles the collected tests with the seed in PROBE_SEED (the same order in every worker,
  as xdist requires);
- notes, for every pooled SQLAlchemy connection a worker opens, its database and the schema its
  unqualified table names land in (the first schema of its search_path);
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

_KEYLESS = {
    "PING", "FLUSHDB", "FLUSHALL", "SCAN", "KEYS", "INFO", "SELECT", "CLIENT", "CONFIG",
    "DBSIZE", "HELLO", "AUTH", "ECHO", "TIME", "MULTI", "EXEC", "DISCARD", "UNWATCH", "SCRIPT",
    "RANDOMKEY", "LASTSAVE", "COMMAND", "QUIT", "RESET", "MEMORY", "SLOWLOG", "WAIT",
}
_MULTI_KEY = {"DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH"}
_MAX_KEYS = 5000

_state: dict = {"namespaces": set(), "redis": {}, "observer_error": None}
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


# --- Postgres: where each worker's tables are ---------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if _is_controller(config):
        return
    _watch_sqlalchemy()
    _patch_redis()


def _watch_sqlalchemy() -> None:
    """On the first checkout of every pooled connection, note its database and the schema its
    unqualified table names resolve to (the first schema of its search_path that exists)."""
    try:
        import sqlalchemy
        from sqlalchemy.pool import Pool
    except ImportError:
        return

    def on_checkout(dbapi_connection, record, proxy) -> None:
        if record.info.get("seamlab13_seen"):
            return
        record.info["seamlab13_seen"] = True
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT current_database(), (current_schemas(false))[1]")
                database, schema = cursor.fetchone()
            finally:
                cursor.close()
            if not getattr(dbapi_connection, "autocommit", False):
                dbapi_connection.rollback()  # leave the connection as the pool handed it out
            _state["namespaces"].add(f"{database}/{schema or '(no schema)'}")
        except Exception as error:  # noqa: BLE001 - observing must never break the learner's run
            _state["observer_error"] = f"{type(error).__name__}: {error}"
            try:
                dbapi_connection.rollback()
            except Exception:  # noqa: BLE001, S110 - best effort
                pass

    if not getattr(Pool, "_seamlab13_watched", False):
        sqlalchemy.event.listen(Pool, "checkout", on_checkout)
        Pool._seamlab13_watched = True


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
            "namespaces": sorted(_state["namespaces"]),
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
