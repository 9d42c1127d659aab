"""The contract suite for the customer repository: every promise in ``customers.py``, checked
on the in-memory fake and on the real Postgres adapter alike.

Fixtures (see the README): postgres_customers (and db_engine).
"""

from __future__ import annotations

import datetime as dt

import pytest

from customers import DuplicateEmail
from memory_customers import InMemoryCustomers


@pytest.fixture(params=["in-memory", "postgres"])
def customers(request):
    if request.param == "in-memory":
        return InMemoryCustomers()
    return request.getfixturevalue("postgres_customers")


def test_a_customer_added_can_be_read_back_by_id(customers):
    added = customers.add("ada@example.com", "Ada")

    found = customers.get(added.id)

    assert (found.email, found.name) == ("ada@example.com", "Ada")
    assert customers.get(added.id + 1000) is None


def test_an_address_is_found_in_any_case_and_kept_as_typed(customers):
    customers.add("Ada.Lovelace@Example.com", "Ada")

    found = customers.by_email("ada.lovelace@EXAMPLE.COM")

    assert found is not None and found.email == "Ada.Lovelace@Example.com"
    assert customers.by_email("grace@example.com") is None


def test_an_address_taken_in_other_letters_is_a_duplicate(customers):
    customers.add("ada@example.com", "Ada")

    with pytest.raises(DuplicateEmail):
        customers.add("ADA@Example.com", "Ada again")

    assert [c.name for c in customers.newest()] == ["Ada"]


def test_newest_lists_the_latest_customer_first(customers):
    for name in ("Ada", "Grace", "Barbara"):
        customers.add(f"{name.lower()}@example.com", name)

    assert [c.name for c in customers.newest()] == ["Barbara", "Grace", "Ada"]
    assert [c.name for c in customers.newest(limit=2)] == ["Barbara", "Grace"]


def test_customers_added_in_one_transaction_are_listed_newest_first_too(customers):
    with customers.atomic():
        for name in ("Ada", "Grace", "Barbara"):
            customers.add(f"{name.lower()}@example.com", name)

    assert [c.name for c in customers.newest()] == ["Barbara", "Grace", "Ada"]


def test_created_at_is_an_aware_time_of_the_moment_of_adding(customers):
    before = dt.datetime.now(dt.UTC)
    added = customers.add("ada@example.com", "Ada")

    stored = customers.get(added.id).created_at

    assert stored.utcoffset() is not None, f"created_at {stored!r} has no time zone"
    assert before - dt.timedelta(seconds=5) <= stored <= dt.datetime.now(dt.UTC)


def test_changing_a_customer_you_were_given_changes_nothing_stored(customers):
    added = customers.add("ada@example.com", "Ada")
    added.name = "changed by the caller"
    found = customers.get(added.id)
    found.name = "changed again"
    customers.by_email("ada@example.com").name = "and again"
    customers.newest()[0].name = "and once more"

    assert customers.get(added.id).name == "Ada"


def test_a_failure_inside_atomic_keeps_none_of_its_writes(customers):
    customers.add("ada@example.com", "Ada")

    with pytest.raises(RuntimeError):
        with customers.atomic():
            customers.add("grace@example.com", "Grace")
            raise RuntimeError("the payment step failed")

    assert customers.by_email("grace@example.com") is None
    assert [c.name for c in customers.newest()] == ["Ada"]


def test_a_duplicate_inside_atomic_can_be_handled_and_the_rest_is_kept(customers):
    customers.add("ada@example.com", "Ada")

    with customers.atomic():
        with pytest.raises(DuplicateEmail):
            customers.add("Ada@example.com", "Ada again")
        customers.add("grace@example.com", "Grace")

    assert [c.name for c in customers.newest()] == ["Grace", "Ada"]
