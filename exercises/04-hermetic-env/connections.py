"""Connections to the services named by a ServiceConfig, with short timeouts.

A test run whose database is missing should say so within seconds, not hang until the CI job's
time limit.
"""

from __future__ import annotations

import redis
import sqlalchemy as sa

from config import ServiceConfig


def database_engine(config: ServiceConfig) -> sa.Engine:
    return sa.create_engine(config.db_url, connect_args={"connect_timeout": 5})


def redis_client(config: ServiceConfig) -> redis.Redis:
    return redis.Redis.from_url(config.redis_url, socket_connect_timeout=5, socket_timeout=5)
