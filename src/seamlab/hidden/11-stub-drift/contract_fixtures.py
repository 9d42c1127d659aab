"""Fixtures for the contract tests a learner writes in exercise 11 (documented in its README).

* ``pact_dir``      a folder for pact files (the consumer side writes, the verifier reads)
* ``provider_url``  a running mail provider (``http://127.0.0.1:<port>``): the version
                    production uses now, API version 2

``seamlab check 11`` runs the learner's contract tests with this file as their conftest, once
against the provider production uses and once against an older, incompatible version
(``SEAMLAB_MAIL_PROVIDER_VERSION``), and reads the pact file they wrote (``SEAMLAB_PACT_DIR``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PACT_DIR_ENV = "SEAMLAB_PACT_DIR"
PROVIDER_VERSION_ENV = "SEAMLAB_MAIL_PROVIDER_VERSION"
PRODUCTION_VERSION = 2


@pytest.fixture(scope="session")
def pact_dir(tmp_path_factory) -> Path:
    given = os.environ.get(PACT_DIR_ENV)
    folder = Path(given) if given else tmp_path_factory.mktemp("pacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def provider_url() -> str:
    from mailprovider.server import MailProviderServer

    version = int(os.environ.get(PROVIDER_VERSION_ENV, PRODUCTION_VERSION))
    with MailProviderServer(port=0, version=version) as server:
        yield server.url
