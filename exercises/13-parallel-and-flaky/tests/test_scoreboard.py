"""The scoreboard end to end: Postgres, Redis and the background refresh."""

from __future__ import annotations

import time

import pytest

from scores_repo import count_scores


def test_a_submission_is_stored_and_remembered_as_best(board, db, cache):
    board.submit("ada", 30)

    assert count_scores(db, "ada") == 1
    assert cache.best("ada") == 30


def test_the_top_list_is_computed_when_nothing_is_cached(board, db, cache):
    board.submit("ada", 30)
    board.submit("grace", 20)
    board.close()  # no background refresh: top() must compute it
    cache.client.delete(cache.key("top"))

    assert [entry["player"] for entry in board.top()] == ["ada", "grace"]


@pytest.mark.flaky(reruns=3)
def test_the_top_list_is_refreshed_after_a_burst_of_submissions(board, cache):
    board.submit("ada", 120)
    board.submit("grace", 90)
    board.submit("linus", 150)

    time.sleep(0.5)  # the refresh runs 50 ms after the last submission

    assert [entry["player"] for entry in cache.top()] == ["linus", "ada", "grace"]


def test_top_is_served_from_the_cache(board, cache):
    cache.store_top([("ada", 30)])

    assert board.top() == [{"player": "ada", "points": 30}]
