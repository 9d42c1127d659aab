"""The grading engine against two tiny fixture exercises (tests/fixtures/), on real services."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from fixtures.demo import FIX_DEMO, WRITE_DEMO, learner_copy

from seamlab.grading import GradeResult, MutantOutcome, TestOutcome, grade, run_visible
from seamlab.grading import mutants as mutant_grading
from seamlab.grading.engine import summarize
from seamlab.grading.kinds import write_tests


# --- fix exercises ---------------------------------------------------------------------------
def test_the_starter_fails_on_the_seam_test_with_the_hidden_tests_message():
    result = grade(FIX_DEMO)

    assert result.verdict == "failed", result.summary
    failing = [t for t in result.tests if t.outcome != "passed"]
    assert [t.name for t in failing] == ["test_recall_gives_back_text_from_real_redis"]
    assert failing[0].seam and failing[0].outcome == "failed"
    assert failing[0].first_line.startswith("real Redis gave back b'hello ada'")
    assert result.score == 0 and result.max_score == 10
    assert result.summary.startswith("fix-demo: 1 of 2 hidden tests fail.")


def test_the_solution_passes_and_scores_full_points():
    result = grade(FIX_DEMO, target=FIX_DEMO.solution_folder)

    assert result.verdict == "passed", result.summary
    assert [t.outcome for t in result.tests] == ["passed", "passed"]
    assert result.score == result.max_score == 10
    assert set(result.phases) >= {"private_state", "child", "cleanup"}


def test_a_result_survives_a_round_trip_through_json():
    result = GradeResult(
        exercise="fix-demo", target="/x", verdict="failed", summary="one line",
        tests=[TestOutcome("a.py::t", "t", "failed", True, "msg", "greetings.py:3", 0.1)],
        mutants=[MutantOutcome("m", "a mistake", False)], score=3, max_score=10,
    )

    again = GradeResult.from_json(result.to_json())

    assert again == result
    assert json.loads(result.to_json())["tests"][0]["location"] == "greetings.py:3"


def test_junit_xml_is_written_when_asked_for(tmp_path):
    report = tmp_path / "junit.xml"

    grade(FIX_DEMO, junit=report)

    cases = ET.parse(report).getroot().iter("testcase")
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert failed == ["test_recall_gives_back_text_from_real_redis"]


def test_the_learners_pytest_config_is_not_read(tmp_path):
    # An ini that would break any pytest run that read it: an unknown option in addopts.
    target = learner_copy(FIX_DEMO.solution_folder, tmp_path,
                          **{"pytest.ini": "[pytest]\naddopts = --no-such-option\n"})

    assert grade(FIX_DEMO, target=target).verdict == "passed"


def test_the_visible_tests_run_with_the_learners_own_conftest():
    result = run_visible(FIX_DEMO)

    assert result.verdict == "passed", result.summary
    assert result.summary == "fix-demo: all 1 visible tests pass."


def test_the_summary_names_the_first_failing_test_and_its_message():
    tests = [TestOutcome("t.py::a", "a", "passed"),
             TestOutcome("t.py::b", "b", "failed", True, "expected 3\nassert 2 == 3")]

    assert summarize("x", "failed", tests, "") == "x: 1 of 2 hidden tests fail. b: expected 3"


# --- write-tests exercises -------------------------------------------------------------------
def test_the_reference_tests_catch_every_planted_fault():
    result = grade(WRITE_DEMO, target=WRITE_DEMO.solution_folder)

    assert result.verdict == "passed", result.summary
    assert [(m.name, m.caught) for m in result.mutants] == [
        ("euros_not_cents", True), ("first_price_wins", True)]
    assert result.score == 10


def test_tests_that_miss_a_fault_name_the_mistake_and_score_part(tmp_path):
    only_first_price = (
        "from prices import price_of, set_price, setup\n\n"
        "def test_a_price_comes_back_in_cents(conn):\n"
        "    setup(conn)\n    set_price(conn, 'tea', 350)\n"
        "    assert price_of(conn, 'tea') == 350\n"
    )
    target = learner_copy(WRITE_DEMO.folder, tmp_path, **{"tests__test_prices.py": only_first_price})

    result = grade(WRITE_DEMO, target=target)

    assert result.verdict == "failed"
    assert [m.caught for m in result.mutants] == [True, False]
    assert result.score == 5
    assert "Missed: 'Keeps the first price: a second set_price is silently ignored.'" in (
        result.summary)


def test_an_empty_test_file_catches_no_fault():
    faults = write_tests.run_against_mutants(WRITE_DEMO, WRITE_DEMO.folder)

    assert [m.caught for m in faults] == [False, False]


def test_the_starter_test_file_with_no_tests_is_told_to_write_one():
    result = grade(WRITE_DEMO)

    assert result.verdict == "failed"
    assert result.score == 0
    assert "no tests were found in tests/test_prices.py" in result.summary


def test_tests_that_fail_on_the_correct_system_score_nothing(tmp_path):
    wrong = ("from prices import price_of\n\n"
             "def test_an_unknown_sku_costs_nothing(conn):\n"
             "    from prices import setup\n    setup(conn)\n"
             "    assert price_of(conn, 'tea') == 0, 'an unknown sku should cost 0'\n")
    target = learner_copy(WRITE_DEMO.folder, tmp_path, **{"tests__test_prices.py": wrong})

    result = grade(WRITE_DEMO, target=target)

    assert result.verdict == "failed" and result.score == 0 and result.mutants == []
    assert "must pass on the correct system first" in result.summary
    assert "an unknown sku should cost 0" in result.summary


def test_without_solutions_the_correct_system_is_the_learners_folder_with_the_reference_modules(
        tmp_path):
    """A learner's bundle has no solutions/: the hidden folder's reference/ copies stand in."""
    import dataclasses
    import shutil

    base = tmp_path / "bundle"
    shutil.copytree(WRITE_DEMO.base / "starter", base / "starter")
    shutil.copytree(WRITE_DEMO.base / "mutants", base / "mutants")
    (base / "hidden" / "reference").mkdir(parents=True)
    shutil.copyfile(WRITE_DEMO.solution_folder / "prices.py", base / "hidden/reference/prices.py")
    (base / "starter" / "prices.py").write_text("def broken(:\n")  # the learner's own copy
    shutil.copyfile(WRITE_DEMO.solution_folder / "tests/test_prices.py",
                    base / "starter/tests/test_prices.py")
    bundle = dataclasses.replace(WRITE_DEMO, base=base)

    result = grade(bundle)

    assert result.verdict == "passed", result.summary
    assert [m.caught for m in result.mutants] == [True, True]


def test_a_fault_can_name_the_test_files_that_must_catch_it_and_what_they_should_check(tmp_path):
    fault = tmp_path / "repository_forgets.py"
    fault.write_text('# mutates: repo.py\n# tests: tests/test_repo.py tests/test_more.py\n'
                     '"""The repository forgets.\n\nCheck the rows, not\n the answer."""\n')

    mutant = mutant_grading.read_mutant(fault)

    assert mutant.tests == ("tests/test_repo.py", "tests/test_more.py")
    assert (mutant.description, mutant.advice) == ("The repository forgets.",
                                                   "Check the rows, not the answer.")


def test_faults_are_graded_in_the_same_order_one_at_a_time_or_side_by_side(monkeypatch):
    outcomes = []
    for workers in ("1", "2"):
        monkeypatch.setenv(write_tests.WORKERS_ENV, workers)
        outcomes.append(write_tests.run_against_mutants(WRITE_DEMO, WRITE_DEMO.solution_folder))

    assert outcomes[0] == outcomes[1]
    assert [m.name for m in outcomes[0]] == ["euros_not_cents", "first_price_wins"]


def test_a_mutant_without_its_header_line_is_an_authoring_error(tmp_path):
    bad = tmp_path / "oops.py"
    bad.write_text('"""Forgot the header."""\n')

    with pytest.raises(mutant_grading.MutantError, match="# mutates: <module>.py"):
        mutant_grading.read_mutant(bad)



# --- the notebook API ------------------------------------------------------------------------
def test_seamlab_target_points_the_notebook_check_at_solutions_or_a_folder(monkeypatch, tmp_path):
    from seamlab.notebook import resolve_target

    monkeypatch.delenv("SEAMLAB_TARGET", raising=False)
    assert resolve_target(FIX_DEMO) == FIX_DEMO.folder
    monkeypatch.setenv("SEAMLAB_TARGET", "solutions")
    assert resolve_target(FIX_DEMO) == FIX_DEMO.solution_folder
    monkeypatch.setenv("SEAMLAB_TARGET", str(tmp_path))
    assert resolve_target(FIX_DEMO) == tmp_path


def test_the_notebook_summary_is_the_same_on_every_run():
    from seamlab.notebook import render

    first, second = grade(FIX_DEMO), grade(FIX_DEMO)

    assert render(first) == render(second) == (
        "fix-demo: 1/2 hidden tests pass.\n"
        "  - test_recall_gives_back_text_from_real_redis: real Redis gave back b'hello ada': "
        "it returns bytes, the dict in the unit test returned str"
    )


SLOW_TO_DESCRIBE = '''
import time


class Refused(Exception):
    def __str__(self):
        time.sleep(2.5)  # pytest formats this after the import has already failed
        return "refused at import"


raise Refused()
'''


def test_an_import_error_that_is_slow_to_format_is_reported_as_the_learners_error(tmp_path):
    # The import budget (2 s here) covers importing alone, not pytest's work after a failed
    # import: a late alarm escaped pytest as an internal error and the learner read
    # "ImportTookTooLong" instead of their own exception.
    target = learner_copy(FIX_DEMO.solution_folder, tmp_path, **{"greetings.py": SLOW_TO_DESCRIBE})

    result = grade(FIX_DEMO, target=target, timeout=2)

    assert result.verdict == "learner_error", result.summary
    assert "Refused: refused at import" in result.summary
    assert "ImportTookTooLong" not in result.summary + " ".join(t.message for t in result.tests)
