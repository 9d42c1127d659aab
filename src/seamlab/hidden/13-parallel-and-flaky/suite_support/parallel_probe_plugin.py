"""pytest plugin for exercise 13's runs of the learner's suite (`-p parallel_probe_plugin`).

Loaded in the xdist controller and in every worker. It

- shuffles the collected tests with the seed in PROBE_SEED (the same order in every worker,
  as xdist requires);
- notes, for every statement a worker's SQLAlchemy engines run on the leaderboard's tables, the
  database and schema those tables really are in (however the learner's code points there);
- records which Redis databases and keys each worker's redis-py clients touch, and every
  FLUSHDB / FLUSHALL;
- writes one JSON file per process into PROBE_DIR: workers their observations, the controller
  every test report (outcome, worker, the first lines of the error).
"""

from __future__ import annotations

import json
import os
import random
import re
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


#: The leaderboard's tables: a statement that names one (qualified or not) is where they live.
_TABLES = re.compile(r'(?:\b("?[A-Za-z_][\w$]*"?)\.)?"?\b(scores)\b"?', re.IGNORECASE)


def _watch_sqlalchemy() -> None:
    """For every statement that names a leaderboard table, note the database and the schema that
    table really is in (`to_regclass`: the search_path, a schema-qualified name or a
    schema_translate_map all count), once per pooled connection and name. Connections that never
    touch the tables (an administrative one that creates the schema) are not counted."""
    try:
        import sqlalchemy
        from sqlalchemy.engine import Engine
    except ImportError:
        return

    def before_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        try:
            names = {(m.group(1) or "", m.group(2)) for m in _TABLES.finditer(statement or "")}
            if not names:
                return
            record = conn.connection._connection_record
            info = record.info if record is not None else {}
            seen = info.setdefault("seamlab13_tables", set())
            dbapi = conn.connection.dbapi_connection
            for schema, table in names - seen:
                name = f"{schema}.{table}" if schema else table
                probe = dbapi.cursor()
                try:
                    probe.execute(
                        "SELECT current_database(), n.nspname FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.oid = to_regclass(%s)", (name,))
                    row = probe.fetchone()
                finally:
                    probe.close()
                if row:
                    seen.add((schema, table))
                    _state["namespaces"].add(f"{row[0]}/{row[1]}")
        except Exception as error:  # noqa: BLE001 - observing must never break the learner's run
            _state["observer_error"] = f"{type(error).__name__}: {error}"

    if not getattr(Engine, "_seamlab13_watched", False):
        sqlalchemy.event.listen(Engine, "before_cursor_execute", before_execute)
        Engine._seamlab13_watched = True


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
