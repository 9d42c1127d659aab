"""Exercise 01: a birth date typed day/month/year must survive the trip into Postgres."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from registration import register
from repository import MemberRepository
from validation import ValidationError


def form(birth_date: str, email: str = "margaux@example.org") -> dict[str, str]:
    return {"name": "Margaux Petit", "email": email, "birth_date": birth_date}


def spoken(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def register_in_postgres(signup_form: dict[str, str], engine: sa.Engine) -> int:
    """Run the learner's registration against the real database; explain a refusal.

    The AssertionError is raised outside the ``except`` block on purpose: chained to the
    database error, the report would point at the repository's insert, while the fix belongs
    in the validator.
    """
    typed = signup_form["birth_date"]
    try:
        return register(signup_form, MemberRepository(engine))
    except ValidationError as error:
        refusal = str(error)
    except sa.exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0]
        refusal = None
    if refusal is not None:
        raise AssertionError(
            f"The form said {typed}, a real day on the calendar, but the validator refused it: "
            f"{refusal!r}. Expected: the member is stored with that birth date."
        )
    raise AssertionError(
        f"The form said {typed}. The validator accepted it, but Postgres refused to store "
        f"the member: {reason}. Expected: the member is stored with that birth date."
    )


def explain(typed: str, expected: dt.date, stored: dt.date | None) -> str:
    said = f"The form said {spoken(expected)} ({typed})"
    if stored is None:
        return f"{said}, but no row for the member is in Postgres."
    if (stored.day, stored.month) == (expected.month, expected.day):
        return (
            f"{said}, but the row in Postgres says {stored.isoformat()}: "
            f"the day and month were swapped on the way in."
        )
    return f"{said}, but the row in Postgres says {stored.isoformat()}."


@pytest.mark.seam
def test_a_date_like_03_04_keeps_its_day_and_month(engine, stored_birth_dates):
    register_in_postgres(form("03/04/1990"), engine)

    stored = stored_birth_dates().get("margaux@example.org")
    expected = dt.date(1990, 4, 3)
    assert stored == expected, explain("03/04/1990", expected, stored)


@pytest.mark.seam
@pytest.mark.parametrize(
    "typed, expected",
    [("28/06/1985", dt.date(1985, 6, 28)), ("31/12/1990", dt.date(1990, 12, 31))],
    ids=["28/06/1985", "31/12/1990"],
)
def test_a_day_after_the_twelfth_is_stored(typed, expected, engine, stored_birth_dates):
    register_in_postgres(form(typed), engine)

    stored = stored_birth_dates().get("margaux@example.org")
    assert stored == expected, explain(typed, expected, stored)


def test_the_repository_gives_back_the_birth_date_that_was_typed(engine):
    member_id = register_in_postgres(form("03/04/1990"), engine)

    member = MemberRepository(engine).get(member_id)

    assert member is not None, f"register() returned id {member_id!r}, but get() found no member"
    assert member.birth_date == dt.date(1990, 4, 3), explain(
        "03/04/1990", dt.date(1990, 4, 3), member.birth_date
    )


@pytest.mark.parametrize("datestyle", ["ISO, MDY", "ISO, DMY"])
def test_the_stored_date_is_the_same_under_any_server_datestyle(
    datestyle, engine_with_datestyle, stored_birth_dates
):
    register_in_postgres(form("03/04/1990"), engine_with_datestyle(datestyle))

    stored = stored_birth_dates().get("margaux@example.org")
    expected = dt.date(1990, 4, 3)
    assert stored == expected, (
        explain("03/04/1990", expected, stored)
        + f" This was on a Postgres session with DateStyle '{datestyle}': servers are configured"
        f" differently, and the date must come out right on every one of them."
    )


#: Real days at the edges of the calendar: a leap day, the first and last day of a year.
REAL_DAYS = [("29/02/2000", dt.date(2000, 2, 29)), ("01/01/2000", dt.date(2000, 1, 1)),
             ("31/12/1999", dt.date(1999, 12, 31)), ("30/04/1990", dt.date(1990, 4, 30))]


@pytest.mark.parametrize("typed, expected", REAL_DAYS, ids=[t for t, _ in REAL_DAYS])
def test_every_real_day_of_the_calendar_is_stored(typed, expected, engine, stored_birth_dates):
    register_in_postgres(form(typed), engine)

    stored = stored_birth_dates().get("margaux@example.org")
    assert stored == expected, explain(typed, expected, stored)


#: Days that are not on the calendar: 1900 was no leap year (a century), 2000 was.
NOT_DAYS = ["31/02/1990", "30/02/2000", "29/02/1900", "31/04/1990", "00/01/1990", "01/13/1990"]


@pytest.mark.seam
@pytest.mark.parametrize("typed", NOT_DAYS)
def test_a_date_that_does_not_exist_is_refused_by_the_validator(typed, engine,
                                                                 stored_birth_dates):
    refused = None
    other = None
    try:
        register(form(typed), MemberRepository(engine))
    except ValidationError as error:
        assert typed in str(error), (
            f"The validator refused {typed}, good, but its message {str(error)!r} does not "
            f"show what the user typed; include {typed!r} so they can see what to correct."
        )
    except sa.exc.DBAPIError as error:
        refused = str(error.orig).strip().splitlines()[0]  # raised below, unchained: see register_in_postgres
    except Exception as error:  # noqa: BLE001 - the learner's validator: named below
        other = f"{type(error).__name__}: {error}"
    else:
        stored = stored_birth_dates().get("margaux@example.org")
        raise AssertionError(
            f"The form said {typed}, a day that is not on the calendar, and the member was "
            f"stored with birth_date {stored}. Expected: a ValidationError that names {typed!r}."
        )
    if other is not None:
        raise AssertionError(
            f"The form said {typed}, a day that is not on the calendar, and register() raised "
            f"{other}. Expected: a ValidationError for birth_date (the form shows it next to "
            f"the field), not another exception, which the user would see as a server error."
        )
    if refused is not None:
        raise AssertionError(
            f"The form said {typed}, a day that is not on the calendar. The validator let it "
            f"through and Postgres refused it instead ({refused}); the user would see a server "
            f"error. Expected: a ValidationError from the validator that names {typed!r}."
        )

    assert stored_birth_dates() == {}, (
        f"The validator refused {typed}, but a row reached the members table anyway."
    )
