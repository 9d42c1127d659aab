"""Build the course notebooks: .py (jupytext percent, the reviewed source) -> executed .ipynb.

    .venv/bin/python notebooks/build.py            # every chapter
    .venv/bin/python notebooks/build.py 04 06      # just these chapters

Each chapter's ``NN-slug.py`` is the file you edit and review; ``NN-slug.ipynb`` is generated
from it, executed top to bottom against the live services (``seamlab up``) with grading pointed
at the solutions (``SEAMLAB_TARGET=solutions``), and committed with its outputs so that nbval
can compare a fresh run against them. Never edit outputs by hand: rebuild.

One run writes two files (``seamlab.spoilers``): the reference, every output, in
``notebooks/.reference/`` (what nbval compares strictly in ``make test``), and the learner's
``NN-slug.ipynb`` beside the ``.py``, the same run without the outputs of check cells and
predict-then-run cells (a learner must not read the answer before running the cell).
"""

from __future__ import annotations

import copy
import hashlib
import os
import sys
import time
from pathlib import Path

import jupytext
from nbconvert.preprocessors import ExecutePreprocessor

from seamlab.spoilers import learner_copy, reference_path

HERE = Path(__file__).resolve().parent
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def chapters(selected: list[str]) -> list[Path]:
    sources = sorted(HERE.glob("[0-9][0-9]-*.py"))
    if selected:
        sources = [path for path in sources if path.name[:2] in selected]
    return sources


def stable_ids(notebook) -> None:
    """Name each cell after its type and text, so a rebuild of an unchanged cell keeps its id
    (jupytext makes up random ones, which would churn every diff)."""
    seen: dict[str, int] = {}
    for cell in notebook.cells:
        digest = hashlib.sha256(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"


def build(source: Path, allow_errors: bool = False) -> float:
    notebook = jupytext.read(source)
    stable_ids(notebook)
    notebook.metadata["kernelspec"] = KERNELSPEC
    notebook.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    started = time.perf_counter()
    executor = ExecutePreprocessor(timeout=600, kernel_name="python3", record_timing=False,
                                   allow_errors=allow_errors)
    executor.preprocess(notebook, {"metadata": {"path": str(HERE)}})
    elapsed = time.perf_counter() - started
    write(notebook, source.with_suffix(".ipynb"))
    return elapsed


def write(reference, learner_notebook: Path) -> None:
    """Store the executed ``reference`` and, at ``learner_notebook``, the learner's copy."""
    jupytext.write(learner_copy(reference), learner_notebook)
    strict = reference_path(learner_notebook)
    strict.parent.mkdir(exist_ok=True)
    unpaired = copy.deepcopy(reference)
    unpaired.metadata.pop("jupytext", None)  # paired with nothing: never edited, only rebuilt
    jupytext.write(unpaired, strict)


def main(argv: list[str]) -> int:
    os.environ.setdefault("SEAMLAB_TARGET", "solutions")
    # --draft: keep going past a failing cell (to look at a chapter while its parts are built).
    draft = "--draft" in argv
    selected = [arg for arg in argv if not arg.startswith("--")]
    for source in chapters(selected):
        print(f"{source.name:<28} ", end="", flush=True)
        print(f"executed in {build(source, allow_errors=draft):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
