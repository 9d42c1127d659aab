# seamlab: `make start` (course up, JupyterLab) and `make test` (every check).
# Every target creates or refreshes .venv itself; nothing needs to be installed first but Python 3.11+.

PYTHON ?= python3
# Bytecode caches make every pytest/grader subprocess start seconds faster: keep them on.
unexport PYTHONDONTWRITEBYTECODE
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.seamlab-installed
# Our own tests run in two xdist workers; each pytest worker gets its own database and Redis db.
PYTEST_WORKERS ?= 2
NBVAL_FLAGS := -p nbval --nbval --nbval-sanitize-with notebooks/sanitize.cfg --nbval-current-env -p no:xdist --timeout=300

.PHONY: start test up down lint install notebooks-test unit-test laptop-test help

help:
	@echo "make start   bring the course up and open JupyterLab on chapter 00"
	@echo "make test    install, bring services up, run every check (tests + notebooks)"
	@echo "make up      start (or find) Postgres, Redis, RabbitMQ and the mail provider"
	@echo "make down    stop the services seamlab started"
	@echo "make lint    ruff over the project"
	@echo "make laptop-test  prove the course works with no servers installed (root)"

$(BIN)/python:
	@echo "Creating $(VENV) (a virtual environment for the course)..."
	@$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes. uv when it can be had (~3 s), pip otherwise (~45 s).
# Bytecode is compiled at install: grading children run with -B and would otherwise recompile
# FastAPI, SQLAlchemy and pytest on every run.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the course into $(VENV) (once, up to a minute; later only when pyproject.toml changes)"
	@echo "  1/2 fetching uv, a fast installer..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 || true
	@if [ -x $(BIN)/uv ]; then \
		echo "  2/2 installing seamlab, JupyterLab and the test tools with uv..."; \
		$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'; \
	else \
		echo "  2/2 installing seamlab, JupyterLab and the test tools with pip (no uv here: ~1 min)..."; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'; \
	fi
	@touch $(STAMP)
	@echo "Installed."

install: $(STAMP)

up: install
	$(BIN)/seamlab up

down:
	@if [ -x $(BIN)/seamlab ]; then $(BIN)/seamlab down; else echo "nothing to stop (no .venv)"; fi

start: up
	$(BIN)/seamlab notebook

unit-test: up
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests

notebooks-test: up
	SEAMLAB_TARGET=solutions $(BIN)/pytest $(NBVAL_FLAGS) notebooks/.reference

test: up
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests
	SEAMLAB_TARGET=solutions $(BIN)/pytest $(NBVAL_FLAGS) notebooks/.reference

# A learner laptop without Postgres, Redis, RabbitMQ or Docker (root: `unshare -mn`, 2-4 min; LAPTOP_FLAGS=--full for the whole suite).
laptop-test: install
	scripts/laptop-sim $(BIN)/python scripts/laptop_check.py $(LAPTOP_FLAGS)

lint: install
	$(BIN)/ruff check src services tests bench
