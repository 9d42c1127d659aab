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
# # 04 · Effective integration tests: response, row and external call
#
# **Objectives**
#
# - Assert the whole effect of a request: the response, the stored row and the outgoing call
# - Check a constraint that only the real database enforces (a duplicate becomes 409)
# - Explain why a status-code assertion alone lets real bugs through

# %% [markdown]
# A registration request has three effects that matter: the **answer** the client gets, the
# **row** that Postgres keeps, and the **email** the provider is asked to send. An effective
# integration test checks all three, at the boundaries, and nothing private in between.
#
# ```mermaid
# sequenceDiagram
#     autonumber
#     participant T as test (HTTP client)
#     participant API as signup API
#     participant PG as Postgres
#     participant MP as mail provider
#     T->>API: POST /api/users/register {email, name, password}
#     API->>API: validate the form
#     API->>PG: INSERT INTO users … (transaction open)
#     PG-->>API: id, created_at
#     API->>MP: POST /api/emails/send {to, subject, text}
#     MP-->>API: 202 {messageId}
#     API->>PG: COMMIT
#     API-->>T: 201 {id, email, name, created_at}
#     Note over T,MP: the test checks ① the answer, ② the row in Postgres, ③ the request in the provider's journal
# ```
#
# The mail provider here is real: an HTTP server with a **journal** of every request it
# received and an admin API to program failures. That is how a test can check the third
# effect without mocking the client code.

# %% [markdown]
# ## The test
#
# It uses the course's pytest fixtures:
#
# | fixture | gives the test |
# |---|---|
# | `db_session` | a session inside a transaction rolled back after the test (the app shares it) |
# | `redis_client` | a private, flushed Redis database |
# | `mail_provider` | a real mail provider, its journal empty (`.url`, `.sent_emails()`, `.fail_next()`) |
#
# The `client` fixture builds the real app on those parts and hands it the test's session,
# so the test can look at rows the request wrote before they are rolled back.

# %%
from seamlab import lab

work = lab.workdir()  # this notebook's scratch folder for the files below

# %%
# %%writefile {work}/conftest.py
import pytest
from fastapi.testclient import TestClient

from signup import schema
from signup.api import get_session
from signup.app import create_app
from signup.mail import MailClient


class RecordingPublisher:
    """Events are not this chapter's subject; chapter 08 tests them against RabbitMQ."""
    def __init__(self):
        self.events = []

    def publish(self, event):
        self.events.append(event)


@pytest.fixture
def client(seamlab_settings, db_engine, db_session, redis_client, mail_provider):
    schema.create_all(db_session.connection())  # rolled back with everything else
    app = create_app(
        seamlab_settings, engine=db_engine, redis=redis_client,
        mailer=MailClient(mail_provider.url), publisher=RecordingPublisher(),
    )
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as client:
        yield client

# %%
# %%writefile {work}/test_registration.py
import datetime as dt

from sqlalchemy import func, select

from signup.models import User

FORM = {"email": "Lin@Example.com", "name": "Lin", "password": "correct horse"}


def test_registration_answers_stores_the_user_and_sends_one_welcome_email(
    client, db_session, mail_provider
):
    response = client.post("/api/users/register", json=FORM)

    # 1. the answer
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["email"], body["name"]) == (FORM["email"], FORM["name"])
    assert not {"password", "password_hash"} & set(body), f"the answer leaks a secret: {body}"

    # 2. the row
    user = db_session.scalars(select(User).where(User.email == FORM["email"])).one()
    assert user.id == body["id"]
    assert user.password_hash != FORM["password"], "the password was stored as typed"
    age = abs(dt.datetime.now(dt.timezone.utc) - user.created_at)
    assert age < dt.timedelta(minutes=1), f"created_at is {user.created_at}, not about now"

    # 3. the outgoing call
    recipients = [email["to"] for email in mail_provider.sent_emails()]
    assert recipients == [FORM["email"]], f"the provider was asked to mail {recipients}"


def test_a_second_registration_with_the_same_email_in_other_case_is_a_conflict(
    client, db_session, mail_provider
):
    assert client.post("/api/users/register", json=FORM).status_code == 201
    again = client.post("/api/users/register", json={**FORM, "email": FORM["email"].upper()})

    assert again.status_code == 409, again.text
    assert "already exists" in again.json()["detail"]
    count = db_session.scalar(
        select(func.count()).select_from(User).where(func.lower(User.email) == "lin@example.com")
    )
    assert count == 1, f"{count} rows for one person"
    assert len(mail_provider.sent_emails()) == 1, "the duplicate was sent a welcome email too"

