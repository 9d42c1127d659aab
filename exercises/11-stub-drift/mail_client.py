"""Our client for the mail provider's HTTP API: ``POST /api/emails/send``."""

from __future__ import annotations

import httpx

SEND_PATH = "/api/emails/send"


class MailError(Exception):
    """An email was not sent."""


class MailRejected(MailError):
    """The provider refused this email (4xx): fix the request, retrying will not help."""


class MailUnavailable(MailError):
    """The provider failed, was unreachable or too slow (5xx, timeouts, broken connections)."""


class MailClient:
    def __init__(
        self, base_url: str, *, sender: str = "hello@staffapp.example", timeout: float = 5.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        self.timeout = timeout

    def send(self, recipient: str, subject: str, text: str) -> str:
        """Send one plain-text email; return the provider's id for it."""
        payload = {"to": recipient, "from": self.sender, "subject": subject, "text": text}
        try:
            response = httpx.post(self.base_url + SEND_PATH, json=payload, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise MailUnavailable(f"the mail provider did not answer: {error!r}") from error
        if response.status_code == 202:
            return response.json()["messageId"]
        if 400 <= response.status_code < 500:
            raise MailRejected(
                f"the mail provider refused the email ({response.status_code}): {response.text}"
            )
        raise MailUnavailable(
            f"the mail provider answered {response.status_code}: {response.text[:200]}"
        )
