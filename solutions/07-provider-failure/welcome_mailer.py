"""Sends the welcome email through our email provider's HTTP API."""

from __future__ import annotations

import httpx

#: The sign-up page must answer within 2 s, so the provider gets 1 s per step at most.
PROVIDER_TIMEOUT = httpx.Timeout(1.0)


class WelcomeMailFailed(Exception):
    """The email provider did not accept the welcome email (refused, unreachable, too slow)."""


class WelcomeMailer:
    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(base_url=base_url, timeout=PROVIDER_TIMEOUT)

    def send_welcome(self, email: str, name: str) -> str:
        """Send the welcome email; returns the provider's message id."""
        try:
            response = self.client.post(
                "/api/emails/send",
                json={
                    "to": email,
                    "subject": f"Welcome to Lumen, {name}!",
                    "text": f"Hi {name},\n\nyour Lumen account is ready. See you inside!\n",
                },
            )
        except httpx.HTTPError as exc:
            raise WelcomeMailFailed(f"the provider did not answer: {exc!r}") from exc
        if response.status_code >= 400:
            raise WelcomeMailFailed(
                f"the provider answered {response.status_code}: {response.text[:200]}"
            )
        return response.json()["messageId"]
