"""The welcome email a new staff member gets on their first day."""

from __future__ import annotations

from mail_client import MailClient

from seamlab.config import Settings


def welcome_message(name: str) -> tuple[str, str]:
    subject = f"Welcome aboard, {name}!"
    text = (
        f"Hello {name},\n\nyour staff account is ready. Sign in with this email address; "
        "the intranet will ask you to choose a password.\n\nSee you soon,\nthe people team"
    )
    return subject, text


def send_welcome(email: str, name: str, client: MailClient | None = None) -> str:
    """Send the welcome email; return the provider's message id."""
    client = client or MailClient(Settings.from_env().mail_url)
    subject, text = welcome_message(name)
    return client.send(email, subject, text)
