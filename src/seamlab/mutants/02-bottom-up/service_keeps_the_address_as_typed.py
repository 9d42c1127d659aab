# mutates: subscription_service.py
# tests: tests/test_service_layer.py
"""The service stores the address as typed, so Ada@Example.org and ada@example.org become two subscribers.

Expected the service layer's test, run on the real services below it, to catch it: check the
outcome the mistake would spoil (the stored rows, the emails the provider accepted, the
response body), not only that no exception was raised.
"""

from __future__ import annotations

from typing import Protocol

from subscribers_repo import Subscriber


class Subscribers(Protocol):
    def add(self, email: str, name: str) -> Subscriber: ...
    def find(self, email: str) -> Subscriber | None: ...


class Mailer(Protocol):
    def send_confirmation(self, email: str, name: str) -> str: ...


def normalise(email: str) -> str:
    """One spelling per address: mail providers treat addresses case-insensitively."""
    return email.strip().lower()


class SubscriptionService:
    def __init__(self, subscribers: Subscribers, mailer: Mailer) -> None:
        self.subscribers = subscribers
        self.mailer = mailer

    def subscribe(self, email: str, name: str) -> Subscriber:
        """Store the subscriber, then ask them to confirm. ``AlreadySubscribed`` if known."""
        subscriber = self.subscribers.add(email.strip(), name.strip())
        self.mailer.send_confirmation(subscriber.email, subscriber.name)
        return subscriber

    def lookup(self, email: str) -> Subscriber | None:
        return self.subscribers.find(normalise(email))
