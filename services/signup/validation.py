"""Check a registration form before anything touches the database or the mail provider."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
MIN_PASSWORD_LENGTH = 8
# Deliberately simple: one "@", something before it, a dotted domain after it, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ValidationError(ValueError):
    """The form is not acceptable; ``errors`` maps each bad field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in errors.items()))


@dataclass(frozen=True)
class Registration:
    email: str
    name: str
    password: str


def validate_registration(data: Any) -> Registration:
    """A clean :class:`Registration` from a JSON form, or :class:`ValidationError`.

    The email keeps the letter case the person typed (uniqueness ignores case in the database);
    surrounding spaces are removed from email and name, never from the password.
    """
    if not isinstance(data, dict):
        raise ValidationError({"body": "send a JSON object with email, name and password"})
    errors: dict[str, str] = {}
    email = _text(data, "email", errors)
    name = _text(data, "name", errors)
    password = data.get("password")
    if email is not None:
        email = email.strip()
        if len(email) > MAX_EMAIL_LENGTH:
            errors["email"] = f"must be at most {MAX_EMAIL_LENGTH} characters"
        elif not _EMAIL.match(email):
            errors["email"] = f"{email!r} is not an email address"
    if name is not None:
        name = validate_name(name, errors)
    if not isinstance(password, str):
        errors["password"] = "is required (a string)"
    elif len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if errors:
        raise ValidationError(errors)
    return Registration(email=email, name=name, password=password)


def validate_name(name: Any, errors: dict[str, str] | None = None) -> str | None:
    """A stripped, non-empty name of at most 100 characters (raises unless ``errors`` given)."""
    collect = errors if errors is not None else {}
    if not isinstance(name, str):
        collect["name"] = "is required (a string)"
    else:
        name = name.strip()
        if not name:
            collect["name"] = "must not be empty"
        elif len(name) > MAX_NAME_LENGTH:
            collect["name"] = f"must be at most {MAX_NAME_LENGTH} characters"
    if errors is None and collect:
        raise ValidationError(collect)
    return name if "name" not in collect else None


def _text(data: dict, field: str, errors: dict[str, str]) -> str | None:
    value = data.get(field)
    if not isinstance(value, str):
        errors[field] = "is required (a string)"
        return None
    return value
