"""Which cells of a chapter give an answer away, and the learner's copy of a chapter without them.

A chapter is executed once, top to bottom, against the reference solutions (``notebooks/build.py``).
That run is the *reference*: every output, kept in ``notebooks/.reference/`` for nbval to compare
strictly. The learner opens a copy in ``notebooks/`` where two kinds of cells carry no output
(and no execution count, so JupyterLab shows them as not run yet, and nbval runs them without
comparing):

- **check cells** (``seamlab.check(...)``): their stored verdict came from ``solutions/``;
- **predict-then-run cells**: the code cells after a markdown cell that says "Predict, then run",
  up to the next markdown cell; their output is the answer the learner is asked to predict.

Every other cell keeps the reference's output (the setup a learner reads before predicting).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

PREDICT = "Predict, then run"
CHECK_CALL = "seamlab.check("
#: Folder (inside notebooks/) of the strict reference copies; hidden from Jupyter and releases.
REFERENCE_DIR = ".reference"
#: Outputs that must never be stored in a learner's copy: a solved exercise.
SOLVED = re.compile(r"repaired|all \d+ hidden tests pass|\d+/\d+ hidden tests pass|✔ Passed", re.I)


def spoiler_cells(notebook) -> list[int]:
    """Indexes of the cells whose stored output would spoil the work (see the module doc)."""
    found: list[int] = []
    after_predict = False
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            after_predict = PREDICT in cell.source
            continue
        if cell.cell_type != "code":
            continue
        if after_predict or CHECK_CALL in cell.source:
            found.append(index)
    return found


def learner_copy(reference):
    """The notebook a learner opens: ``reference`` without the outputs of its spoiler cells."""
    notebook = copy.deepcopy(reference)
    for index in spoiler_cells(notebook):
        notebook.cells[index].outputs = []
        notebook.cells[index].execution_count = None
    return notebook


def reference_path(notebook: Path) -> Path:
    """``notebooks/01-seams.ipynb`` -> ``notebooks/.reference/01-seams.ipynb``."""
    return notebook.parent / REFERENCE_DIR / notebook.name
