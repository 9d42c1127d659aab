# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Mocks, stubs and contracts
#
# **Objectives**
#
# - Decide per dependency: real, stub server or mock
# - Catch provider drift with a stub server that behaves like the new version
# - Explain why only provider verification makes a consumer contract worth having

# %% [markdown]
# ## Three kinds of stand-in
#
# | stand-in | what it is | proves | misses |
# |---|---|---|---|
# | **mock** (`respx`, `unittest.mock`) | your HTTP client is intercepted in-process | your code handles the answers *you wrote down* | the real wire: serialization, headers, timeouts, a changed API |
# | **stub server** (WireMock-style) | a real HTTP server with canned answers and a request journal | real HTTP, real client config, timeouts, faults | whether the canned answers still match the real provider |
# | **real service** | the thing itself (Postgres, Redis, RabbitMQ) | everything | nothing, but it may be slow, costly or not yours to run |
#
# A sensible default: **real** for what you run yourself and can reset cheaply (databases,
# caches, brokers, all in containers); a **stub server** for third-party HTTP APIs you do not
# control (email, payments); **mocks** for fast unit tests of your own logic. Then add
# **contracts**, so that the stubs and mocks are checked against the real provider.
#
# The mail provider in this course is the stub-server kind, and it exists in two versions:
# version 1 (what our client was written for) and version 2 (the provider renamed the field
# `to` to `recipient` and now answers `201 {"id": ...}`).

# %%
import json

import respx

from seamlab import lab
from signup.mail import MailClient, MailProviderError

# %% [markdown]
# ## A mock keeps passing after the provider changed
#
# The unit test mocks the provider's endpoint with `respx`, answering what the documentation
# said a year ago.

# %%
with respx.mock(base_url="http://mail.test") as mock:
    route = mock.post("/api/emails/send").respond(202, json={"messageId": "m-1"})
    message_id = MailClient("http://mail.test").send_welcome(to="lin@example.com", name="Lin")
print("mocked provider  -> message id", message_id, "| request body keys:",
      ", ".join(sorted(json.loads(route.calls.last.request.content))))

# %% [markdown]
# **Predict, then run.** The same client, now against real servers: version 1, then version 2
# of the provider. The mock above is still green. What happens on the wire?

# %%
for version in (1, 2):
    server = lab.mail_provider(version=version)
    try:
        message_id = MailClient(server.url).send_welcome(to="lin@example.com", name="Lin")
        print(f"provider v{version}      -> accepted, message id looks like an id: {bool(message_id)}")
    except MailProviderError as error:
        print(f"provider v{version}      -> {str(error).split(': ', 1)[1][:110]}")

# %% [markdown]
# That is **drift**: the world changed, the mock did not, and the only test that knew about
# the provider kept passing. A stub server configured like the new version catches it, and
# its journal shows what was really sent:

# %%
v2 = lab.mail_provider(version=2)
handle = v2.handle()
try:
    MailClient(v2.url).send_welcome(to="lin@example.com", name="Lin")
except MailProviderError:
    pass
entry = handle.send_requests()[-1]
print("journal:", entry["method"], entry["path"], "->", entry["response_status"],
      "| fields sent:", ", ".join(sorted(entry["json"])))

# %% [markdown]
# A WireMock-style stub also lets a test **verify the calls**: not only that the code
# handled the answer, but that it made exactly the requests it should have (once, with this
# recipient). Chapter 04's tests did that through `mail_provider.sent_emails()`.
#
# ## Contracts: who checks the stub?
#
# A stub server is only as truthful as its canned answers. **Consumer-driven contract
# testing** (Pact) closes the loop:
#
# ```mermaid
# flowchart LR
#     subgraph consumer [consumer: signup's test suite]
#       CT["consumer test · (MailClient vs Pact mock)"] --> PACT[/"pact file · signup-mailprovider.json"/]
#     end
#     subgraph provider [provider: the mail service's pipeline]
#       PACT --> VER["provider verification · (replays each interaction · against the real provider)"]
#       VER --> OK{"matches?"}
#     end
#     OK -->|yes| SHIP([both may deploy])
#     OK -->|no| STOP([the change breaks a consumer])
# ```
#
# 1. The **consumer test** runs our real `MailClient` against a mock server that Pact starts
#    from the expectations we declare. If the client sends something else, the test fails.
#    As a side effect it writes the expectations down: the **pact file**.
# 2. **Provider verification** replays every interaction in that file against the **real**
#    provider and compares the answers.
#
# The first step alone proves only that our client agrees with our own expectations, which
# is what the respx mock proved too. The second is what makes the contract worth having.

