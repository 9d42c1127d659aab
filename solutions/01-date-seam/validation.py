"""Turn the signup form, as the browser sends it, into a Signup the rest of the system trusts.

The form is filled in by members in Europe, so the birth date arrives as they type it:
day/month/year, for example "31/12/1990".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Mapping

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DATE = re.compile(r"\d{2}/\d{2}/\d{4}")


class ValidationError(ValueError):
    """A field the user has to correct. The message is shown next to the field in the form."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Signup:
    name: str
    email: str
    birth_date: dt.date


def parse_signup(form: Mapping[str, str]) -> Signup:
    """Check every field of the signup form; raise ValidationError for the first bad one."""
    name = (form.get("name") or "").strip()
    if not name:
        raise ValidationError("name", "please tell us your name")

    email = (form.get("email") or "").strip().lower()
    if not _EMAIL.fullmatch(email):
        raise ValidationError("email", f"{email!r} does not look like an email address")

    birth_date = (form.get("birth_date") or "").strip()
    if not _DATE.fullmatch(birth_date):
        raise ValidationError("birth_date", f"{birth_date!r} is not a date like 31/12/1990")
    try:
        # Day first, as typed. A real date has no order for the database to guess.
        born = dt.datetime.strptime(birth_date, "%d/%m/%Y").date()
    except ValueError:
        raise ValidationError(
            "birth_date", f"{birth_date!r} is not a day on the calendar (day/month/year)"
        ) from None

    return Signup(name=name, email=email, birth_date=born)
