"""Smoke test of the production wiring: the app is built and answers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from wiring import create_app

from seamlab.config import Settings


def test_the_app_starts_and_answers_its_health_check():
    client = TestClient(create_app(Settings()))

    assert client.get("/health").json() == {"status": "ok"}