# %%
import os
import tempfile
from pathlib import Path

os.environ["PACT_DO_NOT_TRACK"] = "true"  # Pact would otherwise report usage statistics
from pact import Pact, match

pact_dir = Path(tempfile.mkdtemp(prefix="pacts_"))
pact = Pact("signup", "mailprovider").with_specification("V4")
(
    pact.upon_receiving("a welcome email to send")
    .with_request("POST", "/api/emails/send")
    .with_body(
        {
            "from": match.string("welcome@signup.example"),
            "to": match.string("lin@example.com"),
            "subject": match.string("Welcome!"),
            "text": match.string("Hello Lin"),
        },
        content_type="application/json",
    )
    .will_respond_with(202)
    .with_body({"messageId": match.string("m-1")}, content_type="application/json")
)
with pact.serve() as pact_mock:
    MailClient(str(pact_mock.url)).send_welcome(to="lin@example.com", name="Lin")
pact.write_file(pact_dir)
print("consumer test passed; contract written:", ", ".join(sorted(p.name for p in pact_dir.iterdir())))

# %% [markdown]
# **Predict, then run.** The same pact file, verified against provider version 1 and then
# version 2.

# %%
import re

from pact import Verifier


def verify_against(server):
    verifier = (
        Verifier("mailprovider", host="127.0.0.1")
        .add_transport(url=server.url)
        .add_source(pact_dir)
        .set_coloured_output(enabled=False)
    )
    with lab.muted_fd_stdout():  # Pact prints its report with timings; we print it below
        try:
            verifier.verify()
            verified = True
        except RuntimeError:
            verified = False
    report = re.sub(r" \(\d+m?s loading, \d+m?s verification\)", "", verifier.output(strip_ansi=True))
    return verified, report.strip()


for version in (1, 2):
    verified, report = verify_against(lab.mail_provider(version=version))
    print(f"=== provider v{version}: {'verified' if verified else 'FAILED'}")
    if not verified:
        print(report[report.index("Failures:"):])

# %% [markdown]
# Version 2 breaks the contract, and the verification says precisely how: a `422` instead of
# `202`, and a body without `messageId`. In a real setup the pact file goes to a *Pact
# Broker*, the provider's CI verifies every consumer's contract before deploying, and
# `can-i-deploy` blocks a release that would break one.
#
# ## Choosing, per dependency
#
# | dependency | default | why |
# |---|---|---|
# | Postgres, Redis, RabbitMQ | real, in containers | cheap to run and reset; fakes lie about types, locks and TTLs |
# | third-party HTTP API | stub server + contract | you cannot reset theirs; a contract keeps the stub honest |
# | your own other service | contract (both sides in your CI) | catches drift before deploy, no shared test environment |
# | slow or paid calls in unit tests | mock | fast feedback on your logic; never the only test of the seam |

# %% [markdown]
# ## Key points
#
# - Mocks check your code against answers you wrote; they keep passing when the provider
#   changes (drift).
# - A stub server gives real HTTP, faults and a journal of what was sent; configure it like
#   each provider version you must support.
# - A consumer-side pact on its own proves nothing new; provider verification against the
#   real provider is what catches the breaking change.
#
# **Your turn:** `11-stub-drift` (top-down, and the stub that drifted). Run `seamlab check 11`,
# or the cell below. For a quick extra: change the consumer expectation above to use
# `recipient`, and see which provider version verifies then.

# %%
import seamlab

passed = seamlab.check("11")
