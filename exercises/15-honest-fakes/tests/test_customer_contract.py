"""The contract suite for the customer repository (exercise 15): yours to write.

One set of tests, run against BOTH implementations of the port in ``customers.py``: the
in-memory fake the service's unit tests trust, and the real Postgres adapter. A test that
passes on Postgres and fails on the fake has found a lie in the fake.

Fixtures you may use (see the README):
    postgres_customers  the real adapter on an empty customers table
    db_engine           the engine on the test database, for your own queries
The fake needs none: ``InMemoryCustomers()`` is a fresh one.

`seamlab check 15` runs this file against the correct code (every test must pass on both
implementations) and against copies with one planted fault each (a fault is caught when at
least one of your tests fails on it).
"""

from __future__ import annotations

import pytest

from memory_customers import InMemoryCustomers


@pytest.fixture(params=["in-memory"])  # TODO: the real adapter too
def customers(request):
    if request.param == "in-memory":
        return InMemoryCustomers()
    # TODO: hand out the real adapter (hint: request.getfixturevalue("postgres_customers"))
    raise NotImplementedError(request.param)


def test_a_customer_added_can_be_read_back_by_id(customers):
    added = customers.add("ada@example.com", "Ada")

    assert customers.get(added.id).name == "Ada"


# TODO: one test per promise in customers.py: an address unique ignoring case, newest first,
# a created_at with a time zone, copies handed out (not the stored object), atomic() all or
# nothing. Then make every test run on both implementations.
