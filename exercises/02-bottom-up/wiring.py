"""The production wiring: which database and which mail provider the layers run on."""

from __future__ import annotations

from confirmation_mailer import ConfirmationMailer
from fastapi import FastAPI
from sqlalchemy import create_engine
from subscribers_repo import SubscriberRepository
from subscription_service import SubscriptionService
from subscriptions_api import create_api

from seamlab.config import Settings

#: Until the Postgres connection is set up for this service: an in-memory database, so the app
#: starts anywhere (the tables come from the migrations, as in every environment).
DATABASE_URL = "sqlite+pysqlite:///:memory:"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The whole app on the database and mail provider that ``settings`` name (default: TEST_*)."""
    settings = settings or Settings.from_env()
    engine = create_engine(DATABASE_URL)
    mailer = ConfirmationMailer(settings.mail_url)
    return create_api(SubscriptionService(SubscriberRepository(engine), mailer))
