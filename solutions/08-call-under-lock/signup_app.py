"""The web API: ``POST /signup`` with an email, a name and an invite code."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from invite_signup import (
    EmailTaken,
    InviteUsedUp,
    Mailer,
    UnknownInvite,
    register_with_invite,
)
from invites import make_engine
from seamlab.config import Settings
from welcome_mail import MailUnavailable, WelcomeMailer

#: Postgres' error code when ``lock_timeout`` expires.
LOCK_NOT_AVAILABLE = "55P03"


class SignupRequest(BaseModel):
    email: str
    name: str
    invite_code: str


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, mailer: Mailer | None = None
) -> FastAPI:
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings)
    mailer = mailer or WelcomeMailer(settings.mail_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    app = FastAPI(title="makers' circle signup")
    app.state.engine = engine

    @app.post("/signup", status_code=201)
    def signup(body: SignupRequest):
        try:
            member = register_with_invite(
                sessions, mailer, email=body.email, name=body.name, invite_code=body.invite_code
            )
        except UnknownInvite:
            return JSONResponse({"detail": "This invite code does not exist."}, status_code=404)
        except InviteUsedUp:
            return JSONResponse({"detail": "This invite code has been used up."}, status_code=410)
        except EmailTaken:
            return JSONResponse({"detail": "This email already has an account."}, status_code=409)
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            return JSONResponse(
                {"detail": "Too many signups with this invite right now. Nothing was saved: "
                           "please try again in a minute."},
                status_code=503,
            )
        except MailUnavailable:
            return JSONResponse(
                {"detail": "We could not send your welcome email. Nothing was saved: "
                           "please try again in a minute."},
                status_code=503,
            )
        return {"id": member.id, "email": member.email, "name": member.name}

    return app
