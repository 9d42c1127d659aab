"""Instructor mode: the student bundle, submissions, shards, resuming, and the outputs."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from seamlab import course as course_module
from seamlab.errors import SeamlabError
from seamlab.instructor import autograde, netns, outputs, release, store, submissions
from seamlab.instructor.synthetic import make_class

ROOT = Path(__file__).resolve().parents[1]
SEAMLAB = str(Path(os.sys.executable).with_name("seamlab"))


@pytest.fixture(scope="module")
def course():
    return course_module.load(ROOT)


def _solution_only_line(course) -> str:
    """A line of the solution of 01 that appears nowhere else in the course."""
    elsewhere = "\n".join(
        p.read_text(errors="replace") for folder in ("exercises", "src", "notebooks", "services")
        for p in (course.root / folder).rglob("*") if p.is_file() and p.suffix in (".py", ".md"))
    for line in (course.exercise("01").solution_folder / "validation.py").read_text().splitlines():
        if len(line.strip()) > 20 and line.strip() not in elsewhere:
            return line.strip()
    raise AssertionError("the solution of 01 has no line of its own")


def _seamlab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SEAMLAB_HOME"}
    return subprocess.run([SEAMLAB, *args], check=False, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=180)


# --- release --------------------------------------------------------------------------------
def test_a_release_ships_no_solution_code(course, tmp_path):
    made = release.release(course, tmp_path / "bundle")
    needle = _solution_only_line(course)
    assert not (made.out / "solutions").exists()
    leaks = [p for p in made.out.rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".ipynb")
             and needle in p.read_text(errors="replace")]
    assert leaks == [], f"solution code found in {leaks}"
    assert (made.out / "src/seamlab/hidden/01-date-seam").is_dir()
    assert release.hidden_shipped(made.out)


def test_a_release_leaves_the_author_and_instructor_guides_out(course, tmp_path):
    made = release.release(course, tmp_path / "bundle")
    for guide in ("AUTHORING.md", "INSTRUCTOR.md"):
        assert (course.root / "docs" / guide).is_file()
        assert not (made.out / "docs" / guide).exists(), f"docs/{guide} was shipped to learners"


def test_a_release_ships_notebooks_that_show_no_verdict_and_no_answer(course, tmp_path):
    import nbformat

    from seamlab.spoilers import SOLVED, spoiler_cells

    made = release.release(course, tmp_path / "bundle")
    notebooks = sorted((made.out / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == len(course.chapters)
    assert not (made.out / "notebooks/.reference").exists(), "the reference runs are shipped"
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        shown = [i for i in spoiler_cells(notebook) if notebook.cells[i].outputs]
        assert shown == [], f"{path.name} cells {shown} show their answer before they are run"
        solved = [o for cell in notebook.cells for o in cell.get("outputs", [])
                  if SOLVED.search(o.get("text", "") + o.get("data", {}).get("text/plain", ""))]
        assert solved == [], f"{path.name} shows a solved exercise: {solved[:1]}"


def test_a_release_without_hidden_tests_keeps_only_the_learners_fixtures(course, tmp_path):
    made = release.release(course, tmp_path / "bundle", hidden=False)
    hidden = made.out / "src/seamlab/hidden"
    left = sorted(p.relative_to(hidden).as_posix() for p in hidden.rglob("*") if p.is_file())
    write_tests = {ex.slug for ex in course.exercises if ex.is_write_tests}
    expected = [f"{slug}/conftest.py" for slug in write_tests
                if (course.exercise(slug).hidden_dir / "conftest.py").is_file()]
    expected += [f"{ex.slug}/{p.name}" for ex in course.exercises
                 for p in ex.hidden_dir.glob("*_fixtures.py") if not p.name.startswith("test_")]
    assert left == sorted(expected)
    assert not any(name.split("/")[1].startswith("test_") for name in left)
    assert not (made.out / "src/seamlab/mutants").exists()
    assert not release.hidden_shipped(made.out)


def test_a_bundle_without_hidden_tests_keeps_the_fixtures_visible_tests_load(
        course, tmp_path):
    """bottom-up and stub-drift's visible tests load fixtures kept beside the hidden tests."""
    made = release.release(course, tmp_path / "bundle", hidden=False)
    for ref in ("bottom-up", "stub-drift"):
        exercise = course.exercise(ref)
        fixtures = sorted(exercise.hidden_dir.glob("*_fixtures.py"))
        assert fixtures, f"{exercise.slug} no longer keeps learner fixtures beside its hidden tests"
        for path in fixtures:
            assert (made.out / "src/seamlab/hidden" / exercise.slug / path.name).is_file()


