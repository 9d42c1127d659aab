"""The course notebooks are reviewable, executed, and in step with their sources.

nbval re-runs every notebook against the live services (`make test`); these checks are the
static half, fast and service-free: every chapter in course.toml has an executed notebook with
one kernel, whose paired jupytext script says the same thing, whose stored outputs come from a
top-to-bottom run, and which points at its exercises. The learner's copy in notebooks/ is that
run without the outputs of check and predict-then-run cells; the full run is kept in
notebooks/.reference/ for nbval (seamlab.spoilers). The last tests run the lab's small pytest
helper on a file (a subprocess, no services).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest

from seamlab.spoilers import SOLVED, reference_path, spoiler_cells

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
COURSE = tomllib.loads((ROOT / "course.toml").read_text())
CHAPTERS = COURSE["chapters"]
EXERCISES = COURSE.get("exercises", [])
IGNORE_MARKER = "# NBVAL_IGNORE_OUTPUT"


def _chapter_id(chapter: dict) -> str:
    return chapter["id"]


def _notebook(chapter: dict) -> nbformat.NotebookNode:
    """The strict reference: every output of one run against the solutions."""
    return nbformat.read(reference_path(ROOT / chapter["notebook"]), as_version=4)


def _learners(chapter: dict) -> nbformat.NotebookNode:
    """The notebook a learner opens."""
    return nbformat.read(ROOT / chapter["notebook"], as_version=4)


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _text_of(cell: nbformat.NotebookNode) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


by_chapter = pytest.mark.parametrize("chapter", CHAPTERS, ids=_chapter_id)


def test_course_lists_a_chapter_for_every_notebook_in_the_folder():
    listed = {Path(chapter["notebook"]).name for chapter in CHAPTERS}
    present = {path.name for path in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")}
    assert present == listed, (
        f"notebooks not in course.toml: {sorted(present - listed)}; "
        f"listed but missing: {sorted(listed - present)}"
    )


@by_chapter
def test_chapter_has_a_notebook_and_its_paired_script(chapter):
    notebook = ROOT / chapter["notebook"]
    assert notebook.is_file(), f"{chapter['notebook']} is listed in course.toml but missing"
    script = notebook.with_suffix(".py")
    assert script.is_file(), (
        f"{script.relative_to(ROOT)} is missing: every notebook is edited as a jupytext "
        "percent script; see notebooks/README.md"
    )


@by_chapter
def test_notebook_has_one_python3_kernel_and_jupytext_pairing(chapter):
    metadata = _learners(chapter).metadata
    assert metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{chapter['notebook']} must use the python3 kernel, not {metadata.get('kernelspec')}"
    )
    assert metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent", (
        f"{chapter['notebook']} is not paired with its .py script (jupytext formats)"
    )


@by_chapter
def test_every_code_cell_was_executed_once_from_top_to_bottom(chapter):
    cells = _code_cells(_notebook(chapter))
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{chapter['notebook']}: execution counts are {counts}; rebuild it with "
        f"`python notebooks/build.py {chapter['id']}` so outputs come from one clean run"
    )


@by_chapter
def test_no_stored_output_is_an_error_or_a_warning(chapter):
    for index, cell in enumerate(_notebook(chapter).cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", (
                f"{chapter['notebook']} cell {index} stored an error: {output.get('ename')}: "
                f"{output.get('evalue')}"
            )
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"{chapter['notebook']} cell {index} wrote to stderr (nbval compares it, and a "
                f"learner sees it as a problem): {output.text[:200]!r}"
            )


@by_chapter
def test_paired_script_says_the_same_as_the_notebook(chapter):
    notebook = _learners(chapter)
    script = jupytext.read(ROOT / Path(chapter["notebook"]).with_suffix(".py"))
    stored = [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]
    written = [(cell.cell_type, cell.source.strip()) for cell in script.cells]
    for index, (have, want) in enumerate(zip(stored, written)):
        assert have == want, (
            f"{chapter['notebook']} cell {index} differs from the .py script; edit the .py and "
            f"rebuild (`python notebooks/build.py {chapter['id']}`)"
        )
    assert len(stored) == len(written), (
        f"{chapter['notebook']} has {len(stored)} cells, its script {len(written)}; rebuild it"
    )


@by_chapter
def test_the_learners_notebook_shows_no_verdict_and_no_answer_before_it_is_run(chapter):
    notebook = _learners(chapter)
    spoilers = spoiler_cells(notebook)
    assert spoilers, f"{chapter['notebook']} has neither a check nor a predict-then-run cell"
    for index in spoilers:
        cell = notebook.cells[index]
        assert not cell.outputs and cell.execution_count is None, (
            f"{chapter['notebook']} cell {index} shows its answer before the learner runs it "
            f"(a check or predict-then-run cell): {_text_of(cell)[:200]!r}; rebuild it with "
            f"`python notebooks/build.py {chapter['id']}`"
        )
    for index, cell in enumerate(_code_cells(notebook)):
        solved = [line for line in _text_of(cell).splitlines() if SOLVED.search(line)]
        assert not solved, f"{chapter['notebook']} code cell {index} shows a solved exercise: {solved}"


@by_chapter
def test_the_learners_notebook_is_the_reference_run_less_its_spoilers(chapter):
    learners, reference = _learners(chapter), _notebook(chapter)
    assert [c.source for c in learners.cells] == [c.source for c in reference.cells], (
        f"{chapter['notebook']} and its reference in notebooks/.reference/ hold different cells; "
        f"rebuild both with `python notebooks/build.py {chapter['id']}`"
    )
    spoilers = set(spoiler_cells(reference))
    for index, (mine, strict) in enumerate(zip(learners.cells, reference.cells)):
        if mine.cell_type == "code" and index not in spoilers:
            assert (mine.outputs, mine.execution_count) == (strict.outputs, strict.execution_count), (
                f"{chapter['notebook']} cell {index} differs from its reference run; rebuild it"
            )


@by_chapter
def test_chapter_opens_with_the_objectives_in_course_toml_and_ends_with_key_points(chapter):
    cells = _notebook(chapter).cells
    opening = cells[0].source
    assert opening.startswith(f"# {chapter['id']} "), "first cell should be the chapter title"
    for objective in chapter["objectives"]:
        assert objective in opening, (
            f"{chapter['notebook']}: objective {objective!r} from course.toml is not in the "
            "opening cell"
        )
    markdown = [cell.source for cell in cells if cell.cell_type == "markdown"]
    assert any(text.startswith("## Key points") for text in markdown), (
        f"{chapter['notebook']} has no '## Key points' section"
    )
    assert sum("Predict, then run" in text for text in markdown) >= 1, (
        f"{chapter['notebook']} never asks the learner to predict before running"
    )


@by_chapter
def test_chapter_checks_each_of_its_exercises_and_each_check_passed(chapter):
    notebook = _notebook(chapter)
    sources = "\n".join(cell.source for cell in _code_cells(notebook))
    for exercise in EXERCISES:
        if exercise["chapter"] != chapter["id"]:
            continue
        if not (ROOT / "exercises" / exercise["slug"]).is_dir():
            continue  # announced in prose until the exercise exists
        assert f'seamlab.check("{exercise["id"]}")' in sources, (
            f"{chapter['notebook']} should end with a check cell for exercise {exercise['slug']}"
        )
    for cell in _code_cells(notebook):
        if "seamlab.check(" in cell.source:
            assert IGNORE_MARKER not in cell.source, "a check cell's verdict must be compared"
            text = _text_of(cell)
            assert text.strip(), f"{chapter['notebook']}: a check cell has no stored verdict"
            passed = re.match(r"[\w-]+: (?:(\d+)/\1 hidden tests pass|your tests catch (\d+)/\2)", text)
            assert passed and not re.search(r"\b(FAILED|failed|error)\b", text), (
                f"{chapter['notebook']}: a stored check verdict is not a pass (the notebooks "
                f"are built with SEAMLAB_TARGET=solutions): {text[:300]!r}"
            )


@by_chapter
def test_volatile_outputs_are_ignored_narrowly(chapter):
    ignored = [cell for cell in _code_cells(_notebook(chapter)) if IGNORE_MARKER in cell.source]
    assert len(ignored) <= 1, (
        f"{chapter['notebook']} ignores the output of {len(ignored)} cells; print stable "
        "summaries or add a regex to notebooks/sanitize.cfg instead"
    )


def test_no_notebook_run_uses_lax_comparison():
    # Where a command line or pytest configuration could switch it on (prose may name it).
    places = [
        ROOT / name for name in ("Makefile", "pyproject.toml", "pytest.ini", "tox.ini", "setup.cfg")
    ]
    places += sorted((ROOT / ".github").glob("workflows/*.yml"))
    places += sorted((ROOT / ".ci").glob("*")) if (ROOT / ".ci").is_dir() else []
    for place in places:
        if place.is_file():
            assert "nbval-lax" not in place.read_text(), (
                f"{place.relative_to(ROOT)} runs nbval with --nbval-lax, which stops comparing "
                "outputs; mark single cells with NBVAL_IGNORE_OUTPUT or use sanitize.cfg"
            )


def test_sanitize_file_has_only_well_formed_rules():
    text = (NOTEBOOKS / "sanitize.cfg").read_text()
    rules = re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, flags=re.MULTILINE)
    assert rules, "notebooks/sanitize.cfg has no regex/replace pairs"
    sections = re.findall(r"^\[.+\]$", text, flags=re.MULTILINE)
    assert len(sections) == len(rules), "each [section] in sanitize.cfg needs one regex and replace"
    for pattern, _replacement in rules:
        re.compile(pattern)


def test_learner_workflow_runs_nbval_against_service_containers_with_healthchecks():
    import yaml

    workflow = yaml.safe_load((ROOT / ".github/workflows/learner-ci.yml").read_text())
    job = next(iter(workflow["jobs"].values()))
    for name in ("postgres", "redis", "rabbitmq"):
        service = job["services"][name]
        assert "--health-cmd" in service["options"], f"{name} has no healthcheck"
    command = job["steps"][-1]["run"]
    assert "--nbval" in command and "sanitize.cfg" in command
    assert "SEAMLAB_TARGET" not in str(job), "learner CI must grade exercises/, not solutions/"


@by_chapter
def test_code_a_chapter_shows_is_a_code_cell_not_a_string(chapter):
    # A module or test file kept in a triple-quoted string renders as one block of string
    # colour; chapters write such files with a `%%writefile {work}/name.py` cell instead.
    assigned_string = re.compile(r"^\w+\s*=\s*(\"\"\"|''')", flags=re.MULTILINE)
    for index, cell in enumerate(_notebook(chapter).cells):
        if cell.cell_type == "code":
            assert not assigned_string.search(cell.source), (
                f"{chapter['notebook']} cell {index} keeps code in a string; write it with "
                "`%%writefile {work}/<name>.py` (work = lab.workdir()) and run it with "
                "lab.run_tests (see notebooks/README.md)"
            )


@by_chapter
def test_no_stored_output_names_a_temporary_folder(chapter):
    for index, cell in enumerate(_code_cells(_notebook(chapter))):
        text = _text_of(cell)
        for volatile in ("/tmp/", "seamlab_lab_", "Writing ", "Overwriting "):
            assert volatile not in text, (
                f"{chapter['notebook']} code cell {index} prints {volatile!r}, which changes "
                f"from run to run: {text[:200]!r}"
            )


def test_run_tests_reports_each_test_in_the_workdir_by_file_and_name(capsys):
    from seamlab import lab

    (lab.workdir() / "test_lab_sample.py").write_text(
        "def test_one_plus_one_is_two():\n    assert 1 + 1 == 2\n\n\n"
        "def test_a_wrong_sum_fails_with_its_message():\n"
        "    assert 1 + 1 == 3, 'one and one make two'\n"
    )
    run = lab.run_tests("test_lab_sample.py", plugins=())

    assert [(item.nodeid, item.outcome) for item in run.outcomes] == [
        ("test_lab_sample.py::test_one_plus_one_is_two", "passed"),
        ("test_lab_sample.py::test_a_wrong_sum_fails_with_its_message", "failed"),
    ]
    assert run.outcomes[1].message.startswith("AssertionError: one and one make two")
    printed = capsys.readouterr().out
    assert printed.endswith("2 tests: 1 passed, 1 failed\n")
    assert str(lab.workdir()) not in printed


def test_run_tests_sees_a_module_rewritten_within_the_same_second(monkeypatch):
    # Same size, same mtime: a cached .pyc would still say 1 (on a machine that writes them).
    from seamlab import lab

    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)

    module = lab.workdir() / "lab_answer.py"
    (lab.workdir() / "test_lab_answer.py").write_text(
        "from lab_answer import ANSWER\n\n\ndef test_answer_is_two():\n    assert ANSWER == 2\n"
    )
    module.write_text("ANSWER = 1\n")
    written = module.stat().st_mtime_ns
    first = lab.run_tests("test_lab_answer.py", plugins=(), show=False)
    module.write_text("ANSWER = 2\n")
    os.utime(module, ns=(written, written))  # as if rewritten at once
    second = lab.run_tests("test_lab_answer.py", plugins=(), show=False)

    assert [first.count("failed"), second.count("passed")] == [1, 1], second.output


@by_chapter
def test_mermaid_diagrams_have_no_semicolons(chapter):
    # Mermaid reads `;` as the end of a statement, so `A->>B: BEGIN; INSERT` stops the whole
    # diagram from drawing and the reader gets its source instead.
    for index, cell in enumerate(_notebook(chapter).cells):
        if cell.cell_type != "markdown":
            continue
        for block in re.findall(r"```mermaid\n(.*?)```", cell.source, flags=re.DOTALL):
            for line in block.splitlines():
                assert ";" not in line, (
                    f"{chapter['notebook']} cell {index}: mermaid line {line.strip()!r} has a "
                    "';', which ends a mermaid statement; use ',' instead"
                )


def test_a_killed_kernels_scratch_folder_is_swept_by_the_next_kernel(tmp_path, monkeypatch):
    import subprocess
    import sys

    from seamlab import lab

    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    gone = tmp_path / f"{lab.WORKDIR_PREFIX}{finished.stdout.strip()}_abc"
    alive = tmp_path / f"{lab.WORKDIR_PREFIX}{os.getpid()}_abc"
    for folder in (gone, alive):
        (folder / "test_left_behind.py").parent.mkdir()
        (folder / "test_left_behind.py").write_text("")
    monkeypatch.setattr(lab.tempfile, "gettempdir", lambda: str(tmp_path))

    lab._sweep_workdirs_of_gone_kernels()

    assert (gone.exists(), alive.exists()) == (False, True)
