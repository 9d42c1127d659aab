"""Private state per run: a database cloned from a template and a leased Redis database.

Every pytest session and every grading run gets its own Postgres database (``CREATE DATABASE x
TEMPLATE seamlab_template``, a few tens of milliseconds) and its own Redis database index, and
gives them back afterwards. Runs therefore cannot see each other's rows or keys and can go in
parallel. Database names embed the creating process id, so leftovers of a killed run can be
recognised and dropped later (:func:`drop_stale_databases`).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import redis
from psycopg import sql

from seamlab.config import Settings
from seamlab.errors import ServiceUnavailable

TEMPLATE_DB = "seamlab_template"
TEMPLATE_EXTENSIONS = ("citext",)
MAINTENANCE_DB = "postgres"
LEASE_PREFIX = "seamlab:lease:"
LEASE_SECONDS = 3600
#: Key for pg_advisory_lock while the template is built (any constant; "seamlab" in hex-ish).
_TEMPLATE_LOCK_KEY = 0x5EA41AB
_CONNECT_TIMEOUT = 5


# --- connections -------------------------------------------------------------------------------
def postgres_fix(settings: Settings) -> str:
    """The command or setting that fixes an unreachable Postgres for these settings."""
    from seamlab.backends import fix_for

    return fix_for(settings, "postgres")


def redis_fix(settings: Settings) -> str:
    """The command or setting that fixes an unreachable Redis for these settings."""
    from seamlab.backends import fix_for

    return fix_for(settings, "redis")


def _first_line(error: BaseException) -> str:
    from seamlab.backends import short_cause

    return short_cause(error)


def connect_admin(settings: Settings, database: str | None = None) -> psycopg.Connection:
    """An autocommit connection for CREATE/DROP DATABASE (default: the maintenance database).

    Falls back to ``settings.db_name`` when the server has no ``postgres`` database.
    """
    target = database or MAINTENANCE_DB
    try:
        return psycopg.connect(
            settings.db_conninfo(target), autocommit=True, connect_timeout=_CONNECT_TIMEOUT
        )
    except psycopg.OperationalError as error:
        if database is None and f'"{MAINTENANCE_DB}" does not exist' in str(error):
            return connect_admin(settings, settings.db_name)
        raise ServiceUnavailable(
            "Postgres", settings.db_where, _first_line(error), postgres_fix(settings)
        ) from None


def redis_client(settings: Settings, db: int | None = None) -> redis.Redis:
    """A Redis client for ``settings.redis_url`` (database ``db`` if given), pinged once."""
    kwargs = {"socket_connect_timeout": _CONNECT_TIMEOUT, "socket_timeout": 10}
    # redis-py lets a database in the URL win over a db= argument: rewrite the URL instead.
    url = settings.with_redis_db(db).redis_url if db is not None else settings.redis_url
    client = redis.Redis.from_url(url, **kwargs)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        raise ServiceUnavailable(
            "Redis", settings.redis_where, _first_line(error), redis_fix(settings)
        ) from None
    return client


# --- databases ---------------------------------------------------------------------------------
def ensure_template(settings: Settings) -> str:
    """Make sure ``seamlab_template`` exists, with its extensions, and return its name.

    Safe to call from many processes at once: the first builds it under an advisory lock, the
    others wait for the lock and then find it ready. A template left half-built by a killed
    process (not yet flagged ``datistemplate``) is dropped and built again.
    """
    with connect_admin(settings) as conn:
        if _template_ready(conn):
            return TEMPLATE_DB
        conn.execute("SELECT pg_advisory_lock(%s)", (_TEMPLATE_LOCK_KEY,))
        try:
            if _template_ready(conn):
                return TEMPLATE_DB
            name = sql.Identifier(TEMPLATE_DB)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
            with connect_admin(settings, TEMPLATE_DB) as template:
                available = {row[0] for row in template.execute(
                    "SELECT name FROM pg_available_extensions")}
                # The pgserver wheel's Postgres ships no contrib extensions: skip what is absent.
                for extension in (e for e in TEMPLATE_EXTENSIONS if e in available):
                    template.execute(
                        sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(
                            sql.Identifier(extension)
                        )
                    )
            # The flag marks the template as complete; it also lets non-owners clone it.
            conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(name))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_TEMPLATE_LOCK_KEY,))
    return TEMPLATE_DB


def _template_ready(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "SELECT datistemplate FROM pg_database WHERE datname = %s", (TEMPLATE_DB,)
    ).fetchone()
    return bool(row and row[0])


def database_name(prefix: str = "seamlab_t", pid: int | None = None) -> str:
    """A fresh database name: ``<prefix>_<pid>_<random>`` (lower case, a valid identifier)."""
    return f"{prefix}_{os.getpid() if pid is None else pid}_{secrets.token_hex(4)}"


def create_database(settings: Settings, name: str) -> str:
    """``CREATE DATABASE name TEMPLATE seamlab_template`` (building the template first if needed)."""
    template = ensure_template(settings)
    with connect_admin(settings) as conn:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template)
        )
        if conn.info.server_version >= 150000:
            # FILE_COPY clones a tiny database faster than the default WAL_LOG (~35 vs ~45 ms).
            statement += sql.SQL(" STRATEGY FILE_COPY")
        conn.execute(statement)
    return name


def drop_database(settings: Settings, name: str) -> None:
    """``DROP DATABASE IF EXISTS name WITH (FORCE)``: also ends sessions still connected to it."""
    with connect_admin(settings) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextmanager
def private_database(settings: Settings, prefix: str = "seamlab_t") -> Iterator[str]:
    """Yield the name of a new database cloned from the template; drop it afterwards.

    The database is dropped even when the body raises. Use ``settings.with_database(name)`` to
    point connections at it.
    """
    name = create_database(settings, database_name(prefix))
    try:
        yield name
    finally:
        drop_database(settings, name)


def drop_stale_databases(settings: Settings, prefix: str = "seamlab_t") -> list[str]:
    """Drop databases named ``<prefix>_<pid>_<suffix>`` whose pid is no longer running.

    Returns the names dropped. Only meaningful when the creating processes ran on this machine
    (the usual case: the course services are local or in a local container).
    """
    pattern = re.compile(rf"^{re.escape(prefix)}_(\d+)_[0-9a-z]+$")
    with connect_admin(settings) as conn:
        names = [row[0] for row in conn.execute("SELECT datname FROM pg_database")]
        stale = []
        for name in names:
            match = pattern.match(name)
            if match and not pid_alive(int(match.group(1))):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
                stale.append(name)
    return stale


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- Redis -------------------------------------------------------------------------------------
# Delete the lease only if it still holds our value (it may have expired and been re-leased).
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def redis_database_count(client: redis.Redis) -> int:
    """How many databases the server has (``CONFIG GET databases``; 16 if CONFIG is disabled)."""
    try:
        value = client.config_get("databases").get("databases")
    except redis.ResponseError:
        return 16
    return int(value) if value else 16


@contextmanager
def private_redis_db(settings: Settings) -> Iterator[int]:
    """Lease a free Redis database index (1..N-1), flushed before and after; yield the index.

    The lease is ``SET seamlab:lease:<i> <pid> NX EX 3600`` in database 0, so concurrent
    callers always get distinct indexes. Leases of processes that died are reclaimed when every
    index is taken.
    """
    control = redis_client(settings, db=0)
    try:
        index = _lease(control, settings)
        token = str(os.getpid())
        try:
            with redis.Redis(connection_pool=_pool_for(control, index)) as leased:
                leased.flushdb()
                try:
                    yield index
                finally:
                    leased.flushdb()
        finally:
            control.eval(_RELEASE_SCRIPT, 1, f"{LEASE_PREFIX}{index}", token)
    finally:
        control.close()


def _pool_for(control: redis.Redis, index: int) -> redis.ConnectionPool:
    kwargs = dict(control.connection_pool.connection_kwargs)
    kwargs["db"] = index
    return redis.ConnectionPool(connection_class=control.connection_pool.connection_class, **kwargs)


def _lease(control: redis.Redis, settings: Settings) -> int:
    count = redis_database_count(control)
    token = str(os.getpid())
    for attempt in range(2):
        for index in range(1, count):
            if control.set(f"{LEASE_PREFIX}{index}", token, nx=True, ex=LEASE_SECONDS):
                return index
        if attempt == 0:
            _reclaim_dead_leases(control, count)
    raise ServiceUnavailable(
        "Redis",
        settings.redis_where,
        f"all {count - 1} private databases are leased by running processes",
        "wait for other test runs to finish, or start Redis with more databases "
        "(`--databases 256`, as `seamlab up` does)",
    )


def reclaim_dead_leases(settings: Settings) -> None:
    """Give back the Redis databases leased by processes that are gone."""
    control = redis_client(settings, db=0)
    try:
        _reclaim_dead_leases(control, redis_database_count(control))
    finally:
        control.close()


def _reclaim_dead_leases(control: redis.Redis, count: int) -> None:
    keys = [f"{LEASE_PREFIX}{index}" for index in range(1, count)]
    for key, holder in zip(keys, control.mget(keys), strict=True):
        if holder is not None and holder.isdigit() and not pid_alive(int(holder)):
            control.eval(_RELEASE_SCRIPT, 1, key, holder)
