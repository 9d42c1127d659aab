"""Events the accounts service tells the rest of the company about."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: The topic exchange every accounts event goes to, and the routing key of this one.
EXCHANGE = "accounts.events"
USER_REGISTERED = "user.registered"


@dataclass(frozen=True)
class UserRegistered:
    user_id: int
    email: str
    registered_at: dt.datetime
