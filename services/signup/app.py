"""Build the registration API, wired to real services from ``Settings`` unless parts are given."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import sessionmaker

from signup.api import router
from signup.events import EventPublisher, Publisher
from signup.mail import MailClient

if TYPE_CHECKING:
    from redis import Redis

    from seamlab.config import Settings


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    redis: Redis | None = None,
    mailer: MailClient | None = None,
    publisher: Publisher | None = None,
) -> FastAPI:
    """The FastAPI app. Anything not passed is built from ``settings`` (default: TEST_* env).

    Nothing connects until the first request, so building the app is cheap.
    """
    if settings is None and None in (engine, redis, mailer, publisher):
        from seamlab.config import Settings

        settings = Settings.from_env()
    if engine is None:
        engine = create_engine(settings.db_url(), pool_pre_ping=True)
    if redis is None:
        from redis import Redis

        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
    if mailer is None:
        mailer = MailClient(settings.mail_url)
    if publisher is None:
        publisher = EventPublisher(settings.amqp_url)

    app = FastAPI(title="signup: user registration")
    app.state.engine = engine
    app.state.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.state.redis = redis
    app.state.mailer = mailer
    app.state.publisher = publisher
    app.include_router(router)
    return app