# %% [markdown]
# **Predict, then run.** Both tests go through the real app, the real database and the real
# provider. Do they pass against the sample system?

# %%
run = lab.run_tests("test_registration.py")

# %% [markdown]
# The second test checks something no unit test could: that `Lin@Example.com` and
# `LIN@EXAMPLE.COM` are the same person. That rule lives in a unique index on `lower(email)`
# in Postgres. A fake repository would have to re-implement it, and would agree with whatever
# the developer believed.
#
# ## Is "201 Created" enough?
#
# A common first integration test posts the form and asserts the status code. Let us grade
# that test, and the three-part one, against three realistic mistakes planted in the app
# (each is a one-line change a tired developer could make):
#
# - the password is stored as typed, not hashed;
# - the welcome email goes to the sender address instead of the new user;
# - the answer includes the password hash.
#
# The first-try test, checking the status code only:

# %%
# %%writefile {work}/test_status_only.py
def test_registration_answers_201(client):
    form = {"email": "lin@example.com", "name": "Lin", "password": "correct horse"}
    assert client.post("/api/users/register", json=form).status_code == 201

# %% [markdown]
# The three mistakes, as a small pytest plugin: an autouse fixture that runs every test once
# on the correct code and once per mistake, patched in with `monkeypatch`. It is loaded only
# when asked for (`-p planted_mistakes`).

# %%
# %%writefile {work}/planted_mistakes.py
import pytest

from signup.models import User

_public = User.to_public

MISTAKES = {
    "none (correct code)": lambda mp: None,
    "password stored as typed": lambda mp: mp.setattr(
        "signup.service.hash_password", lambda password: password),
    "welcome email to sender": lambda mp: mp.setattr(
        "signup.mail.MailClient.send_welcome",
        lambda self, to, name: self.send(to=self.sender, subject="Welcome!", text=name)),
    "answer leaks the hash": lambda mp: mp.setattr(
        User, "to_public", lambda user: {**_public(user), "password_hash": user.password_hash}),
}


@pytest.fixture(params=list(MISTAKES), ids=range(len(MISTAKES)), autouse=True)
def mistake(request, monkeypatch):
    MISTAKES[request.param](monkeypatch)

# %% [markdown]
# **Predict, then run.** How many of the three does the status-code test catch? And the
# three-part test?

# %%
run = lab.run_tests(
    "test_status_only.py", "test_registration.py",
    args=["-p", "planted_mistakes", "-k", "not second_registration"],  # that one is about duplicates
    show=False,
)
names = ["none (correct code)", "password stored as typed", "welcome email to sender",
         "answer leaks the hash"]
failed = {(o.nodeid.split("::")[0], int(o.nodeid.rstrip("]").rsplit("[", 1)[1]))
          for o in run.outcomes if o.outcome != "passed"}
print(f"{'planted mistake':<26} {'status-only test':<18} three-effect tests")
for index, name in enumerate(names):
    verdicts = ["caught" if (suite, index) in failed else "passed"
                for suite in ("test_status_only.py", "test_registration.py")]
    print(f"{name:<26} {verdicts[0]:<18} {verdicts[1]}")

# %% [markdown]
# The status-code test passes every time: it would have let all three bugs ship. The
# three-part test catches each one, and passes on the correct code. That is the way to judge a
# test suite: **not by the lines it runs, but by the realistic bugs it catches.** The course's
# write-tests exercises grade your tests exactly this way, against planted faults.
#
# ## What to assert, and what not to
#
# - **Do** assert what crosses a boundary: status and JSON shape, rows and their values, keys
#   in Redis, the request the provider received (recipient, subject), messages on a queue.
# - **Do** assert the absence of things: no password in the answer, no second email, no row
#   after a failure (next chapter).
# - **Don't** assert private details: which function was called, the SQL text, log lines.
#   Any correct implementation should pass; a refactoring should not break the test.
# - **Don't** assert values you do not control exactly (`created_at == ...`); bound them.

# %% [markdown]
# ## Key points
#
# - One request, three effects: check the response, the database state and the external call
#   together, each at its boundary.
# - Constraints that live in the database (case-insensitive uniqueness) can only be tested
#   against the database.
# - A status-code assertion alone passes on many broken systems; judge tests by the planted
#   bugs they catch.
#
# **Your turn:** `05-duplicate-email` has a duplicate that gets through; then exercise
# `06-write-registration-tests` asks you to write this kind of test yourself (it is graded
# against planted faults). Run `seamlab check 05` and `seamlab check 06`, or the cells below.

# %%
import seamlab

passed = seamlab.check("05")

# %%
passed = seamlab.check("06")
