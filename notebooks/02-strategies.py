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
# # 02 · Integration strategies: big-bang, bottom-up, top-down, sandwich
#
# **Objectives**
#
# - Tell the four strategies apart by what is real and what is stubbed
# - Choose a strategy for a given system and say what it will not catch
# - Integrate bottom-up and top-down on the sample signup system

# %% [markdown]
# "Integration test" does not mean "one huge test of everything". It means choosing which
# arrows between parts to make real, and in what order. There are four classic orders. We will
# try each on the sample **signup** system, which is layered like most web services:
#
# ```mermaid
# flowchart TB
#     API["HTTP layer · signup.api (FastAPI)"] --> SVC["use case · signup.service.UserService"]
#     SVC --> REPO["repository · signup.repository"] --> PG[(Postgres)]
#     SVC --> CACHE["cache · signup.cache"] --> RD[(Redis)]
#     SVC --> MAIL["mail client · signup.mail"] --> MP[[mail provider]]
#     SVC --> PUB["publisher · signup.events"] --> MQ[(RabbitMQ)]
# ```
#
# Two words we need: a **stub** stands in for a part *below* the one you test (it answers
# calls with canned data); a **driver** stands in for a part *above* it (it makes the calls
# the real caller would make). A test function is the simplest driver there is.

# %%
import logging

from seamlab import lab  # first: it also quiets a library deprecation notice
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from signup import schema
from signup.app import create_app
from signup.cache import UserCache
from signup.mail import MailClient
from signup.repository import UserRepository
from signup.service import UserService

lab.show_logs("signup", level=logging.ERROR)
box = lab.sandbox()
schema.create_all(box.engine)
provider = lab.mail_provider()
mail = provider.handle()


class RecordingPublisher:
    """Keeps events in a list instead of sending them (chapter 08 makes this arrow real)."""

    def __init__(self):
        self.events = []

    def publish(self, event):
        self.events.append(event)


# %% [markdown]
# ## Bottom-up: real from the floor upwards
#
# ```mermaid
# flowchart LR
#     subgraph s1 [step 1: the repository]
#       direction TB
#       D1{{"driver: a test"}} -.-> R1["repository ✔"] --> P1[("Postgres ✔")]
#     end
#     subgraph s2 [step 2: the use case on the real repository]
#       direction TB
#       D2{{"driver: a test"}} -.-> S2["use case ✔"] --> R2["repository ✔"] --> P2[("Postgres ✔")]
#       S2 --> M2["mail client ✔"] --> MP2[["mail provider ✔"]]
#     end
#     subgraph s3 [step 3: HTTP on the real use case]
#       direction TB
#       D3{{"driver: HTTP client"}} -.-> A3["HTTP layer ✔"] --> S3["use case ✔"] --> B3["… all real below"]
#     end
#     s1 ==> s2 ==> s3
#     classDef real fill:#d8f3dc,stroke:#2d6a4f
#     class R1,P1,S2,R2,P2,M2,MP2,A3,S3,B3 real
# ```
#
# Start with the parts that touch the outside world (the repository and Postgres), drive them
# straight from a test, then put the use case on top of the real repository, then the HTTP
# layer on top of the real use case. A failure at each step points at the layer just added.
#
# **Step 1: the repository against real Postgres.** The rule "one account per email,
# whatever the letter case" lives in a unique index on `lower(email)`. Only the database can
# tell us whether it works. **Predict, then run:** does the second insert succeed?

# %%
from sqlalchemy.exc import IntegrityError

with Session(box.engine) as session:
    users = UserRepository(session)
    first = users.add(email="ada@example.com", name="Ada", password_hash="x")
    print("first insert: ok, email", first.email)
    try:
        users.add(email="ADA@example.com", name="Ada again", password_hash="y")
        print("second insert: ok (the rule is not enforced!)")
    except IntegrityError as error:
        print("second insert refused by Postgres:", error.orig.diag.constraint_name)
    session.rollback()

