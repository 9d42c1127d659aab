"""The consumer contract between our MailClient and the mail provider, and its verification.

The consumer side runs the real MailClient against Pact's mock server, which checks every
request against the interaction below and answers as described; the pact file it writes is the
contract. The provider side replays that contract against the real provider: only that step can
tell us the provider agrees.

Fixtures (tests/conftest.py): ``pact_dir`` and ``provider_url`` (the provider production uses).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from mail_client import MailClient
from pact import Pact, Verifier, match

CONSUMER, PROVIDER = "staff-app", "mail-provider"


@pytest.fixture(scope="module")
def contract(pact_dir: Path) -> SimpleNamespace:
    """Run the real client against Pact's mock server; write the pact into ``pact_dir``."""
    pact = Pact(CONSUMER, PROVIDER).with_specification("V4")
    (
        pact.upon_receiving("a request to send one plain-text email")
        .with_request("POST", "/api/emails/send")
        .with_body(
            {
                "recipient": match.str("ada@example.com"),
                "from": match.str("hello@staffapp.example"),
                "subject": match.str("Welcome aboard, Ada!"),
                "text": match.str("Hello Ada"),
            },
            content_type="application/json",
        )
        .will_respond_with(201)
        .with_body({"id": match.str("msg_0123")}, content_type="application/json")
    )
    with pact.serve() as mock_provider:  # raises if the client's request did not match
        message_id = MailClient(str(mock_provider.url)).send(
            "ada@example.com", "Welcome aboard, Ada!", "Hello Ada"
        )
    pact.write_file(pact_dir, overwrite=True)
    return SimpleNamespace(pact_dir=pact_dir, message_id=message_id)


def test_the_mail_client_honours_the_contract(contract):
    assert contract.message_id == "msg_0123"


def test_the_real_provider_honours_the_contract(contract, provider_url):
    verifier = (
        Verifier(PROVIDER, host="127.0.0.1").add_transport(url=provider_url).add_source(contract.pact_dir)
    )
    verifier.verify()  # raises when the provider's answers break the contract
