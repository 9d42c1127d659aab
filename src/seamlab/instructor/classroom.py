"""GitHub Classroom autograding: the learner-repo workflow, and the points each check reports.

Classroom's gradebook takes its points from the check run that its reporter action
(``classroom-resources/autograding-grading-reporter@v1``) writes: every earlier step hands the
reporter one *runner result*, base64 JSON in the step output ``result``::

    {"version": 1, "status": "pass"|"fail"|"error", "max_score": 10,
     "tests": [{"name": ..., "status": ..., "score": 7, "message": ..., ...}]}

and the points are the sum of ``tests[].score`` over the sum of ``max_score``. We write that
result ourselves (rather than use the command grader, which gives all or nothing on the exit
code) from what ``seamlab check --json`` says, so an exercise that scores part of its points
gets that part. One step per exercise: ``seamlab check EX --json``, then
``python -m seamlab.instructor.classroom EX CHECK.json >> "$GITHUB_OUTPUT"``.

The workflow is generated from the course (its exercises, their points, the services of
docker-compose.test.yml); ``seamlab release --classroom`` writes it into the bundle.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import yaml

from seamlab.course import Course, Exercise

WORKFLOW = ".github/workflows/classroom.yml"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
#: Classroom finds the reporter's check run by this name (workflow and job).
CHECK_NAME = "Autograding Tests"
MESSAGE_LIMIT = 2000


# --- one exercise's result -----------------------------------------------------------------------
def step_id(exercise: Exercise) -> str:
    """The step id, and the reporter's runner name (its results come in ``EX01_RESULTS``)."""
    return f"ex{exercise.id}"


def _parse(output: str) -> dict[str, Any] | None:
    """The JSON object ``check --json`` printed (anything printed before it is skipped)."""
    text = output.strip()
    for start in [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]:
        if text[start:start + 1] == "{":
            try:
                data = json.loads(text[start:])
            except ValueError:
                continue
            return data if isinstance(data, dict) else None
    return None


def runner_result(exercise: Exercise, output: str) -> dict[str, Any]:
    """The Classroom runner result for ``exercise`` from the output of ``check --json``."""
    name = f"{exercise.slug} ({exercise.points} points)"
    data = _parse(output)
    if data is None:
        first = next((line for line in output.strip().splitlines() if line.strip()), "")
        status, score = "error", 0
        message = ("seamlab check gave no result, so this exercise could not be graded"
                   + (f": {first.strip()}" if first else " (it printed nothing)")
                   + ". Re-run the workflow; if it says the same, tell your instructor.")
    else:
        verdict = str(data.get("verdict", ""))
        status = {"passed": "pass", "infra_error": "error"}.get(verdict, "fail")
        try:
            score = int(data.get("score") or 0)
        except (TypeError, ValueError):
            score = 0
        score = max(0, min(score, exercise.points))
        lines = [str(data.get("summary") or verdict)]
        lines += [f"✗ {t.get('name')}: {t.get('first_line', '')}".rstrip(": ")
                  for t in data.get("tests") or [] if t.get("outcome") != "passed"]
        message = "\n".join(lines)
    if len(message) > MESSAGE_LIMIT:
        message = message[:MESSAGE_LIMIT - 1] + "…"
    return {
        "version": 1,
        "status": status,
        "max_score": exercise.points,
        "tests": [{"name": name, "status": status, "score": score, "message": message,
                   "test_code": f"seamlab check {exercise.slug}", "filename": "",
                   "line_no": 0, "duration": 0}],
    }


def encode(result: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(result).encode()).decode("ascii")


def decode(text: str) -> dict[str, Any]:
    return json.loads(base64.b64decode(text))


def main(argv: list[str] | None = None) -> int:
    """``python -m seamlab.instructor.classroom EX CHECK.json``: print ``result=...`` for
    ``$GITHUB_OUTPUT`` and, on stderr, the points in one line."""
    from seamlab import course as course_module

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m seamlab.instructor.classroom EXERCISE CHECK_JSON_FILE",
              file=sys.stderr)
        return 2
    exercise = course_module.load().exercise(args[0])
    try:
        output = Path(args[1]).read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        output = f"cannot read {args[1]}: {error.strerror or error}"
    result = runner_result(exercise, output)
    test = result["tests"][0]
    print(f"{exercise.slug}: {test['score']}/{result['max_score']} points ({test['status']})",
          file=sys.stderr)
    print(f"result={encode(result)}")
    return 0


