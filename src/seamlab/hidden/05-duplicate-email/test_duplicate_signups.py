"""Exercise 05: one account per mailbox, a clear 409 for the second try, and an audit entry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import sqlalchemy as sa

from seamlab.waiting import wait_for

BARRIER_TIMEOUT = 10.0


def sign_up(api: httpx.Client, email: str, name: str = "Ada Lovelace") -> httpx.Response:
    return api.post("/signups", json={"email": email, "name": name})


def shown(response: httpx.Response) -> str:
    body = response.text.strip().replace("\n", " ")
    return f"{response.status_code} {body[:160]}"


def test_two_different_addresses_get_two_accounts(signup_api, accounts_for):
    first = sign_up(signup_api, "ada@example.com")
    second = sign_up(signup_api, "grace@example.com", name="Grace Hopper")

    assert (first.status_code, second.status_code) == (201, 201), (
        f"Signed up ada@example.com and then grace@example.com: the API answered "
        f"{shown(first)} and {shown(second)}. Expected 201 for both: they are different people."
    )
    assert accounts_for("ada@example.com") and accounts_for("grace@example.com"), (
        "Both sign-ups answered 201, but the accounts table does not hold both addresses."
    )


@pytest.mark.seam
def test_signing_up_again_with_the_same_address_answers_409(signup_api, accounts_for):
    first = sign_up(signup_api, "ada@example.com")
    again = sign_up(signup_api, "ada@example.com", name="Ada L.")

    assert first.status_code == 201, f"The first sign-up answered {shown(first)}, expected 201."
    stored = accounts_for("ada@example.com")
    assert again.status_code == 409, (
        f"Signed up ada@example.com twice. Postgres kept {len(stored)} account(s) for it, "
        f"but the API answered the second try with {shown(again)}. "
        f"Expected 409 with a message saying the account already exists."
    )
    assert "already exists" in again.text, (
        f"The second sign-up got 409, but its body {again.text[:160]!r} does not say that the "
        f"account 'already exists': the person needs to know to log in instead."
    )


@pytest.mark.seam
def test_the_same_address_typed_with_other_capitals_answers_409(signup_api, accounts_for):
    first = sign_up(signup_api, "Grace@Example.com", name="Grace Hopper")
    again = sign_up(signup_api, "grace@example.com", name="Grace Hopper")

    stored = accounts_for("grace@example.com")
    assert first.status_code == 201, f"The first sign-up answered {shown(first)}, expected 201."
    assert again.status_code == 409 and len(stored) == 1, (
        f"Signed up as Grace@Example.com, then as grace@example.com: one mailbox. "
        f"The API answered the second try with {shown(again)}, and Postgres now holds "
        f"{len(stored)} account(s) for it: {stored}. Postgres compares text exactly, capitals "
        f"included. Expected 409 ('already exists') and a single account."
    )


@pytest.mark.seam
@pytest.mark.parametrize("first, second", [("ada@example.com", "ada@example.com"),
                                           ("Ada@Example.com", "ADA@EXAMPLE.COM")],
                         ids=["same-letters", "other-capitals"])
def test_a_refused_sign_up_is_recorded_in_the_audit_trail(signup_api, attempts_for, first,
                                                          second):
    sign_up(signup_api, first)
    again = sign_up(signup_api, second, name="Ada L.")

    outcomes = attempts_for("ada@example.com")
    assert again.status_code == 409 and "already exists" in again.text, (
        f"Signed up as {first}, then as {second}: one mailbox. The second try got "
        f"{shown(again)}; expected 409 with a message saying the account already exists."
    )
    assert outcomes == ["created", "rejected"], (
        f"Signed up as {first}, then as {second} (the second answer was {shown(again)}). "
        f"signup_attempts holds the outcomes {outcomes} for this address. Expected "
        f"['created', 'rejected']: support looks for the refused attempt there."
    )


@pytest.mark.seam
def test_two_simultaneous_sign_ups_for_one_address_create_one_account(
    signup_api, signup_tables, accounts_for
):
    addresses = ["lin@example.com", "Lin@Example.com"]
    start = threading.Barrier(len(addresses), timeout=BARRIER_TIMEOUT)
    answers: dict[str, str | int] = {}

    def submit(email: str) -> None:
        try:
            start.wait()
            answers[email] = sign_up(signup_api, email, name="Lin Chen").status_code
        except Exception as error:  # noqa: BLE001 - reported below, with the address
            answers[email] = f"no answer ({type(error).__name__}: {error})"

    threads = [threading.Thread(target=submit, args=(email,)) for email in addresses]
    with inserts_held_back(signup_tables, waiters=len(addresses)):
        for thread in threads:
            thread.start()
    for thread in threads:
        thread.join(timeout=3 * BARRIER_TIMEOUT)

    got = [answers.get(email, "no answer in time") for email in addresses]
    stored = accounts_for("lin@example.com")
    assert sorted(map(str, got)) == ["201", "409"] and len(stored) == 1, (
        f"Sent two sign-ups for one mailbox at the same moment ({addresses[0]} and "
        f"{addresses[1]}). The API answered {got[0]} and {got[1]}, and Postgres holds "
        f"{len(stored)} account(s): {stored}. Expected one 201 and one 409, and one account: "
        f"a check made before inserting cannot see a row that another request is inserting "
        f"at the same moment."
    )


@contextmanager
def inserts_held_back(engine: sa.Engine, waiters: int) -> Iterator[None]:
    """Make two requests truly simultaneous, without sleeping.

    A table lock in SHARE ROW EXCLUSIVE mode lets reads of ``accounts`` through but holds every
    INSERT at the door. Once ``waiters`` inserts are queued (or 2 s have passed: code that
    never inserts is judged by its answers alone), the lock is released and they race.
    """
    with engine.connect() as holder:
        holder.execute(sa.text("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE"))
        try:
            yield
            try:
                wait_for(
                    lambda: _queued_writes(engine) >= waiters,
                    timeout=2.0,
                    what=f"{waiters} sign-ups to wait at the accounts table",
                )
            except AssertionError:
                pass
        finally:
            holder.rollback()


def _queued_writes(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            sa.text(
                "SELECT count(*) FROM pg_locks "
                "WHERE relation = 'accounts'::regclass AND NOT granted"
            )
        )
