"""The scores table on a real Postgres."""

from __future__ import annotations

import pytest

from scores_repo import best_scores, count_scores, record_score


def test_each_submission_is_a_row(db):
    record_score(db, "ada", 10)
    record_score(db, "ada", 30)
    record_score(db, "grace", 20)

    assert count_scores(db) == 3
    assert count_scores(db, "ada") == 2


def test_the_leaderboard_keeps_each_players_best_score(db):
    record_score(db, "ada", 10)
    record_score(db, "ada", 30)
    record_score(db, "grace", 20)

    assert best_scores(db) == [("ada", 30), ("grace", 20)]


def test_ties_are_listed_alphabetically(db):
    record_score(db, "linus", 50)
    record_score(db, "grace", 50)
    record_score(db, "ada", 40)

    assert best_scores(db) == [("grace", 50), ("linus", 50), ("ada", 40)]


def test_the_leaderboard_is_cut_at_the_limit(db):
    for index in range(12):
        record_score(db, f"player{index:02}", index)

    top = best_scores(db, limit=10)

    assert len(top) == 10
    assert top[0] == ("player11", 11)


def test_a_negative_score_is_refused(db):
    with pytest.raises(ValueError):
        record_score(db, "mallory", -5)

    assert count_scores(db) == 0
