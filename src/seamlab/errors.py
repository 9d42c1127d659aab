"""Errors that seamlab shows to people: every one carries a cause and a fix."""

from __future__ import annotations


class SeamlabError(Exception):
    """Base class for errors seamlab reports as a short message, never a stack trace."""


class ConfigError(SeamlabError):
    """A TEST_* variable (or another setting) has a value seamlab cannot use."""


class ServiceUnavailable(SeamlabError):
    """A backing service (Postgres, Redis, RabbitMQ, the mail provider) does not answer.

    ``str(error)`` is one line: which service, where, why, and the command that fixes it.
    Grading treats this as an infrastructure error, never as the learner's fault.
    """

    def __init__(self, service: str, where: str, cause: str, fix: str) -> None:
        self.service = service
        self.where = where
        self.cause = cause
        self.fix = fix
        super().__init__(f"{service} at {where} is not reachable ({cause}). Fix: {fix}")
