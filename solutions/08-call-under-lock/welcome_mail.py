"""Sends the welcome email through the mail provider's HTTP API."""

from __future__ import annotations

import httpx


class MailUnavailable(Exception):
    """The provider did not accept the email (error status, refused or broken connection)."""


class WelcomeMailer:
    def __init__(self, base_url: str, *, client: httpx.Client | None = None) -> None:
        # Bounded per phase: the provider answers in well under a second when healthy (about
        # one on a slow day), so a provider silent for 1.5 s is given up. This is not a deadline
        # for the whole call (one that trickles bytes resets the read timeout): the README's
        # "A deadline for the whole call" shows how to add one.
        self._client = client or httpx.Client(
            base_url=base_url, timeout=httpx.Timeout(1.5, connect=0.5)
        )

    def send_welcome(self, email: str, name: str) -> None:
        payload = {
            "to": email,
            "subject": "Welcome to the makers' circle",
            "text": f"Hello {name}, your invite worked: you are in. See you at the next meetup!",
        }
        try:
            response = self._client.post("/api/emails/send", json=payload)
        except httpx.HTTPError as error:
            raise MailUnavailable(f"mail provider unreachable: {error}") from error
        if response.status_code >= 300:
            raise MailUnavailable(
                f"mail provider answered {response.status_code}: {response.text[:200]}"
            )

    def close(self) -> None:
        self._client.close()
