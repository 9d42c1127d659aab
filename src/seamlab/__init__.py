"""seamlab: learn integration testing by repairing broken seams against real services."""

from __future__ import annotations

__version__ = "0.1.0"


def check(exercise: str, target: str | None = None) -> bool:
    """Grade an exercise from a notebook: the terminal's verdict as rich output (with a short,
    stable text/plain for nbval), recorded in progress like ``seamlab check``; returns passed.

    ``SEAMLAB_TARGET=solutions`` points grading at ``solutions/`` instead of ``exercises/``.
    """
    from seamlab.notebook import check as _check

    return _check(exercise, target=target)
