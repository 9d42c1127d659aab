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
# # 01 · What a seam is, and why unit tests miss it
#
# **Objectives**
#
# - Name the seams in a small system: where one part hands data to another
# - Explain how a fake repository can keep a unit test green while Postgres disagrees
# - Write a round-trip test that sends a value through a real database and reads it back

# %% [markdown]
# ## Seams
#
# A **seam** is a place where one part of a system hands something to another part that was
# written separately: a function result that becomes an SQL parameter, a Python dict that
# becomes JSON for somebody else's API, a committed row that a queue consumer will look up.
# Each side can be correct by its own standards and the hand-over can still be wrong.
#
# The course's sample system is a sign-up service. Its seams are the arrows:
#
# ```mermaid
# flowchart LR
#     F([sign-up form]) -->|JSON| API[HTTP handler]
#     API -->|dict| V[validator]
#     V -->|clean values| R[repository]
#     R -->|SQL parameters| PG[(Postgres)]
#     API -->|cache key| C[cache] -->|bytes| RD[(Redis)]
#     API -->|welcome email| M[mail client] -->|HTTP + JSON| MP[[mail provider]]
#     API -->|event after commit| Q[publisher] -->|AMQP message| MQ[(RabbitMQ)]
# ```
#
# A **unit test** checks one box, and replaces its neighbours with fakes or mocks. That is
# exactly why it cannot see an arrow: the fake on the other side was written by the same
# person, with the same assumptions, as the code under test. When the assumption is wrong, the
# code and its fake are wrong together, and the test is green.
#
# An **integration test** keeps at least one arrow real. It answers a different question: not
# "does this function do what I meant?" but "do these parts agree?"

# %% [markdown]
# ## Two bugs that only live on an arrow
#
# 1. **The date that changed month.** A booking form sends `03/04/2025`, meaning 3 April. The
#    validator checks that the day exists and passes the text on. The repository stores it in a
#    `DATE` column. Postgres, asked to read `03/04/2025`, has to guess which number is the
#    month, and its default guess is American: 4 March. Both parts pass their unit tests.
# 2. **The email sent while holding a lock.** A handler opens a transaction, inserts the user,
#    calls the email provider, then commits. Every unit test passes, because a mocked provider
#    answers instantly. The real one sometimes takes two seconds, and for those two seconds the
#    new row's lock blocks every other sign-up with the same address. Chapter 05 shows it.
#
# Let us watch the first one happen.

# %%
from seamlab import lab

box = lab.sandbox()
conn = box.connect()

# %% [markdown]
# **Predict, then run.** Postgres is handed the text `03/04/2025` for a `DATE`. Which day does
# it store? And what happens with `31/12/2025`?

# %%
print("DateStyle:", conn.execute("SHOW DateStyle").fetchone()[0])
print("'03/04/2025' is stored as", conn.execute("SELECT '03/04/2025'::date").fetchone()[0])
try:
    conn.execute("SELECT '31/12/2025'::date")
except Exception as error:
    print(f"'31/12/2025' is refused: {type(error).__name__}: {str(error).splitlines()[0]}")

# %% [markdown]
# With the default `DateStyle` of `ISO, MDY`, the first number is the month. So 3 April quietly
# becomes 4 March, and 31 December, which has no 31st month, is refused outright. Nothing in
# Python raised; the value crossed the arrow as *text*, and the other side read the text its
# own way.

# %% [markdown]
# ## The same bug in a tiny application
#
# Here is a booking feature written by two people. One wrote `parse_day` for the form; the
# other wrote `Appointments`, which stores bookings in a `DATE` column, and `book_from_form`,
# which joins the two. Each cell below saves one module into this notebook's scratch folder
# (`work`, made by `lab.workdir()`): `%%writefile` is an IPython cell magic that writes the
# cell's text to a file instead of running it.

# %%
work = lab.workdir()

# %%
# %%writefile {work}/forms.py
import datetime as dt


def parse_day(form_value: str):
    """The booking form sends day/month/year, e.g. '03/04/2025' for 3 April 2025."""
    day, month, year = (int(part) for part in form_value.split("/"))
    dt.date(year, month, day)  # raises ValueError for a day that does not exist
    return form_value          # it is valid, so hand it on

# %%
# %%writefile {work}/booking.py
from sqlalchemy import text

from forms import parse_day


class Appointments:
    """Stores bookings in the `appointments` table (day is a DATE column)."""

    def __init__(self, session):
        self.session = session

    def book(self, who, day) -> int:
        return self.session.execute(
            text("INSERT INTO appointments (who, day) VALUES (:who, :day) RETURNING id"),
            {"who": who, "day": day},
        ).scalar_one()

    def day_of(self, booking_id):
        return self.session.execute(
            text("SELECT day FROM appointments WHERE id = :id"), {"id": booking_id}
        ).scalar_one()


