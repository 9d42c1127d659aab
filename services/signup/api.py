"""HTTP routes of the registration API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from signup.cache import UserCache
from signup.service import DuplicateEmail, EmailUnavailable, UserNotFound, UserService
from signup.validation import ValidationError

router = APIRouter(prefix="/api/users")


def get_session(request: Request) -> Iterator[Session]:
    """One session per request. Tests may override this dependency (``app.dependency_overrides``)
    to hand the app their own session, e.g. one joined to a rolled-back transaction."""
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


def get_service(request: Request, session: Annotated[Session, Depends(get_session)]) -> UserService:
    state = request.app.state
    return UserService(
        session, mailer=state.mailer, publisher=state.publisher, cache=UserCache(state.redis)
    )


Service = Annotated[UserService, Depends(get_service)]
JsonBody = Annotated[Any, Body()]


def _error(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


@router.post("/register", status_code=201)
def register(service: Service, form: JsonBody = None) -> Any:
    try:
        return service.register(form)
    except ValidationError as error:
        return _error(422, "The form has problems", errors=error.errors)
    except DuplicateEmail:
        return _error(409, "A user with this email already exists")
    except EmailUnavailable:
        return _error(
            503, "We could not send the welcome email, so no account was created. Try again soon."
        )


@router.get("/{user_id}")
def get_user(user_id: int, service: Service) -> Any:
    try:
        return service.get(user_id)
    except UserNotFound:
        return _error(404, f"No user with id {user_id}")


@router.patch("/{user_id}")
def rename_user(user_id: int, service: Service, changes: JsonBody = None) -> Any:
    if not isinstance(changes, dict) or set(changes) != {"name"}:
        return _error(422, 'Send a JSON object with only the new name: {"name": "..."}')
    try:
        return service.rename(user_id, changes["name"])
    except ValidationError as error:
        return _error(422, "The change has problems", errors=error.errors)
    except UserNotFound:
        return _error(404, f"No user with id {user_id}")
