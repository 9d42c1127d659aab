"""The course manifest: the real one is valid, and every malformed one names its key and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from seamlab import course
from seamlab.course import CourseError

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
[course]
title = "t"

[[chapters]]
id = "01"
slug = "seams"
title = "Seams"
notebook = "notebooks/01-seams.ipynb"
objectives = ["one"]

[[exercises]]
id = "01"
slug = "01-date-seam"
title = "The date"
chapter = "01"
seam = "a -> b"
services = ["postgres"]
kind = "fix"
points = 10
files = ["validation.py"]
hints = ["a", "b", "c"]
"""


def parse(text: str) -> course.Course:
    return course.parse(text, Path("/nowhere"))


def error_for(text: str) -> str:
    with pytest.raises(CourseError) as caught:
        parse(text)
    return str(caught.value)


def test_the_real_manifest_is_valid_against_the_disk():
    loaded = course.validate(ROOT)

    ids = [c.id for c in loaded.chapters]
    assert ids == sorted(set(ids)), f"chapter ids must be unique and in order: {ids}"
    assert ids[:10] == [f"{n:02d}" for n in range(10)]
    assert loaded.exercise("01").slug == "01-date-seam"


def test_reads_exercises_with_types_and_paths():
    loaded = parse(GOOD)
    exercise = loaded.exercises[0]

    assert exercise.services == ("postgres",)
    assert exercise.points == 10
    assert exercise.tests == ()
    assert exercise.folder == Path("/nowhere/exercises/01-date-seam")
    assert exercise.hidden_dir.name == "01-date-seam"


@pytest.mark.parametrize("ref", ["01", "1", "01-date-seam", "date-seam", "exercises/01-date-seam/"])
def test_finds_an_exercise_by_number_or_slug(ref):
    assert parse(GOOD).exercise(ref).slug == "01-date-seam"


def test_an_unknown_exercise_names_the_ones_that_exist():
    with pytest.raises(CourseError, match="There is no exercise '7'.*exercises: 01"):
        parse(GOOD).exercise("7")


def test_does_not_require_the_chapter_notebooks_to_exist():
    assert parse(GOOD).chapters[0].notebook == "notebooks/01-seams.ipynb"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('kind = "fix"', 'kind = "fixx"',
         "course.toml:18: exercises[0].kind = 'fixx' must be one of fix, write-tests"),
        ("points = 10", "points = 0", "course.toml:19: exercises[0].points = 0 must be a whole number"),
        ('points = 10', 'points = "ten"', "course.toml:19: exercises[0].points = 'ten'"),
        ('hints = ["a", "b", "c"]', 'hints = ["a", "b"]',
         "course.toml:21: exercises[0].hints has 2 hint(s); it needs exactly 3"),
        ('chapter = "01"', 'chapter = "04"',
         "course.toml:15: exercises[0].chapter = '04' is not a chapter id"),
        ('seam = "a -> b"\n', "", "course.toml:11: exercises[0] is missing 'seam'"),
        ('services = ["postgres"]', 'services = ["postgre"]',
         "course.toml:17: exercises[0].services has 'postgre'"),
        ('slug = "01-date-seam"', 'slug = "Date Seam"', "course.toml:13: exercises[0].slug = 'Date Seam'"),
        ('files = ["validation.py"]', 'files = ["../escape.py"]',
         "course.toml:20: exercises[0].files has '../escape.py'"),
        ('files = ["validation.py"]', 'filez = ["validation.py"]',
         "course.toml:20: exercises[0].filez is not a known key"),
        ('kind = "fix"', 'kind = "write-tests"', "course.toml:11: exercises[0].tests is empty"),
        ('objectives = ["one"]', "objectives = []", "course.toml:9: chapters[0].objectives must not be empty"),
        ('title = "t"', 'title = ""', "course.toml:2: course.title = '' must be a non-empty string"),
    ],
)
def test_a_malformed_manifest_names_the_key_and_its_line(old, new, expected):
    assert old in GOOD
    assert error_for(GOOD.replace(old, new, 1)).startswith(expected)


def test_a_duplicate_exercise_id_points_at_the_second_one():
    second = GOOD[GOOD.index("[[exercises]]"):].replace('slug = "01-date-seam"', 'slug = "01-other"')

    message = error_for(GOOD + "\n" + second)

    assert message.startswith("course.toml:24: exercises[1].id = '01' is already used by exercises[0]")


def test_invalid_toml_reports_tomllibs_position():
    assert "line 2" in error_for('[course]\ntitle = "unclosed\n')


def test_a_missing_manifest_says_where_it_looked(tmp_path):
    with pytest.raises(CourseError, match="No course.toml in .*SEAMLAB_HOME"):
        course.load(tmp_path)


def test_validate_names_a_listed_file_that_is_missing(tmp_path):
    shutil.copy(ROOT / "course.toml", tmp_path / "course.toml")
    shutil.copytree(ROOT / "exercises" / "01-date-seam", tmp_path / "exercises" / "01-date-seam")
    (tmp_path / "exercises" / "01-date-seam" / "validation.py").unlink()

    with pytest.raises(CourseError) as caught:
        course.validate(tmp_path)

    line = next(
        n for n, text in enumerate((tmp_path / "course.toml").read_text().splitlines(), 1)
        if text.startswith('files = ["validation.py"]')
    )
    assert f"course.toml:{line}: exercises[0].files lists 'validation.py'" in str(caught.value)
