# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · A test environment you can trust
#
# **Objectives**
#
# - Start services with real healthchecks instead of hoping they are ready
# - Configure tests only through TEST_* variables, on ports that are not your own database's
# - Make a test run fail loudly, naming host and port, when a service is missing

# %% [markdown]
# An integration test is only as trustworthy as the services under it. Three things go wrong
# again and again:
#
# 1. Tests start before a service is **ready**. The container is running, its port is even
#    open, but the database is still replaying its log and refuses queries. The first test
#    fails, a rerun passes, and the team learns to distrust the suite.
# 2. Tests run against the **wrong** service. A default of `localhost:5432` is the developer's
#    own database. A cleanup fixture that truncates tables there is a very bad afternoon.
# 3. A missing service shows up as a 40-line stack trace from deep inside a driver, instead of
#    one sentence saying what is missing and how to start it.
#
# ## One file describes the services
#
# The course keeps its services in `docker-compose.test.yml`. Here is what matters in it,
# read from the file itself:

# %%
from pathlib import Path

import yaml

from seamlab.paths import project_root

compose = yaml.safe_load((project_root() / "docker-compose.test.yml").read_text())
for name, service in compose["services"].items():
    ports = ", ".join(str(p) for p in service.get("ports", []))
    check = service.get("healthcheck", {}).get("test", "(none)")
    check = " ".join(check[1:]) if isinstance(check, list) else check
    print(f"{name:<9} ports {ports:<22} healthcheck: {check}")

# %% [markdown]
# Each service publishes its usual port on a **different host port** (5433 for Postgres, not
# 5432), so the test services can run next to your own development ones and can never be
# mistaken for them. And each has a **healthcheck**: a command that asks the service itself
# whether it can do work (`pg_isready`, `redis-cli ping`, a RabbitMQ diagnostic). `docker
# compose up --wait` returns only when every healthcheck passes.
#
# A plain `depends_on` does not do that: it waits for the *container* to start, which is not
# the same as the *service* being ready.
#
# ## Open port is not the same as ready
#
# **Predict, then run.** Below, a socket starts listening on a free port, exactly like a
# container whose database process has bound its port but not finished starting. A "wait for
# the port" script would say go. What does a real Postgres client say?

# %%
import socket

import psycopg

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
port = listener.getsockname()[1]

with socket.create_connection(("127.0.0.1", port), timeout=1):
    print("TCP connect: the port is open")
try:
    psycopg.connect(host="127.0.0.1", port=port, user="seamlab", dbname="seamlab", connect_timeout=1)
except psycopg.OperationalError as error:
    print("Postgres client: not usable yet ->", type(error).__name__)
listener.close()

# %% [markdown]
# Readiness has to be asked **in the service's own protocol**: a `SELECT 1`, a `PING`, an AMQP
# handshake. The course does this in `seamlab.backends.wait_ready`, which polls each service
# with a deadline and gives up with a sentence, not a stack trace.
#
# ## One way to find services: `TEST_*` variables
#
# Every part of the course (the CLI, the pytest plugin, the grader, these notebooks, the
# sample system) builds its connections from one object, `seamlab.config.Settings`, and it
# reads only variables that start with `TEST_`. Their defaults are the compose ports.

# %%
from seamlab.config import Settings

defaults = Settings.from_env({})
print("defaults:", defaults.db_where, "|", defaults.redis_url, "|", defaults.mail_url)

in_ci = Settings.from_env(
    {"TEST_DB_HOST": "db.ci.internal", "TEST_DB_PORT": "5432", "TEST_REDIS_URL": "redis://cache:6379/0"}
)
print("CI:      ", in_ci.db_where, "|", in_ci.redis_url, "| set explicitly:", sorted(in_ci.explicit))

# %% [markdown]
# Why a `TEST_` prefix, rather than reusing `DB_HOST`? Because your shell, your `.env` file
# and your IDE probably already set `DB_HOST` for development. With a prefix, test settings
# are opt-in: a test run can only reach a service that somebody deliberately named for tests.
# And the default is never 5432.
#
# A wrong value is caught when it is read, with the fix in the message:

# %%
from seamlab.errors import ConfigError

try:
    Settings.from_env({"TEST_DB_PORT": "five-four-three-three"})
except ConfigError as error:
    print(error)

# %% [markdown]
# ## Fail loudly, with the fix
#
# **Predict, then run.** A learner exported `TEST_DB_PORT=5499` last week and forgot. Nothing
# listens there. What should a test run say?

# %%
from seamlab.backends import wait_ready
from seamlab.errors import ServiceUnavailable

forgotten = Settings.from_env({"TEST_DB_PORT": "5499"})
try:
    wait_ready(forgotten, services=("postgres",), timeout=0.5)
except ServiceUnavailable as error:
    print("service:", error.service)
    print("where:  ", error.where)
    print("fix:    ", error.fix)

# %% [markdown]
# One line, the address it tried, and what to do. The course's pytest plugin turns this into
# a failed test with exactly that message, and the grader reports it as an infrastructure
# problem, never as a bug in your code. Note what did **not** happen: no quiet fallback to the
# Postgres on 5432 that happens to be running.
#
# ## The course's own environment
#
# `seamlab up` gives you the same topology with or without Docker. With a Docker engine it
# runs `docker compose -f docker-compose.test.yml up -d --wait`; without one it starts private
# Postgres, Redis and RabbitMQ processes from binaries on your machine, on the same ports,
# under `.seamlab/run/`. Either way, the services below answer:

# %%
from seamlab import lab

settings = lab.ready(("postgres", "redis", "rabbitmq", "mail"))

# %% [markdown]
# ## Key points
#
# - Describe the services in one file, with healthchecks that ask the service itself; wait for
#   health, not for a started container or an open port.
# - Read test settings only from `TEST_*` variables, and default to ports that cannot be your
#   development services (5433, 6380, 5673).
# - When a service is missing, fail at once with one sentence: which service, where, the fix.
#   Never fall back to some other database.
#
# **Your turn:** `04-hermetic-env` (the test run that used someone else's database). Run
# `seamlab check 04`, or the cell below; and run `seamlab doctor` in a terminal to see which
# path your services took.

# %%
import seamlab

passed = seamlab.check("04")
