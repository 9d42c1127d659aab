"""POST /registrations: store the user and send the welcome email, both or neither."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import sessionmaker
from users_repo import EmailTaken, UserRepository
from welcome_sender import MailUnavailable, WelcomeMailer

from seamlab.config import Settings


class RegistrationForm(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=200)


class RegisteredUser(BaseModel):
    id: int
    email: str
    name: str
    created_at: datetime


def create_app(engine: Engine | None = None, mail_url: str | None = None) -> FastAPI:
    """The registration API on ``engine`` and the provider at ``mail_url`` (default: TEST_*)."""
    settings = Settings.from_env()
    if engine is None:
        engine = create_engine(settings.db_url(), pool_pre_ping=True)
    sessions = sessionmaker(engine)
    mailer = WelcomeMailer(mail_url or settings.mail_url)
    app = FastAPI(title="Registration API")

    @app.post("/registrations", status_code=201, response_model=RegisteredUser)
    def register(form: RegistrationForm) -> RegisteredUser:
        with sessions() as session:
            try:
                user = UserRepository(session).add(form.email, form.name, form.password)
            except EmailTaken:
                raise HTTPException(409, f"{form.email} is already registered.") from None
            try:
                mailer.send_welcome(user.email, user.name)
            except MailUnavailable:
                session.rollback()
                raise HTTPException(
                    503,
                    "We could not send your welcome email, so nothing was saved. "
                    "Please try again in a minute.",
                ) from None
            session.commit()
            return RegisteredUser(
                id=user.id, email=user.email, name=user.name, created_at=user.created_at
            )

    return app
