"""Grading on GitHub: the sharded class workflow and the Classroom workflow, validated against
the published workflow schema, and their `run:` scripts run here exactly as a runner would run
them (separate processes, separate folders), on a few synthetic submissions of exercise 01."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from schemas import schema_errors

from seamlab import course as course_module
from seamlab.errors import SeamlabError
from seamlab.instructor import classroom, netns, outputs, release
from seamlab.instructor.synthetic import make_class

ROOT = Path(__file__).resolve().parents[1]
CLASS_WORKFLOW = ROOT / ".github/workflows/autograde-class.yml"
BIN = Path(os.sys.executable).parent
needs_sandbox = pytest.mark.skipif(netns.available() is not None,
                                   reason=f"the sandbox needs root: {netns.available()}")


@pytest.fixture(scope="module")
def course():
    return course_module.load(ROOT)


def _step(workflow: dict, job: str, step_id: str) -> dict:
    steps = {s.get("id"): s for s in workflow["jobs"][job]["steps"]}
    assert step_id in steps, f"job {job} has no step with id {step_id}"
    return steps[step_id]


def _run_step(step: dict, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A step's `run:` script as a runner runs it (bash -e -o pipefail), with its env."""
    full = {k: v for k, v in os.environ.items() if k != "SEAMLAB_HOME"}
    full["PATH"] = f"{BIN}:{full.get('PATH', '/usr/bin:/bin')}"
    full.update(env)
    run = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                         cwd=cwd, env=full, capture_output=True, text=True, timeout=600,
                         check=False)
    assert run.returncode == 0, f"{step.get('name', step.get('id'))}: {run.stdout}{run.stderr}"
    return run


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


# --- the files ---------------------------------------------------------------------------------
def test_the_shipped_workflows_are_valid_github_workflows(course, tmp_path):
    generated = tmp_path / "classroom.yml"
    generated.write_text(classroom.workflow(course))
    assert schema_errors(CLASS_WORKFLOW, generated) == ""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  grade:\n    steps: []\n")  # no runs-on
    assert "broken.yml" in schema_errors(broken)


def test_both_workflows_run_the_services_of_the_compose_file(course):
    compose = yaml.safe_load((ROOT / "docker-compose.test.yml").read_text())
    expected = classroom.services(compose)
    assert set(expected) == {"postgres", "redis", "rabbitmq"}
    assert "pg_isready -h 127.0.0.1" in expected["postgres"]["options"]
    sharded = yaml.safe_load(CLASS_WORKFLOW.read_text())
    assert sharded["jobs"]["shard"]["services"] == expected
    generated = yaml.safe_load(classroom.workflow(course))
    assert generated["jobs"]["run-autograding-tests"]["services"] == expected


def test_the_classroom_workflow_reports_every_exercise_with_its_points(course):
    job = yaml.safe_load(classroom.workflow(course))["jobs"]["run-autograding-tests"]
    reporter = job["steps"][-1]
    assert reporter["uses"] == classroom.REPORTER
    runners = reporter["with"]["runners"].split(",")
    assert runners == [classroom.step_id(ex) for ex in course.exercises]
    for exercise in course.exercises:
        step = _step({"jobs": {"j": job}}, "j", classroom.step_id(exercise))
        assert f"seamlab check {exercise.slug} --json" in step["run"]
        assert f"({exercise.points} points)" in step["name"]
        assert (reporter["env"][f"{classroom.step_id(exercise).upper()}_RESULTS"]
                == f"${{{{ steps.{classroom.step_id(exercise)}.outputs.result }}}}")


def test_release_writes_the_classroom_and_class_grading_workflows(course, tmp_path):
    made = release.release(course, tmp_path / "kit", classroom=True, instructor_kit=True)
    assert made.workflows == (classroom.WORKFLOW, release.CLASS_WORKFLOW)
    assert (made.out / release.CLASS_WORKFLOW).read_text() == CLASS_WORKFLOW.read_text()
    assert (made.out / classroom.WORKFLOW).read_text() == classroom.workflow(course)
    plain = release.release(course, tmp_path / "plain")
    assert not (plain.out / ".github").exists()


def test_a_classroom_release_without_hidden_tests_is_refused(course, tmp_path):
    with pytest.raises(SeamlabError, match="visible tests, which pass on the starters"):
        release.release(course, tmp_path / "bundle", hidden=False, classroom=True)


# --- Classroom points ----------------------------------------------------------------------------
def test_a_check_that_scores_part_of_the_points_reports_that_part(course):
    exercise = course.exercise("01")
    check = {"verdict": "failed", "score": 4, "summary": "2 of 5 hidden tests fail.",
             "tests": [{"name": "test_a", "outcome": "failed", "first_line": "expected 3, got 2"},
                       {"name": "test_b", "outcome": "passed", "first_line": ""}]}
    result = classroom.runner_result(exercise, "a warning line\n" + json.dumps(check))
    assert (result["status"], result["max_score"]) == ("fail", exercise.points)
    [test] = result["tests"]
    assert test["score"] == 4
    assert test["message"] == "2 of 5 hidden tests fail.\n✗ test_a: expected 3, got 2"
    assert classroom.decode(classroom.encode(result)) == result


