"""Fixtures for exercise 04: the learner's folder, and their compose file and workflow parsed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _hermetic_yaml import load_yaml

COMPOSE_FILE = "docker-compose.test.yml"
WORKFLOW_FILE = ".github/workflows/tests.yml"


@pytest.fixture(scope="session")
def target_dir() -> Path:
    return Path(os.environ.get("SEAMLAB_TARGET_DIR", ".")).resolve()


@pytest.fixture(scope="session")
def compose(target_dir: Path) -> dict:
    return load_yaml(target_dir / COMPOSE_FILE, COMPOSE_FILE)


@pytest.fixture(scope="session")
def workflow(target_dir: Path) -> dict:
    return load_yaml(target_dir / WORKFLOW_FILE, WORKFLOW_FILE)
