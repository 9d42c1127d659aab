"""Sends the welcome email through the mail provider's HTTP API."""

from __future__ import annotations

import httpx

SEND_PATH = "/api/emails/send"
SENDER = "welcome@seamlab.test"


class MailUnavailable(Exception):
    """The provider did not accept the email (an error status, a timeout, a dropped connection)."""


class WelcomeMailer:
    def __init__(self, base_url: str, timeout: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send_welcome(self, email: str, name: str) -> str:
        """Send the welcome email; return the provider's message id."""
        payload = {
            "from": SENDER,
            "to": email,
            "subject": f"Welcome, {name}!",
            "text": f"Hello {name},\n\nyour account is ready. Sign in with {email}.\n",
        }
        try:
            response = httpx.post(self.base_url + SEND_PATH, json=payload, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise MailUnavailable(f"no answer from the mail provider: {error}") from error
        if not response.is_success:
            raise MailUnavailable(f"the mail provider answered {response.status_code}")
        return response.json().get("messageId", "")
