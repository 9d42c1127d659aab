"""The workflow the course holds up as a model, and the compose file, obey their published schemas."""

from __future__ import annotations

from pathlib import Path

import yaml
from schemas import schema_errors

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github/workflows/learner-ci.yml"
COMPOSE = REPO / "docker-compose.test.yml"


def test_the_learner_workflow_is_a_valid_github_actions_workflow():
    assert schema_errors(WORKFLOW) == ""


def test_the_compose_file_follows_the_compose_specification():
    assert schema_errors(COMPOSE, builtin="vendor.compose-spec") == ""


def test_the_learner_workflow_asks_pg_isready_over_tcp():
    # Without -h, pg_isready asks the Unix socket, which the official image's temporary
    # first-start server answers before the real one listens: exercise 12 grades this mistake.
    services = yaml.safe_load(WORKFLOW.read_text())["jobs"]["notebooks"]["services"]
    assert "pg_isready -h 127.0.0.1" in services["postgres"]["options"]
