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
# # 00 · Welcome: the services are one command away
#
# This course is about the bugs that live *between* pieces of code: a validator and a
# database, a web handler and an email provider, a transaction and a message queue. Each chapter
# shows such a bug happening against real services, and each exercise hands you one to repair.
#
# **Objectives**
#
# - Start the course services with `seamlab up` and read `seamlab doctor`
# - Run `seamlab`, `seamlab check` and `seamlab hint` on the first exercise
# - Know where exercises, hints and your progress live

# %% [markdown]
# ## How the course is put together
#
# ```mermaid
# flowchart LR
#     NB["notebook chapter (read, predict, run)"] --> EX["exercise folder · exercises/NN-slug/"]
#     EX -->|you edit the code| CHECK["seamlab check NN"]
#     CHECK -->|hidden integration tests| SVC[("Postgres · Redis · RabbitMQ · mail provider")]
#     CHECK -->|verdict + next hint| YOU((you))
#     YOU --> EX
# ```
#
# - **Chapters** are these notebooks. Every code cell talks to the same services your tests use.
# - **Exercises** live in `exercises/NN-slug/`. Each is a small system whose visible unit tests
#   are green. Somewhere in it, two parts disagree, and only a real service shows it.
# - **Checking** runs hidden integration tests against your folder and explains what the real
#   service did. Hints come in three steps: a nudge, a pointer at the seam, nearly the answer.
#
# Your progress and the state of the local services live in `.seamlab/` at the top of the
# course folder. Deleting it resets your progress; `seamlab down` stops the services.

# %% [markdown]
# ## Step 1: start the services
#
# In a terminal at the top of the course folder:
#
# ```console
# $ make start        # creates .venv, starts the services, opens JupyterLab
# $ seamlab up        # (already done by make start) start or find the services
# $ seamlab doctor    # which services answer, where, and how fast
# ```
#
# `seamlab up` looks for services in a fixed order: your `TEST_*` variables if you set any,
# then anything already answering on the course ports (5433, 6380, 5673, 8025), then Docker
# Compose if a Docker engine runs, and finally private server processes started from the
# Postgres, Redis and RabbitMQ installed on your machine. It never borrows your own database on
# the default port 5432. Chapter 03 explains why that matters.
#
# The cell below asks every service whether it is ready, the same way the tests do. If one is
# missing you get one line naming it, where it was expected, and the command that fixes it; the
# rest of the course still works, and every cell that needs the missing service says so in one
# line instead of failing.

# %%
from seamlab import lab

settings = lab.services_status(("postgres", "redis", "rabbitmq", "mail"))

# %% [markdown]
# ## Step 2: a private corner of each service
#
# Tests that share a database step on each other's rows. So every test run, every grading run
# and every notebook gets its **own** Postgres database, cloned from a small template in a few
# tens of milliseconds, and its own numbered Redis database. They are dropped when the run ends.
#
# **Predict, then run.** This notebook creates a table called `guestbook` in its database.
# Then we open a second private database, the kind the next notebook (or test run) would get.
# Is the guestbook there too?

# %%
import psycopg

from seamlab.isolation import private_database

if lab.needs("postgres", "redis"):
    box = lab.sandbox()
    print(box)

    with box.connect() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS guestbook (name text PRIMARY KEY)")
        conn.execute("INSERT INTO guestbook VALUES ('you') ON CONFLICT DO NOTHING")
        names = [name for (name,) in conn.execute("SELECT name FROM guestbook")]
        print("this notebook's guestbook lists:", ", ".join(names))

    with private_database(settings) as other, psycopg.connect(settings.db_conninfo(other)) as conn:
        found = conn.execute("SELECT to_regclass('guestbook')").fetchone()[0]
        print("a second private database has a guestbook table too:", found is not None)

# %% [markdown]
# It does not: each kernel, test run and grading run has a database whose name embeds its
# process id and a random suffix, cloned from the same empty template. The same trick keeps two
# graders, or two pytest workers, from ever seeing each other's data. You will build that kind
# of isolation yourself in chapter 06.

# %% [markdown]
# ## Step 3: how checking works
#
# ```mermaid
# sequenceDiagram
#     participant You
#     participant CLI as seamlab check 01
#     participant DB as private database (from template)
#     participant T as hidden tests (pytest subprocess)
#     You->>CLI: check exercise 01
#     CLI->>DB: CREATE DATABASE … TEMPLATE seamlab_template
#     CLI->>T: run against exercises/01-date-seam/
#     T->>DB: real SQL through your code
#     T-->>CLI: results as data (passed / failed / error / timed out)
#     CLI->>DB: DROP DATABASE … WITH (FORCE)
#     CLI-->>You: verdict, what the real service did, next hint
# ```
#
# A few things are worth knowing before your first check:
#
# - The hidden tests import **your** modules and go through the seam: an HTTP response, a row
#   in Postgres, a key in Redis, a message on the queue, a request in the mail provider's log.
#   Any correct repair passes; they never look for one particular solution.
# - A verdict is one of: *passed*, *failed* (the seam is still broken, with expected versus
#   got), *error in your code* (with file and line), *timed out*, or *infrastructure error*
#   (a service is down; that is never counted against you).
# - Your own `conftest.py` is not loaded by the grader, so a fixture cannot hide a bug.
#
# From a terminal: in JupyterLab, *File → New → Terminal* opens one in the course folder with
# `seamlab` ready. In a terminal of your own, activate the course's environment first
# (`source .venv/bin/activate`; on Windows `.venv\Scripts\activate`).
#
# ```console
# $ seamlab              # what to do next, and your progress
# $ seamlab check 01     # grade exercise 01
# $ seamlab hint 01      # the next hint (they get more specific each time)
# $ seamlab watch 01     # re-check every time you save
# ```
#
# From a notebook, `seamlab.check("01")` shows the same verdict as `seamlab check 01` in the
# terminal, and counts the same in `seamlab list`. Each chapter ends with such a cell pointing at
# its exercises; it shows nothing until you run it.

# %% [markdown]
# ## Key points
#
# - One command (`seamlab up`, or `make start`) gives you Postgres, Redis, RabbitMQ and a mail
#   provider on the course ports; `seamlab doctor` says which path it took.
# - Every run and every notebook works in a private database and Redis db, dropped afterwards.
# - `seamlab check NN` runs hidden integration tests against your exercise folder; a service
#   outage is reported as such and never blamed on you.
#
# **Your turn:** open `exercises/01-date-seam/README.md`, then read chapter 01.
