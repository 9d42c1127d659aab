"""The onboarding endpoint: POST /members stores a new member and sends the welcome email."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from members_repo import MemberRepository
from seamlab.config import Settings
from welcome_mailer import WelcomeMailer


class MemberForm(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    name: str = Field(min_length=1, max_length=100)


def open_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def member_repository(session: Session = Depends(open_session)) -> MemberRepository:
    return MemberRepository(session)


def welcome_mailer(request: Request) -> WelcomeMailer:
    return request.app.state.mailer


def create_app(engine: Engine | None = None, mail_url: str | None = None) -> FastAPI:
    """The onboarding API on ``engine``, sending mail through the provider at ``mail_url``.

    Both default to the services named by the TEST_* settings.
    """
    settings = Settings.from_env()
    if engine is None:
        engine = create_engine(settings.db_url(), pool_pre_ping=True)
    app = FastAPI(title="Onboarding API")
    app.state.sessions = sessionmaker(engine, expire_on_commit=False)
    app.state.mailer = WelcomeMailer(mail_url or settings.mail_url)

    @app.post("/members", status_code=201)
    def join(
        form: MemberForm,
        members: MemberRepository = Depends(member_repository),
        mailer: WelcomeMailer = Depends(welcome_mailer),
    ) -> dict:
        member = members.add(form.email, form.name)
        mailer.send_welcome(member.email, member.name)
        return {"id": member.id, "email": member.email, "name": member.name}

    return app
