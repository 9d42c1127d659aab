"""Sends the "please confirm your subscription" email through the mail provider's HTTP API."""

from __future__ import annotations

import httpx


class ConfirmationNotSent(Exception):
    """The provider did not accept the confirmation email."""


class ConfirmationMailer:
    def __init__(self, base_url: str, *, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def send_confirmation(self, email: str, name: str) -> str:
        payload = {
            "to": email,
            "from": "news@example.org",
            "subject": "Please confirm your subscription",
            "text": f"Hello {name}, click the link in this email to confirm your subscription.",
        }
        try:
            response = httpx.post(
                f"{self.base_url}/api/emails/send", json=payload, timeout=self.timeout
            )
        except httpx.HTTPError as error:
            raise ConfirmationNotSent(f"the mail provider did not answer: {error!r}") from None
        if response.status_code != 202:
            raise ConfirmationNotSent(
                f"the mail provider answered {response.status_code}: {response.text[:200]}"
            )
        return response.json()["messageId"]
