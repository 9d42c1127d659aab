"""GET /users: the directory over HTTP, one page at a time."""

from __future__ import annotations

from datetime import datetime

from directory_service import DirectoryService, InvalidCursor
from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel


class UserOut(BaseModel):
    id: int
    name: str
    email: str
    created_at: datetime


class PageOut(BaseModel):
    users: list[UserOut]
    next_cursor: str | None


def create_api(service: DirectoryService) -> FastAPI:
    app = FastAPI(title="Staff directory")

    @app.get("/users", response_model=PageOut)
    def list_users(
        cursor: str | None = None, limit: int = Query(default=20, ge=1, le=100)
    ) -> PageOut:
        try:
            page = service.page(cursor, limit)
        except InvalidCursor as error:
            raise HTTPException(400, f"{error}. Start again without a cursor.") from None
        return PageOut(
            users=[UserOut(**vars(user)) for user in page.users], next_cursor=page.next_cursor
        )

    return app