def test_release_refuses_a_folder_that_is_not_empty(course, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(SeamlabError, match="not empty"):
        release.release(course, tmp_path / "taken")


def test_check_in_a_bundle_without_hidden_tests_runs_the_visible_tests_only(course, tmp_path):
    made = release.release(course, tmp_path / "bundle", hidden=False)
    run = _seamlab("check", "01", cwd=made.out)
    assert "Hidden tests are not part of this bundle" in run.stdout, run.stdout + run.stderr
    assert run.returncode == 0, run.stdout  # the visible tests are green on the starter
    solution = _seamlab("solution", "01", "--force", cwd=made.out)
    assert "no solutions/01-date-seam/" in solution.stdout
    assert solution.returncode == 2


def test_check_in_a_full_bundle_runs_the_hidden_tests(course, tmp_path):
    made = release.release(course, tmp_path / "bundle")
    run = _seamlab("check", "01", "--json", cwd=made.out)
    result = json.loads(run.stdout)
    assert result["verdict"] == "failed", run.stdout[:500]  # the starter's seam is broken
    assert run.returncode == 1


# --- submissions ------------------------------------------------------------------------------
def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return path


def test_a_zip_that_reaches_outside_its_folder_is_refused(tmp_path):
    archive = _zip(tmp_path / "eve.zip", {"01-date-seam/x.py": b"", "../../escape.py": b"boom"})
    with pytest.raises(submissions.SubmissionError, match="outside its folder"):
        submissions.unzip(archive, tmp_path / "out")
    assert not (tmp_path / "escape.py").exists()


def test_a_zip_with_a_symbolic_link_is_refused(tmp_path):
    archive = _zip(tmp_path / "eve.zip", {"01-date-seam/x.py": b""}, links=("01-date-seam/l",))
    with pytest.raises(submissions.SubmissionError, match="symbolic link"):
        submissions.unzip(archive, tmp_path / "out")


def test_a_zip_that_unpacks_to_an_absurd_size_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "MAX_UNPACKED_BYTES", 1000)
    archive = _zip(tmp_path / "big.zip", {"01-date-seam/big.py": b"x" * 5000})
    with pytest.raises(submissions.SubmissionError, match="unpacks to"):
        submissions.unzip(archive, tmp_path / "out")


def test_submissions_are_found_as_folders_zips_and_git_repositories(course, tmp_path):
    make_class(course, tmp_path / "subs", 4, [course.exercise("01")])
    found = {s.learner: s.kind for s in submissions.discover(tmp_path / "subs")}
    assert found == {"learner01": "folder", "learner02": "folder", "learner03": "zip",
                     "learner04": "git"}
    for sub in submissions.discover(tmp_path / "subs"):
        root = submissions.materialize(sub, tmp_path / "work")
        assert (root / "01-date-seam" / "validation.py").is_file(), sub


def test_every_job_falls_in_exactly_one_shard():
    keys = [f"learner{n}/0{e}-x" for n in range(40) for e in range(5)]
    for count in (1, 2, 3):
        owners = [[i for i in range(1, count + 1) if autograde.in_shard(k, (i, count))]
                  for k in keys]
        assert all(len(o) == 1 for o in owners)
    with pytest.raises(SeamlabError, match="i/n"):
        autograde.parse_shard("0/2")


# --- autograde: shards, merge, resume, outputs -------------------------------------------------
needs_sandbox = pytest.mark.skipif(netns.available() is not None,
                                   reason=f"the sandbox needs root: {netns.available()}")


@needs_sandbox
# Ten sandboxed grades in a row: on a busy 2-core machine that is more than the suite's 60 s
# hang guard (seen: timed out under load 4, 2 of 5 busy runs). A guard, not a speed goal.
@pytest.mark.timeout(300)
def test_merged_shards_equal_the_unsharded_gradebook_and_reruns_skip_graded_work(course,
                                                                                tmp_path):
    subs = tmp_path / "subs"
    make_class(course, subs, 4, [course.exercise("01")])
    options = {"workers": 2, "exercises": ("01",), "timeout": 10, "wall_timeout": 60}
    whole = tmp_path / "whole"
    done = autograde.autograde(course, subs, whole, autograde.Options(**options))
    assert (done.planned, done.skipped, len(done.graded)) == (4, 0, 4)
    book = outputs.write(course, whole)

    for index in (1, 2):
        autograde.autograde(course, subs, tmp_path / f"shard{index}",
                            autograde.Options(shard=(index, 2), **options))
    merged = tmp_path / "merged"
    outputs.merge(course, merged, [tmp_path / "shard1", tmp_path / "shard2"])
    assert (merged / "gradebook.csv").read_text() == (whole / "gradebook.csv").read_text()
    assert (merged / "gradebook.json").read_text() == (whole / "gradebook.json").read_text()

    rows = list(csv.DictReader(io.StringIO((whole / "gradebook.csv").read_text())))
    scores = {row["learner"]: int(row["01-date-seam"]) for row in rows}
    assert scores == {"learner01": 10, "learner02": 10, "learner03": 0, "learner04": 0}
    assert book.learners == sorted(scores)

    again = autograde.autograde(course, subs, whole, autograde.Options(**options))
    assert (again.skipped, len(again.graded)) == (4, 0)
    solved = subs / "learner03.zip"
    solved.unlink()
    (subs / "learner03").mkdir()
    os.rename(subs / "learner01" / "01-date-seam", subs / "learner03" / "01-date-seam")
    changed = autograde.autograde(course, subs, whole, autograde.Options(**options))
    assert sorted(r.learner for r in changed.graded) == ["learner01", "learner03"]

    outputs.write(course, whole)
    feedback = (whole / "feedback" / "learner04.md").read_text()
    assert "the seam still breaks" in feedback and "Hint:" in feedback
    assert "not submitted" in (whole / "feedback" / "learner01.md").read_text()
    page = (whole / "report.html").read_text()
    assert "<svg" in page and "Faults most often missed" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert store.read(store.path_for(whole, "learner03", "01-date-seam")).result.score == 10
