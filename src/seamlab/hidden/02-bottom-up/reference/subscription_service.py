"""Subscribing to the newsletter: one address, one subscriber, one confirmation email."""

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
        subscriber = self.subscribers.add(normalise(email), name.strip())
        self.mailer.send_confirmation(subscriber.email, subscriber.name)
        return subscriber

    def lookup(self, email: str) -> Subscriber | None:
        return self.subscribers.find(normalise(email))
