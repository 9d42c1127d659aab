"""Sends the order receipt through our email provider's HTTP API, without blocking the loop."""

from __future__ import annotations

import httpx


class ReceiptFailed(Exception):
    """The email provider did not accept the receipt."""


class ReceiptMailer:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def send_receipt(self, email: str, order_id: int, item: str, quantity: int) -> str:
        """Send the receipt for an order; returns the provider's message id."""
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=10.0) as client:
                response = await client.post(
                    "/api/emails/send",
                    json={
                        "to": email,
                        "subject": f"Your order #{order_id}",
                        "text": f"Thank you! We are packing {quantity} x {item} for you.\n",
                    },
                )
        except httpx.TransportError as error:
            raise ReceiptFailed(f"the provider could not be reached: {error!r}") from error
        if response.status_code >= 400:
            raise ReceiptFailed(f"the provider answered {response.status_code}")
        return response.json()["messageId"]
