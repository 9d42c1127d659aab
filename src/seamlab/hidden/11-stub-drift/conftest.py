"""Fixtures for exercise 11's hidden tests: the mail provider production uses (API version 2)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def _provider_v2():
    from mailprovider.server import MailProviderServer

    with MailProviderServer(port=0, version=2) as server:
        handle = server.handle()
        yield handle
        handle.close()


@pytest.fixture
def provider(_provider_v2):
    """The real provider, version 2, with an empty journal and no faults pending."""
    _provider_v2.reset()
    return _provider_v2
