"""Drive a running mail provider from tests: read its journal, program faults, reset it."""

from __future__ import annotations

from typing import Any, Self

import httpx

from mailprovider.app import ADMIN_PREFIX, SEND_PATH


class MailProviderError(RuntimeError):
    """The admin API refused a request or could not be reached (the message says which)."""


class MailProviderHandle:
    """``MailProviderHandle("http://127.0.0.1:8025")``: the admin API as Python methods."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url + ADMIN_PREFIX, timeout=timeout)

    # --- reading --------------------------------------------------------------------------
    def requests(self) -> list[dict[str, Any]]:
        """Every request to a non-admin path since the last reset, oldest first."""
        return self._call("GET", "/requests")["requests"]

    def send_requests(self) -> list[dict[str, Any]]:
        """The journal entries for ``POST /api/emails/send`` (accepted, failed or dropped)."""
        return [r for r in self.requests() if r["method"] == "POST" and r["path"] == SEND_PATH]

    def sent_emails(self) -> list[dict[str, Any]]:
        """The JSON bodies of the sends the provider accepted (a 2xx answer), oldest first."""
        return [
            r["json"]
            for r in self.send_requests()
            if r["response_status"] is not None and 200 <= r["response_status"] < 300
        ]

    def pending_faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    # --- programming ----------------------------------------------------------------------
    def fail_next(self, status: int = 500, times: int = 1, body: Any = None) -> None:
        """The next ``times`` sends get ``status`` (with ``body`` as JSON, if given)."""
        fault: dict[str, Any] = {"status": status, "times": times}
        if body is not None:
            fault["body"] = body
        self.add_fault(fault)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` sends are answered (normally) only after ``seconds``."""
        self.add_fault({"delay": seconds, "times": times})

    def drop_next(self, times: int = 1) -> None:
        """The next ``times`` sends get no answer: the connection is closed."""
        self.add_fault({"drop": True, "times": times})

    def add_fault(self, fault: dict[str, Any]) -> None:
        self._call("POST", "/faults", json=fault)

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def reset(self) -> None:
        """Forget the journal and every pending fault."""
        self._call("POST", "/reset")

    # --- plumbing -------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise MailProviderError(
                f"the mail provider at {self.url} did not answer {method} {ADMIN_PREFIX}{path} "
                f"({type(error).__name__}: {error}). Fix: start it (`seamlab up`, or "
                "`python -m mailprovider --port 8025`) or check TEST_MAIL_URL."
            ) from None
        if response.status_code >= 400:
            raise MailProviderError(
                f"the mail provider refused {method} {ADMIN_PREFIX}{path}: "
                f"{response.status_code} {response.text}"
            )
        return response.json()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MailProviderHandle({self.url!r})"
