"""Sends the welcome email through our email provider's HTTP API."""

from __future__ import annotations

import httpx


class WelcomeMailFailed(Exception):
    """The email provider did not accept the welcome email."""


class WelcomeMailer:
    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        # The provider gets slow at peak times; give it room rather than lose emails.
        self.client = client or httpx.Client(base_url=base_url, timeout=30.0)

    def send_welcome(self, email: str, name: str) -> str:
        """Send the welcome email; returns the provider's message id."""
        response = self.client.post(
            "/api/emails/send",
            json={
                "to": email,
                "subject": f"Welcome to Lumen, {name}!",
                "text": f"Hi {name},\n\nyour Lumen account is ready. See you inside!\n",
            },
        )
        if response.status_code >= 400:
            raise WelcomeMailFailed(
                f"the provider answered {response.status_code}: {response.text[:200]}"
            )
        return response.json()["messageId"]
