"""The signup use case: validate the form, then store the member."""

from __future__ import annotations

from typing import Mapping, Protocol

from validation import Signup, parse_signup


class Members(Protocol):
    def add(self, signup: Signup) -> int: ...


def register(form: Mapping[str, str], members: Members) -> int:
    """Register a new member from the signup form; return their id.

    Raises validation.ValidationError when a field needs correcting (nothing is stored then).
    """
    signup = parse_signup(form)
    return members.add(signup)
