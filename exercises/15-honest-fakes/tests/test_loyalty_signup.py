"""Unit tests of the signup service on the in-memory fake: fast, and only as true as the fake."""

from loyalty_signup import sign_up
from memory_customers import InMemoryCustomers


def test_a_new_address_gets_a_card():
    customers = InMemoryCustomers()

    result = sign_up(customers, " ada@example.com ", "Ada")

    assert result.created and result.message == "Welcome, Ada!"
    assert customers.get(result.customer_id).email == "ada@example.com"


def test_an_address_already_known_in_other_letters_gets_the_existing_card():
    customers = InMemoryCustomers()
    first = sign_up(customers, "ada@example.com", "Ada")

    again = sign_up(customers, "Ada@Example.com", "Ada L.")

    assert not again.created and again.customer_id == first.customer_id
