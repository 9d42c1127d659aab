"""The audit trail: every sign-up attempt is written down, whatever its outcome."""

from __future__ import annotations

from sqlalchemy.orm import Session

from account_tables import SignupAttempt


class SignupAudit:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, email: str, outcome: str, reason: str | None = None) -> None:
        self.session.add(SignupAttempt(email=email, outcome=outcome, reason=reason))
