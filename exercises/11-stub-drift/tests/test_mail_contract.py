"""Yours: a consumer contract for the mail provider, with pact-python, and its verification.

Two parts (see the README):
1. the consumer side: describe the request our MailClient sends and the answer it needs, run
   the real MailClient against Pact's mock server, and write the pact file into `pact_dir`;
2. the provider side: replay that pact against the real provider at `provider_url` with
   pact's Verifier. Only this part tells you whether the provider agrees.

Fixtures: `pact_dir` (a folder for pact files) and `provider_url` (a running mail provider,
the version production uses). Both come from tests/conftest.py.
"""


def test_the_mail_client_honours_the_contract(pact_dir):
    # TODO: the consumer side, with pact.Pact(...).upon_receiving(...)
    pass


def test_the_real_provider_honours_the_contract(pact_dir, provider_url):
    # TODO: the provider side, with pact.Verifier(...)
    pass
