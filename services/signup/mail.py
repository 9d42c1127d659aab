"""Send email through the mail provider's HTTP API (httpx, with explicit timeouts)."""

from __future__ import annotations

import httpx

#: Connect quickly or give up; wait a little longer for the answer. Never wait forever.
DEFAULT_TIMEOUT = httpx.Timeout(2.0, connect=1.0)


class MailProviderError(RuntimeError):
    """The provider did not accept the email: an error status, a timeout or no connection."""


class MailClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        sender: str = "welcome@signup.example",
        client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        self._client = client or httpx.Client(base_url=self.base_url, timeout=timeout)

    def send(self, *, to: str, subject: str, text: str) -> str:
        """Send one email; return the provider's message id or raise :class:`MailProviderError`."""
        payload = {"from": self.sender, "to": to, "subject": subject, "text": text}
        try:
            response = self._client.post("/api/emails/send", json=payload)
        except httpx.TimeoutException as error:
            raise MailProviderError(
                f"the mail provider at {self.base_url} did not answer in time ({error!r})"
            ) from error
        except httpx.HTTPError as error:
            raise MailProviderError(
                f"could not talk to the mail provider at {self.base_url} ({error!r})"
            ) from error
        if not response.is_success:
            raise MailProviderError(
                f"the mail provider refused the email: {response.status_code} {response.text[:200]}"
            )
        try:
            return str(response.json()["messageId"])
        except (ValueError, KeyError, TypeError) as error:
            raise MailProviderError(
                f"the mail provider answered {response.status_code} without a messageId: "
                f"{response.text[:200]}"
            ) from error

    def send_welcome(self, *, to: str, name: str) -> str:
        return self.send(
            to=to,
            subject="Welcome!",
            text=f"Hello {name},\n\nyour account is ready.\n",
        )

    def close(self) -> None:
        self._client.close()
