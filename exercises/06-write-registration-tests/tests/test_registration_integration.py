"""Your integration tests for POST /registrations (exercise 06): write the three tests below.

Fixtures you may use (see the README for what each one gives you):
    client         httpx.Client pointed at the running registration API
    mail_provider  the real mail provider: .sent_emails(), .send_requests(), .fail_next(status=...)
    user_rows      user_rows() -> every row of the users table, as dicts
    app, db_engine the FastAPI app behind `client`, and the engine on the test database

The three tests below pass because they check nothing yet: fill in the TODOs. `seamlab check 06`
runs your tests against the correct system (they must pass) and against planted faults (each
fault your tests fail on is a fault caught).
"""

from __future__ import annotations

FORM = {"email": "Ada.Lovelace@Example.com", "name": "Ada", "password": "analytical-engine-1843"}


def test_registering_stores_the_user_and_sends_a_welcome_email(client, mail_provider, user_rows):
    # TODO: POST the form to /registrations.
    # TODO: check the response: status, and every field of the body (and what must not be in it).
    # TODO: check the row that Postgres now holds.
    # TODO: check what the mail provider received.
    pass


def test_registering_an_address_that_is_already_taken_is_a_409(client, mail_provider, user_rows):
    # TODO: register once, then register the same address again (how else can it be written?).
    # TODO: check the second response, the rows, and the emails sent.
    pass


def test_a_mail_provider_failure_is_a_503_and_nothing_is_kept(client, mail_provider, user_rows):
    # TODO: make the provider fail the next send, then register.
    # TODO: check the response, the rows, and what the provider was asked.
    pass