def test_a_check_that_printed_no_result_is_an_error_worth_nothing(course):
    result = classroom.runner_result(course.exercise("01"), "Postgres is not answering on 5433\n")
    assert result["status"] == "error" and result["tests"][0]["score"] == 0
    assert "could not be graded: Postgres is not answering on 5433" in result["tests"][0]["message"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_classroom_step_gives_0_points_to_the_starter_and_all_to_the_solution(course,
                                                                                  tmp_path):
    bundle = release.release(course, tmp_path / "repo", classroom=True).out
    workflow = yaml.safe_load((bundle / classroom.WORKFLOW).read_text())
    exercise = course.exercise("01")
    step = _step(workflow, "run-autograding-tests", classroom.step_id(exercise))
    points = {}
    for label in ("starter", "solution"):
        if label == "solution":
            shutil.rmtree(bundle / "exercises" / exercise.slug)
            shutil.copytree(exercise.solution_folder, bundle / "exercises" / exercise.slug)
        temp = tmp_path / f"runner-{label}"
        temp.mkdir()
        _run_step(step, bundle, {"RUNNER_TEMP": str(temp),
                                 "GITHUB_OUTPUT": str(temp / "output")})
        result = json.loads(base64.b64decode(_outputs(temp / "output")["result"]))
        assert result["max_score"] == exercise.points
        points[label] = (result["status"], result["tests"][0]["score"])
    assert points == {"starter": ("fail", 0), "solution": ("pass", exercise.points)}


# --- the sharded workflow, run here ---------------------------------------------------------------
def test_a_shard_that_graded_nothing_merges_as_nothing(course, tmp_path):
    empty = tmp_path / "shard-2"  # as downloaded: the artifact keeps files, not empty folders
    empty.mkdir()
    outputs.write(course, empty)
    shutil.rmtree(empty / "results", ignore_errors=True)
    book = outputs.merge(course, tmp_path / "merged", [empty])
    assert book.learners == []


def _files(folder: Path) -> dict[str, bytes]:
    names = ["gradebook.csv", "gradebook.json", "report.html"]
    names += sorted(f"feedback/{p.name}" for p in (folder / "feedback").glob("*.md"))
    return {name: (folder / name).read_bytes() for name in names}


@needs_sandbox
@pytest.mark.slow
@pytest.mark.timeout(400)  # 8 grading runs; on a loaded 2-core machine a minute or more
def test_three_shards_run_as_the_workflow_runs_them_merge_to_the_unsharded_gradebook(
        course, tmp_path):
    workflow = yaml.safe_load(CLASS_WORKFLOW.read_text())
    handed_in = tmp_path / "handed-in"
    make_class(course, handed_in, 4, [course.exercise("01")])
    base = {"EXERCISES": "01", "WORKERS": "2"}

    def runner(name: str) -> Path:
        temp = tmp_path / name
        temp.mkdir()
        _run_step(_step(workflow, "plan", "fetch"), ROOT,
                  {"RUNNER_TEMP": str(temp), "SUBMISSIONS": str(handed_in)})
        return temp

    whole = runner("unsharded")
    _run_step(_step(workflow, "shard", "grade"), ROOT,
              {**base, "RUNNER_TEMP": str(whole), "SHARD": "1", "SHARDS": "1"})

    sharded = runner("sharded")
    plan = _run_step(_step(workflow, "plan", "plan"), ROOT,
                     {"SHARDS": "3", "GITHUB_OUTPUT": str(sharded / "plan-output")})
    assert json.loads(_outputs(sharded / "plan-output")["shards"]) == [1, 2, 3], plan.stdout
    for shard in (1, 2, 3):  # a matrix job each: own process, own output folder
        _run_step(_step(workflow, "shard", "grade"), ROOT,
                  {**base, "RUNNER_TEMP": str(sharded), "SHARD": str(shard), "SHARDS": "3"})
        # download-artifact (pattern shard-*) puts each artifact in a folder of its name
        shutil.copytree(sharded / f"shard-{shard}", sharded / "shards" / f"shard-{shard}")
    _run_step(_step(workflow, "merge", "merge"), ROOT, {"RUNNER_TEMP": str(sharded)})

    merged = _files(sharded / "gradebook")
    assert merged == _files(whole / "shard-1")
    assert merged["gradebook.csv"].decode().splitlines()[1:] == [
        "learner01,10,10,10", "learner02,10,10,10", "learner03,0,0,10", "learner04,0,0,10"]
