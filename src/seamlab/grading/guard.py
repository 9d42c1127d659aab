"""Learner code in a grading run gets credentials that can only hurt its own private state.

A learner's code may ``DROP SCHEMA public CASCADE`` or call ``FLUSHALL`` (by mistake, or while
"cleaning up"). Inside the run's own database that is harmless; across the server it would
wipe other runs' data. So the child connects as:

- Postgres role ``seamlab_learner`` (not a superuser), made owner of the run's private
  database: it may do anything inside it, and cannot drop the template or other databases;
- Redis ACL user ``seamlab_learner``: every command except the ones that reach beyond one
  database (``FLUSHALL``, ``SWAPDB``, ``MOVE``) or the server (``CONFIG``, ``SHUTDOWN``...).

Both are created idempotently the first time a process grades. When the server refuses (a
managed service named in TEST_* where we may not create roles), runs use the given
credentials unchanged: grading still works, only without this protection.
"""

from __future__ import annotations

import contextlib
import threading
from urllib.parse import quote, urlsplit, urlunsplit

from seamlab.config import Settings

LEARNER = "seamlab_learner"
#: Not a secret: the role exists to restrict commands, not to keep anyone out.
LEARNER_PASSWORD = "seamlab_learner"
#: CONFIG GET stays allowed: seamlab.isolation reads `databases` with it to lease an index.
DENIED_REDIS = ("flushall", "swapdb", "move", "config|set", "config|rewrite",
                "config|resetstat", "shutdown", "acl", "debug", "module",
                "replicaof", "slaveof", "failover", "monitor", "sync", "psync", "save",
                "bgsave", "bgrewriteaof", "migrate", "cluster", "client|kill", "client|pause")

_lock = threading.Lock()
_ready: dict[tuple[str, str], bool] = {}


def _once(key: tuple[str, str], create) -> bool:
    with _lock:
        if key not in _ready:
            try:
                create()
                _ready[key] = True
            except Exception:  # noqa: BLE001 - any refusal means: run without the guard
                _ready[key] = False
        return _ready[key]


def _create_postgres_role(settings: Settings) -> None:
    from seamlab import isolation

    with isolation.connect_admin(settings) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (LEARNER,)).fetchone()
        if not exists:
            try:
                conn.execute(
                    f"CREATE ROLE {LEARNER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    f"PASSWORD '{LEARNER_PASSWORD}'"
                )
            except Exception:
                # Another process created it between our check and CREATE: fine if it exists now.
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s",
                                    (LEARNER,)).fetchone():
                    raise


def _create_redis_user(settings: Settings) -> None:
    import redis

    from seamlab import isolation

    client = isolation.redis_client(settings, db=0)
    try:
        try:
            client.execute_command("ACL", "SETUSER", LEARNER, *redis_rules())
        except redis.ResponseError:
            # Redis 6 cannot deny a single subcommand (`-config|set`): deny the whole command
            # and allow back the subcommands redis-py and seamlab.isolation use.
            client.execute_command("ACL", "SETUSER", LEARNER, *redis_rules(subcommands=False))
    finally:
        client.close()


def redis_rules(subcommands: bool = True) -> list[str]:
    """ACL SETUSER rules for the learner user (Redis 7 syntax, or Redis 6's when not
    ``subcommands``)."""
    rules = ["reset", "on", f">{LEARNER_PASSWORD}", "~*", "&*", "+@all"]
    if subcommands:
        return rules + [f"-{command}" for command in DENIED_REDIS]
    whole = sorted({command.split("|")[0] for command in DENIED_REDIS})
    allowed = ["config|get", "client|setname", "client|getname", "client|id", "client|info"]
    return rules + [f"-{command}" for command in whole] + [f"+{sub}" for sub in allowed]


def restrict(settings: Settings, database: str) -> Settings:
    """Settings for the child: the learner credentials where the servers allow them.

    ``settings`` already point at the private database and Redis db; ``database`` is handed
    to the learner role.
    """
    from seamlab import isolation

    restricted = settings
    if _once(("postgres", settings.db_where), lambda: _create_postgres_role(settings)):
        # On refusal, fall back to the given credentials.
        with contextlib.suppress(Exception), isolation.connect_admin(settings) as conn:
            conn.execute(f'ALTER DATABASE "{database}" OWNER TO {LEARNER}')
            restricted = _replace_db_user(restricted)
    if _once(("redis", settings.redis_where), lambda: _create_redis_user(settings)):
        restricted = _with_redis_user(restricted)
    return restricted


def _replace_db_user(settings: Settings) -> Settings:
    from dataclasses import replace

    return replace(settings, db_user=LEARNER, db_password=LEARNER_PASSWORD)


def _with_redis_user(settings: Settings) -> Settings:
    from dataclasses import replace

    parts = urlsplit(settings.redis_url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(LEARNER)}:{quote(LEARNER_PASSWORD)}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return replace(settings, redis_url=urlunsplit(parts._replace(netloc=netloc)))
