"""The sign-up endpoint: POST /signups creates an account and audits every attempt."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from accounts_repo import AccountRepository, DuplicateEmail
from seamlab.config import Settings
from signup_audit import SignupAudit


class SignupForm(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    name: str = Field(min_length=1, max_length=100)


def open_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def account_repository(session: Session = Depends(open_session)) -> AccountRepository:
    return AccountRepository(session)


def signup_audit(session: Session = Depends(open_session)) -> SignupAudit:
    return SignupAudit(session)


def create_app(engine: Engine | None = None) -> FastAPI:
    """The sign-up API on ``engine`` (default: the database named by the TEST_* settings)."""
    if engine is None:
        engine = create_engine(Settings.from_env().db_url(), pool_pre_ping=True)
    app = FastAPI(title="Sign-up API")
    app.state.sessions = sessionmaker(engine, expire_on_commit=False)

    @app.post("/signups", status_code=201)
    def sign_up(
        form: SignupForm,
        session: Session = Depends(open_session),
        accounts: AccountRepository = Depends(account_repository),
        audit: SignupAudit = Depends(signup_audit),
    ) -> dict:
        try:
            account = accounts.add(form.email, form.name)
        except DuplicateEmail:
            audit.record(form.email, outcome="rejected", reason="email already registered")
            session.commit()
            raise HTTPException(
                status_code=409, detail=f"An account with {form.email} already exists."
            ) from None
        audit.record(form.email, outcome="created")
        session.commit()
        return {"id": account.id, "email": account.email, "name": account.name}

    return app