# %% [markdown]
# **Step 2: the use case on top of the real repository**, with the real cache, a real mail
# provider (a private one for this notebook), and only the publisher still replaced.

# %%
mail.reset()
with Session(box.engine) as session:
    service = UserService(
        session,
        mailer=MailClient(provider.url),
        publisher=RecordingPublisher(),
        cache=UserCache(box.redis),
    )
    user = service.register({"email": "grace@example.com", "name": "Grace", "password": "long enough"})
    print("registered:", user["email"], "| emails the provider accepted:",
          ", ".join(sent["to"] for sent in mail.sent_emails()))
    again = service.get(user["id"])
    print("read back through the cache:", again["name"],
          "| cached in Redis:", box.redis.exists(f"signup:user:{user['id']}") == 1)

# %% [markdown]
# Bottom-up catches the bugs that cost the most, early: SQL, constraints, types, serialization,
# the provider's real answers. Its price is that the user-facing behaviour (status codes,
# JSON shapes) is tested last, and every layer needs a driver until the layer above exists.
#
# ## Top-down: the user's view first, stubs below
#
# ```mermaid
# flowchart TB
#     CLIENT{{"driver: HTTP test client"}} --> API["HTTP layer ✔ real"]
#     API --> STUB["use case ✘ stub · (canned answers)"]
#     classDef real fill:#d8f3dc,stroke:#2d6a4f
#     classDef stub fill:#ffe8cc,stroke:#e8590c,stroke-dasharray: 4 3
#     class API real
#     class STUB stub
# ```
#
# Start at the HTTP layer and replace everything below it with stubs, then swap the stubs for
# real parts one by one. FastAPI lets a test replace a dependency, so the HTTP layer can be
# checked before the service is finished: routes, status codes, error mapping.

# %%
from signup.api import get_service
from signup.service import DuplicateEmail


class StubService:
    """Answers like the service is supposed to: a dict for a new user, DuplicateEmail for a taken one."""

    def register(self, form):
        if form["email"] == "taken@example.com":
            raise DuplicateEmail(form["email"])
        return {"id": 1, "email": form["email"], "name": form["name"]}


app = create_app(box.settings, mailer=MailClient(provider.url), publisher=RecordingPublisher())
app.dependency_overrides[get_service] = StubService
with TestClient(app) as client:
    form = {"email": "new@example.com", "name": "New", "password": "long enough"}
    created = client.post("/api/users/register", json=form)
    taken = client.post("/api/users/register", json={**form, "email": "taken@example.com"})
print("new email  ->", created.status_code, "with fields", ", ".join(sorted(created.json())))
print("taken email ->", taken.status_code, taken.json()["detail"])

# %% [markdown]
# **Predict, then run.** The stub returns `id`, `email` and `name`. The real service returns
# one more field. A front-end team built against the stub's answer. What do they miss?

# %%
del app.dependency_overrides[get_service]
with TestClient(app) as client:
    real = client.post("/api/users/register", json=form)
print("real service ->", real.status_code, "with fields", ", ".join(sorted(real.json())))
print("fields the stub never showed:", ", ".join(sorted(set(real.json()) - set(created.json()))))

# %% [markdown]
# That is **stub drift**: the stub was right when it was written, or never was, and nothing
# re-checks it. Top-down gives you the user's view early and lets teams work in parallel;
# its price is stubs that must be kept honest, and low-level bugs found last.
#
# ## Big-bang: everything at once
#
# ```mermaid
# flowchart LR
#     T{{"test"}} --> API["HTTP ✔"] --> SVC["use case ✔"] --> REPO["repository ✔"] --> PG[("Postgres ✔")]
#     SVC --> MAIL["mail ✔"] --> MP[["provider ✔"]]
#     SVC --> CACHE["cache ✔"] --> RD[("Redis ✔")]
#     classDef real fill:#d8f3dc,stroke:#2d6a4f
#     class API,SVC,REPO,PG,MAIL,MP,CACHE,RD real
# ```
#
# Wire every real part together and test through the front door. It is the simplest to set
# up, and the right final check before a release. **Predict, then run:** the provider is told
# to fail the next send. What does the single big-bang test see, and can you tell from it
# which part failed?

