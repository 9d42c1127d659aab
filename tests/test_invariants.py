"""Course invariants: every exercise in course.toml keeps the promises the course makes.

Parametrized over the manifest, so a new exercise is checked the moment it is added:
- visible tests pass on the starter (the mocks hide the seam);
- hidden tests fail on the starter, and every seam-marked test fails with an assertion
  (not an import error or a crash);
- hidden tests pass on the solution;
- write-tests (and the tests of fix-and-write-tests): the reference tests catch every planted
  fault, an empty test file catches none.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seamlab import course
from seamlab.grading import grade, run_visible
from seamlab.grading.kinds.write_tests import run_against_mutants
from seamlab.grading.mutants import load_mutants

# Each case grades a whole exercise (13 nests a pytest -n 2): seen at 39 s on a busy machine.
# The grader bounds every run itself; this is only the hang guard above it.
pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[1]
COURSE = course.load(ROOT)
ALL = COURSE.exercises
FIX = [e for e in ALL if e.fixes_code]  # fix and fix-and-write-tests
WRITE = [e for e in ALL if e.writes_tests]  # write-tests and fix-and-write-tests


def slug(exercise: course.Exercise) -> str:
    return exercise.slug


def test_the_manifest_matches_the_files_on_disk():
    course.validate(ROOT)


@pytest.mark.parametrize("exercise", ALL, ids=slug)
def test_every_exercise_has_readme_solution_hidden_tests_and_three_hints(exercise):
    assert (exercise.folder / "README.md").is_file(), f"{exercise.slug}: README.md missing"
    assert exercise.solution_folder.is_dir(), f"solutions/{exercise.slug}/ is missing"
    assert len(exercise.hints) == 3, f"{exercise.slug}: needs exactly 3 hints"
    for name in exercise.files + exercise.tests:
        assert (exercise.folder / name).is_file(), f"exercises/{exercise.slug}/{name} missing"
        assert (exercise.solution_folder / name).is_file(), (
            f"solutions/{exercise.slug}/{name} missing")
    if exercise.fixes_code:
        assert list(exercise.hidden_dir.glob("test_*.py")), (
            f"src/seamlab/hidden/{exercise.slug}/ has no test_*.py")
    if exercise.writes_tests:
        assert exercise.tests, f"{exercise.slug}: a write-tests exercise lists its test files"
        assert load_mutants(exercise), f"src/seamlab/mutants/{exercise.slug}/ has no fault"


@pytest.mark.parametrize("exercise", ALL, ids=slug)
def test_visible_tests_pass_on_the_starter(exercise):
    result = run_visible(exercise)

    assert result.verdict == "passed", result.summary


@pytest.mark.parametrize("exercise", FIX, ids=slug)
def test_hidden_tests_fail_on_the_starter_at_the_seam_with_an_assertion(exercise):
    result = grade(exercise)

    assert result.verdict == "failed", (
        f"the starter should fail the hidden tests with an assertion: {result.summary}")
    seam_tests = [t for t in result.tests if t.seam]
    assert seam_tests, f"{exercise.slug}: no hidden test is marked @pytest.mark.seam"
    not_failing = [f"{t.name}: {t.outcome}" for t in seam_tests if t.outcome != "failed"]
    assert not not_failing, f"every seam test must fail with an assertion: {not_failing}"


@pytest.mark.parametrize("exercise", FIX, ids=slug)
def test_hidden_tests_pass_on_the_solution(exercise):
    result = grade(exercise, target=exercise.solution_folder)

    assert result.verdict == "passed", result.summary


@pytest.mark.parametrize("exercise", WRITE, ids=slug)
def test_the_reference_tests_pass_and_catch_every_planted_fault(exercise):
    result = grade(exercise, target=exercise.solution_folder)

    assert result.verdict == "passed", result.summary
    assert all(m.caught for m in result.mutants)


@pytest.mark.parametrize("exercise", WRITE, ids=slug)
def test_an_empty_test_file_catches_no_planted_fault(exercise, tmp_path):
    import shutil

    target = tmp_path / exercise.slug
    shutil.copytree(exercise.solution_folder, target)
    for name in exercise.tests:
        (target / name).write_text("", encoding="utf-8")

    caught = [m.name for m in run_against_mutants(exercise, target) if m.caught]

    assert caught == [], f"these faults are 'caught' without any test: {caught}"


@pytest.mark.parametrize("exercise", ALL, ids=slug)
def test_reference_copies_in_the_hidden_folder_match_the_solution(exercise):
    """Hidden tests that grade the learner's own tests keep copies of the correct modules (the
    solutions are not shipped to learners); those copies must not drift from the solution."""
    copies = sorted((exercise.hidden_dir / "reference").glob("*.py"))
    # Probe suites carry clean copies of the app modules they exercise (isolation-fixtures).
    copies += [p for p in sorted((exercise.hidden_dir / "probe_suite").glob("*.py"))
               if (exercise.solution_folder / p.name).is_file()]
    if not copies:
        pytest.skip("no reference copies")
    for copy in copies:
        original = exercise.solution_folder / copy.name
        assert original.is_file(), f"{copy} has no counterpart in {exercise.solution_folder}"
        assert copy.read_text() == original.read_text(), (
            f"{copy} differs from {original}: update the copy after changing the solution")


FIXES = ROOT / "tests" / "fixtures" / "fixes"
FIX_FIXTURES = sorted(p for p in FIXES.glob("*/*") if p.is_dir() and p.name.split("-")[0]
                      in ("right", "wrong"))


@pytest.mark.parametrize("fix", FIX_FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_other_fixes_are_graded_by_what_they_do_not_how(fix, tmp_path):
    """Invariant 6: a correct fix unlike the reference passes; a plausible wrong one does not."""
    import shutil

    exercise = COURSE.exercise(fix.parent.name)
    target = tmp_path / exercise.slug
    shutil.copytree(exercise.folder, target)
    shutil.copytree(fix, target, dirs_exist_ok=True)

    result = grade(exercise, target=target)

    if fix.name.startswith("right-"):
        assert result.verdict == "passed", result.summary
        visible = run_visible(exercise, target=target)
        assert visible.verdict == "passed", (
            f"a right fix must keep the unit tests green: {visible.summary}")
    else:
        assert result.verdict == "failed", result.summary


TABLED = [e for e in ALL if (e.folder / ".meta" / "requirements.md").is_file()]


@pytest.mark.parametrize("exercise", TABLED, ids=slug)
def test_the_requirement_table_names_every_hidden_test_and_only_tests_that_exist(exercise):
    """Invariant 5: `.meta/requirements.md` maps each promise to the hidden test deciding it."""
    import re

    table = (exercise.folder / ".meta" / "requirements.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`[\w.]*::(test_\w+)`", table))
    defined = {m for path in exercise.hidden_dir.glob("test_*.py")
               for text in [path.read_text(encoding="utf-8")]
               for m in re.findall(r"^def (test_\w+)\(", text, re.MULTILINE)
               if f"{m}.__test__ = False" not in text}  # helpers pytest does not collect
    assert named - defined == set(), f"the table names tests that do not exist: {named - defined}"
    assert defined - named == set(), f"hidden tests missing from the table: {defined - named}"
