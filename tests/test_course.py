"""The course manifest: the real one is valid, and every malformed one names its key and line."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seamlab import course
from seamlab.cli import app
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
minutes = 20
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
        ("minutes = 20", "minutes = 0", "course.toml:22: exercises[0].minutes = 0 must be the minutes"),
        ("minutes = 20\n", "", "course.toml:11: exercises[0] is missing 'minutes'"),
        ("minutes = 20", 'minutes = 20\nformerly = ["Old"]', "course.toml:23: exercises[0].formerly has 'Old'"),
    ],
)
def test_a_malformed_manifest_names_the_key_and_its_line(old, new, expected):
    assert old in GOOD
    assert error_for(GOOD.replace(old, new, 1)).startswith(expected)


def test_a_duplicate_exercise_id_points_at_the_second_one():
    second = GOOD[GOOD.index("[[exercises]]"):].replace('slug = "01-date-seam"', 'slug = "01-other"')

    message = error_for(GOOD + "\n" + second)

    assert message.startswith("course.toml:25: exercises[1].id = '01' is already used by exercises[0]")


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


def test_a_former_slug_finds_the_exercise_but_a_bare_number_is_todays():
    renamed = GOOD.replace("minutes = 20", 'minutes = 20\nformerly = ["08-date-seam"]')
    loaded = parse(renamed)

    assert loaded.exercise("08-date-seam").slug == "01-date-seam"
    assert loaded.renamed == {"08-date-seam": "01-date-seam"}
    with pytest.raises(CourseError, match="There is no exercise '08'"):
        loaded.exercise("08")


def test_a_former_slug_may_not_be_another_exercises_slug():
    second = GOOD[GOOD.index("[[exercises]]"):].replace('id = "01"', 'id = "02"').replace(
        'slug = "01-date-seam"', 'slug = "02-other"').replace(
        "minutes = 20", 'minutes = 20\nformerly = ["01-date-seam"]')

    assert "formerly has '01-date-seam', which already names another exercise" in error_for(
        GOOD + "\n" + second)


# --- one order through the course -------------------------------------------------------------

#: How a chapter points at an exercise: its slug, `seamlab check NN`, seamlab.check("NN"),
#: "exercise NN".
POINTER = re.compile(
    r"\b(?P<slug>\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*)\b"
    r"|seamlab (?:check|hint|watch|reset|solution) (?P<cli>\d{2})\b"
    r"|seamlab\.check\(\s*[\"'](?P<call>\d{2})[\"']"
    r"|\b[Ee]xercises? (?P<prose>\d{2})\b"
)


def chapter_pointers(loaded: course.Course, chapter: course.Chapter) -> list[str]:
    """The exercise ids a chapter's source points at, in the order it points at them."""
    source = (ROOT / chapter.notebook).with_suffix(".py").read_text(encoding="utf-8")
    by_slug = {e.slug: e.id for e in loaded.exercises}
    found = []
    for match in POINTER.finditer(source):
        if match["slug"]:
            if match["slug"] in by_slug:
                found.append(by_slug[match["slug"]])
        else:
            found.append(match["cli"] or match["call"] or match["prose"])
    return found


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def course_copy(tmp_path, monkeypatch):
    """The real manifest and exercise folders, with a progress file of our own."""
    shutil.copy(ROOT / "course.toml", tmp_path / "course.toml")
    shutil.copytree(ROOT / "exercises", tmp_path / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    monkeypatch.setenv("SEAMLAB_HOME", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


def write_progress(root: Path, passed: list[str]) -> None:
    entries = {slug: {"status": "passed", "best_score": 10, "max_score": 10} for slug in passed}
    (root / ".seamlab").mkdir(exist_ok=True)
    (root / ".seamlab" / "progress.json").write_text(json.dumps({"version": 1, "exercises": entries}))


def test_one_order_manifest_numbers_next_chapters_and_list_agree(course_copy):
    loaded = course.load(course_copy)
    manifest = [e.id for e in loaded.exercises]
    chapter_order = [c.id for c in loaded.chapters]

    # Numbers rise in manifest order (a number kept free for an exercise to come is allowed),
    # and the chapters they belong to never go back.
    assert manifest[0] == "01"
    assert manifest == sorted(set(manifest), key=int), f"manifest order {manifest} is not numeric"
    placed = [chapter_order.index(e.chapter) for e in loaded.exercises]
    assert placed == sorted(placed), "an exercise comes before one of an earlier chapter"

    # `seamlab` names as next the first exercise not passed: pass them one by one.
    nexts = []
    for done in range(len(loaded.exercises)):
        write_progress(course_copy, [e.slug for e in loaded.exercises[:done]])
        nexts.append(re.search(r"Next: (\d{2}) ·", cli()).group(1))
    assert nexts == manifest

    # `seamlab list`: one row per exercise, in this order.
    write_progress(course_copy, [])
    listed = re.findall(r"^│ \d{2} │ (?:→ | {2})(\d{2}) ", cli("list"), re.MULTILINE)
    assert listed == manifest

    # Every chapter points only at its own exercises (chapter 00 at the first one), in order,
    # and at every one of them.
    for chapter in loaded.chapters:
        pointed = chapter_pointers(loaded, chapter)
        own = [e.id for e in loaded.exercises if e.chapter == chapter.id]
        if chapter.id == "00":
            assert set(pointed) <= {manifest[0]}, f"chapter 00 points at {pointed}"
            continue
        assert set(pointed) <= set(own), (
            f"chapter {chapter.id} points at exercise(s) {sorted(set(pointed) - set(own))} of "
            f"another chapter; its own are {own}")
        assert sorted(set(pointed)) == own, f"chapter {chapter.id} never points at some of {own}"
        firsts = list(dict.fromkeys(pointed))
        assert firsts == own, f"chapter {chapter.id} points at {firsts}, not in course order {own}"


def test_list_and_the_readme_show_the_time_each_exercise_takes(course_copy):
    loaded = course.load(course_copy)
    listing = cli("list")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d{2}) \| `([^`]+)`.*\| (\d+) min \|$", readme, re.MULTILINE)

    assert rows == [(e.id, e.slug, str(e.minutes)) for e in loaded.exercises]
    for exercise in loaded.exercises:
        line = next(line for line in listing.splitlines() if f" {exercise.id} " in line)
        assert f"{exercise.minutes} min" in line


def test_an_old_progress_file_counts_under_the_new_numbers(course_copy):
    loaded = course.load(course_copy)
    moved = next(e for e in loaded.exercises if e.formerly)
    write_progress(course_copy, [loaded.exercises[0].slug, moved.formerly[0]])

    row = next(line for line in cli("list").splitlines() if f" {moved.id} " in line)
    assert "passed" in row and "10/10" in row
    assert f"Exercise {moved.id}" in cli("hint", moved.formerly[0]) or moved.title in cli(
        "hint", moved.formerly[0])
