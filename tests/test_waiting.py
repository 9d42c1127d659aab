"""seamlab.waiting.wait_for: poll with a deadline, fail with a message that says what was awaited."""

from __future__ import annotations

import itertools

import pytest

from seamlab.waiting import wait_for


def test_returns_the_first_truthy_value_of_the_predicate():
    assert wait_for(lambda: {"id": 7}, timeout=1.0) == {"id": 7}


def test_keeps_polling_until_the_predicate_becomes_true():
    calls = itertools.count(1)

    def third_time_lucky():
        return next(calls) >= 3 and "done"

    assert wait_for(third_time_lucky, timeout=5.0, interval=0.001) == "done"


def test_an_exception_from_the_predicate_counts_as_not_yet():
    calls = itertools.count(1)

    def flaky():
        if next(calls) < 3:
            raise ConnectionError("not listening yet")
        return True

    assert wait_for(flaky, timeout=5.0, interval=0.001) is True


def test_raises_assertion_error_naming_what_was_awaited_and_how_long():
    with pytest.raises(AssertionError) as caught:
        wait_for(lambda: False, timeout=0.05, interval=0.01, what="the welcome email")
    message = str(caught.value)
    assert "the welcome email" in message
    assert "Timed out after 0." in message


def test_the_timeout_message_mentions_the_last_error_raised():
    def refused():
        raise ConnectionRefusedError("port 5433")

    with pytest.raises(AssertionError, match="ConnectionRefusedError: port 5433"):
        wait_for(refused, timeout=0.05, interval=0.01, what="Postgres")


def test_a_zero_timeout_still_checks_once():
    assert wait_for(lambda: 1, timeout=0) == 1
    with pytest.raises(AssertionError, match=r"\(1 checks\)"):
        wait_for(lambda: 0, timeout=0)


@pytest.mark.parametrize("timeout, interval", [(-1, 0.02), (1.0, 0), (1.0, -0.5)])
def test_rejects_a_negative_timeout_or_a_non_positive_interval(timeout, interval):
    with pytest.raises(ValueError):
        wait_for(lambda: True, timeout=timeout, interval=interval)
