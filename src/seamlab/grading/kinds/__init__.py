"""The kinds of exercise, one strategy each (``kind = "..."`` in course.toml picks one).

``fix`` (repair the code: the hidden tests must pass), ``write-tests`` (the learner's tests must
pass on the correct system and catch planted faults) and ``fix-and-write-tests`` (both). They
share one run (``grading.job``) and implement ``protocol.Kind``; ``engine.grade`` dispatches.
"""

from __future__ import annotations

from seamlab.grading.kinds.combined import FixAndWriteTests
from seamlab.grading.kinds.fix import Fix
from seamlab.grading.kinds.protocol import Kind
from seamlab.grading.kinds.write_tests import WriteTests

KINDS: dict[str, Kind] = {kind.name: kind for kind in (Fix(), WriteTests(), FixAndWriteTests())}


def for_exercise(exercise) -> Kind:
    try:
        return KINDS[exercise.kind]
    except KeyError:
        raise ValueError(f"{exercise.slug}: no grading kind {exercise.kind!r} "
                         f"(known: {', '.join(KINDS)})") from None


__all__ = ["KINDS", "Kind", "for_exercise"]