def book_from_form(form: dict, appointments) -> int:
    return appointments.book(form["who"], parse_day(form["day"]))

# %% [markdown]
# The unit tests use a fake repository: a dictionary that keeps whatever it is given. They are
# honest tests.

# %%
# %%writefile {work}/test_booking_unit.py
import pytest

from booking import book_from_form
from forms import parse_day


class FakeAppointments:
    def __init__(self):
        self.rows = {}

    def book(self, who, day):
        self.rows[len(self.rows) + 1] = {"who": who, "day": day}
        return len(self.rows)


def test_booking_stores_the_day_the_parser_returned():
    fake = FakeAppointments()
    booking = book_from_form({"who": "Ada", "day": "03/04/2025"}, fake)
    assert fake.rows[booking] == {"who": "Ada", "day": parse_day("03/04/2025")}


def test_parser_refuses_a_day_that_does_not_exist():
    with pytest.raises(ValueError):
        parse_day("31/02/2025")

# %% [markdown]
# The integration test keeps the arrow to Postgres real. It uses the course's `db_session`
# fixture: a SQLAlchemy session inside a transaction that is rolled back after the test, so the
# table it creates disappears again. It books a day, reads it back, and compares with what the
# form meant: a **round trip**.

# %%
# %%writefile {work}/test_booking_integration.py
import datetime as dt

import pytest
from sqlalchemy import text

from booking import Appointments, book_from_form


@pytest.fixture
def appointments(db_session):
    db_session.execute(text(
        "CREATE TABLE appointments (id serial PRIMARY KEY, who text NOT NULL, day date NOT NULL)"
    ))
    return Appointments(db_session)


def test_a_booking_keeps_the_day_the_form_meant(appointments):
    booking = book_from_form({"who": "Ada", "day": "03/04/2025"}, appointments)
    stored = appointments.day_of(booking)
    assert stored == dt.date(2025, 4, 3), (
        f"the form said 3 April 2025 (03/04/2025), Postgres stored {stored:%d %B %Y}"
    )


def test_the_last_day_of_the_year_can_be_booked(appointments):
    booking = book_from_form({"who": "Grace", "day": "31/12/2025"}, appointments)
    assert appointments.day_of(booking) == dt.date(2025, 12, 31)

# %% [markdown]
# **Predict, then run.** `lab.run_tests` runs pytest on those two files, against the real
# Postgres. Which of the four tests pass?

# %%
run = lab.run_tests("test_booking_unit.py", "test_booking_integration.py")

# %% [markdown]
# Both unit tests pass and both integration tests fail: one with a wrong month, one with an
# error from Postgres. The unit tests were not wrong. They simply never asked Postgres.
#
# ## Repairing the seam
#
# The fix belongs at the hand-over: give the database a value that has no order to guess. A
# `datetime.date` is sent as a typed value, so `DateStyle` no longer matters. Only the form
# side changes; the cell overwrites `forms.py`.

# %%
# %%writefile {work}/forms.py
import datetime as dt


def parse_day(form_value: str) -> dt.date:
    """The booking form sends day/month/year, e.g. '03/04/2025' for 3 April 2025."""
    day, month, year = (int(part) for part in form_value.split("/"))
    return dt.date(year, month, day)  # a real date: nothing left to guess

# %% [markdown]
# **Predict, then run.** Same tests, unchanged. What now?

# %%
run = lab.run_tests("test_booking_unit.py", "test_booking_integration.py")

# %% [markdown]
# All four pass. Notice which tests told us anything new: the round trip through the real
# database. A useful habit for every seam you own: **send a value across and read it back**,
# with data that would show a mix-up (a day above 12, a name with an apostrophe, an emoji, a
# time near midnight in another zone).

# %%
conn.close()

# %% [markdown]
# ## Key points
#
# - A seam is a hand-over between separately written parts; bugs hide there because each side
#   is right by its own rules.
# - A fake written next to the code shares the code's assumptions, so it cannot catch a
#   disagreement with the real service.
# - A round-trip test (write through the real service, read back, compare with the intent)
#   is the cheapest integration test there is, and catches this whole family of bugs.
# - Pass typed values across a seam (a `date`, not a string that has to be parsed again).
#
# **Your turn:** exercise `01-date-seam` (`exercises/01-date-seam/README.md`). Run
# `seamlab check 01` in a terminal, or the cell below.

# %%
import seamlab

passed = seamlab.check("01")