# %%
mail.reset()
mail.fail_next(status=500)
with TestClient(app) as client:
    broken = client.post("/api/users/register", json={**form, "email": "bigbang@example.com"})
print(broken.status_code, broken.json()["detail"])

# %% [markdown]
# The response is correct, but a big-bang failure on its own says only "something below the
# front door". In a bigger system, with nothing tested in between, you would now be reading
# logs of five components. Big-bang suits small systems and final checks; as the only
# strategy, it makes every failure a search.
#
# ## Sandwich: both ends at once, meeting in the middle
#
# ```mermaid
# flowchart TB
#     subgraph top [top team: HTTP layer over a stubbed use case]
#       C{{"HTTP test client"}} --> API["HTTP ✔"] --> S1["use case ✘ stub"]
#     end
#     subgraph bottom [bottom team: repository and providers, driven by tests]
#       D{{"driver"}} -.-> REPO["repository ✔"] --> PG[("Postgres ✔")]
#       D -.-> MAIL["mail client ✔"] --> MP[["provider ✔"]]
#     end
#     S1 -. "meet: swap the stub for the real use case" .-> MID["use case ✔"]
#     classDef real fill:#d8f3dc,stroke:#2d6a4f
#     classDef stub fill:#ffe8cc,stroke:#e8590c,stroke-dasharray: 4 3
#     class API,REPO,PG,MAIL,MP,MID real
#     class S1 stub
# ```
#
# One group integrates top-down, another bottom-up, and they meet at the middle layer (here,
# the use case). We already have both halves above: the HTTP layer over `StubService`, and the
# repository plus mail client driven directly. The meeting step is the `del
# app.dependency_overrides[...]` cell, where the stub was swapped for the real service and
# the difference in fields showed up. It suits larger teams; the risk sits in the middle layer,
# which is tested last and by whoever gets there second.

# %% [markdown]
# ## Choosing
#
# | strategy | real first | stand-ins needed | finds early | finds late | pick it when |
# |---|---|---|---|---|---|
# | big-bang | everything | none | nothing, then everything | which part broke | the system is small, or as the final check |
# | bottom-up | database, providers | drivers (tests) | SQL, constraints, serialization, provider answers | user-facing contract | most services: the expensive bugs are at the bottom |
# | top-down | HTTP/API layer | stubs below | routes, status codes, error mapping | low-level bugs; stub drift | the interface must be agreed early |
# | sandwich | both ends | both | both ends in parallel | the middle layer | several teams, a large system |
#
# For a typical service the default is **bottom-up**: databases and external providers cause
# most integration bugs, and catching them first is cheapest. Add a thin top-down layer for the
# API contract, and a handful of big-bang tests for the paths that make you money.

# %% [markdown]
# ## Key points
#
# - A strategy is an order of making arrows real; each leaves some arrows stubbed for a while.
# - Bottom-up needs drivers and finds low-level bugs first; top-down needs stubs and finds
#   contract bugs first, but stubs drift; sandwich does both and risks the middle; big-bang
#   needs nothing and explains nothing.
# - Default to bottom-up, add API-level and a few end-to-end tests on top.
#
# **Your turn:** `02-bottom-up` (a big-bang failure nobody could place) and `03-sandwich`
# (where the two halves meet); top-down, and the stub that drifted, comes with chapter 07.
# Run `seamlab check 02` and `seamlab check 03`, or the cells below. For a quick
# extra: put the stub back (`app.dependency_overrides[get_service] = StubService`) and make it
# match the real service's answer exactly.

# %%
import seamlab

passed = seamlab.check("02")

# %%
passed = seamlab.check("03")