# --- the workflow ------------------------------------------------------------------------------------
_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}")


def _default(text: str) -> str:
    """Compose's ``${SEAMLAB_POSTGRES_IMAGE:-postgres:16}`` as GitHub gets it: the default
    (the official image, the course port); a runner has none of our overrides."""
    return _VARIABLE.sub(lambda match: match.group(1), text)


def services(compose: dict[str, Any]) -> dict[str, Any]:
    """Actions service containers for the image services of a compose file: same image,
    environment, ports (without the host address), tmpfs and healthcheck."""
    found: dict[str, Any] = {}
    for name, spec in (compose.get("services") or {}).items():
        if "image" not in spec or "build" in spec:
            continue  # built from a Dockerfile: service containers cannot build
        service: dict[str, Any] = {"image": _default(spec["image"])}
        if spec.get("environment"):
            service["env"] = {k: _default(str(v)) for k, v in spec["environment"].items()}
        if spec.get("ports"):
            service["ports"] = [":".join(_default(str(p)).split(":")[-2:]) for p in spec["ports"]]
        options = [f"--tmpfs {path}" for path in spec.get("tmpfs") or []]
        check = spec.get("healthcheck") or {}
        test = check.get("test")
        if test:
            command = test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])
            options.append(f'--health-cmd "{command}"')
        for key in ("interval", "timeout", "retries", "start_period"):
            if key in check:
                options.append(f"--health-{key.replace('_', '-')} {check[key]}")
        if options:
            service["options"] = " ".join(options)
        found[name] = service
    return found


def _check_step(exercise: Exercise) -> dict[str, Any]:
    report = f'"$RUNNER_TEMP/check-{exercise.id}.json"'
    return {
        "name": f"{exercise.slug} ({exercise.points} points)",
        "id": step_id(exercise),
        "timeout-minutes": 15,
        "run": (f"seamlab check {exercise.slug} --json > {report} || true\n"
                f"python -m seamlab.instructor.classroom {exercise.slug} {report} "
                '>> "$GITHUB_OUTPUT"\n'),
    }


def workflow(course: Course) -> str:
    """The learner-repo workflow, as YAML text."""
    compose = yaml.safe_load((course.root / "docker-compose.test.yml").read_text())
    exercises = list(course.exercises)
    steps: list[dict[str, Any]] = [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5",
         "with": {"python-version": "3.11", "cache": "pip",
                  "cache-dependency-path": "pyproject.toml"}},
        {"name": "Install the course", "run": "python -m pip install --quiet -e .\n"},
        {"name": "Start the mail provider and check every service", "run": "seamlab up\n"},
        *(_check_step(ex) for ex in exercises),
        {"name": "Autograding Reporter", "uses": REPORTER, "if": "${{ !cancelled() }}",
         "env": {f"{step_id(ex).upper()}_RESULTS": f"${{{{ steps.{step_id(ex)}.outputs.result }}}}"
                 for ex in exercises},
         "with": {"runners": ",".join(step_id(ex) for ex in exercises)}},
    ]
    document = {
        "name": CHECK_NAME,
        "on": ["push", "repository_dispatch", "workflow_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {"run-autograding-tests": {
            "name": CHECK_NAME,
            "runs-on": "ubuntu-latest",
            "if": "github.actor != 'github-classroom[bot]'",
            "timeout-minutes": 120,
            "services": services(compose),
            "steps": steps,
        }},
    }
    total = sum(ex.points for ex in exercises)
    header = (
        "# GitHub Classroom autograding for this course (written by `seamlab release --classroom`).\n"
        f"# One step per exercise runs `seamlab check` against the course services; the reporter\n"
        f"# hands Classroom the points each check scored ({len(exercises)} exercises, "
        f"{total} points in all).\n"
        "# The services are those of docker-compose.test.yml, as service containers on the course\n"
        "# ports; `seamlab up` adds the mail provider.\n")
    return header + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000,
                              allow_unicode=True)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as ``|`` blocks, so the run scripts read as scripts."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


if __name__ == "__main__":
    raise SystemExit(main())
