"""The registration use case and the user reads/updates, independent of HTTP."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signup.cache import UserCache
from signup.events import Publisher, UserRegistered
from signup.mail import MailClient, MailProviderError
from signup.passwords import hash_password
from signup.repository import UserRepository
from signup.validation import validate_name, validate_registration

log = logging.getLogger(__name__)


class DuplicateEmail(Exception):
    """Someone already registered this email (in some letter case)."""


class EmailUnavailable(Exception):
    """The welcome email could not be sent, so the registration was rolled back."""


class UserNotFound(LookupError):
    pass


class UserService:
    def __init__(
        self,
        session: Session,
        *,
        mailer: MailClient,
        publisher: Publisher,
        cache: UserCache,
    ) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.mailer = mailer
        self.publisher = publisher
        self.cache = cache

    def register(self, form: Any) -> dict[str, Any]:
        """validate -> insert (flush) -> send the welcome email -> commit -> publish.

        The email is sent before the commit, so a provider failure leaves no user behind.
        Raises ValidationError, DuplicateEmail or EmailUnavailable.
        """
        registration = validate_registration(form)
        try:
            user = self.users.add(
                email=registration.email,
                name=registration.name,
                password_hash=hash_password(registration.password),
            )
        except IntegrityError:
            self.session.rollback()
            raise DuplicateEmail(registration.email) from None
        try:
            self.mailer.send_welcome(to=user.email, name=user.name)
        except MailProviderError as error:
            self.session.rollback()
            log.warning("registration of %s rolled back: %s", registration.email, error)
            raise EmailUnavailable(str(error)) from error
        public = user.to_public()
        event = UserRegistered(
            user_id=user.id, email=user.email, name=user.name, registered_at=user.created_at
        )
        self.session.commit()
        try:
            self.publisher.publish(event)
        except Exception as error:  # noqa: BLE001 - the user exists; losing the event is logged
            # A transactional outbox would make this reliable; the sample keeps it visible.
            log.error(
                "user %s registered but UserRegistered was not published: %r", public["id"], error
            )
        return public

    def get(self, user_id: int) -> dict[str, Any]:
        """Public data of a user, from the cache when present, else from Postgres (then cached)."""
        cached = self.cache.get(user_id)
        if cached is not None:
            return cached
        user = self.users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        public = user.to_public()
        self.cache.set(user_id, public)
        return public

    def rename(self, user_id: int, name: Any) -> dict[str, Any]:
        """Change the name, commit, and drop the cached copy so the next read is fresh."""
        clean = validate_name(name)
        user = self.users.rename(user_id, clean)
        if user is None:
            raise UserNotFound(user_id)
        public = user.to_public()
        self.session.commit()
        self.cache.invalidate(user_id)
        return public
