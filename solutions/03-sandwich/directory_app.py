"""The production wiring: Postgres from seamlab's settings, the service, the API."""

from __future__ import annotations

from directory_api import create_api
from directory_repo import DirectoryRepository
from directory_service import DirectoryService
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine

from seamlab.config import Settings


def create_app(engine: Engine | None = None) -> FastAPI:
    if engine is None:
        engine = create_engine(Settings.from_env().db_url(), pool_pre_ping=True)
    return create_api(DirectoryService(DirectoryRepository(engine)))
