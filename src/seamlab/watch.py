"""Notice when the learner saves a file: OS file events (watchfiles), or polling as a fallback.

File events fail in some places (network mounts, some containers, inotify limits); then, or
when ``SEAMLAB_WATCH_POLL=1`` is set, we compare modification times on an interval instead.
Both paths debounce: an editor that writes several files (or writes twice) gives one batch.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

POLL_ENV = "SEAMLAB_WATCH_POLL"
DEBOUNCE_S = 0.3
POLL_INTERVAL_S = 0.25


def relevant(path: Path) -> bool:
    """A file a learner edits: not caches, not editor swap or backup files, not dot-files."""
    parts = path.parts
    if any(part in ("__pycache__", ".pytest_cache", ".ipynb_checkpoints") for part in parts):
        return False
    name = path.name
    return not (
        name.startswith((".", "#"))
        or name.endswith(("~", ".pyc", ".swp", ".swx", ".tmp"))
    )


def changes(
    folder: Path,
    *,
    stop: threading.Event | None = None,
    poll: bool | None = None,
    debounce: float = DEBOUNCE_S,
    on_fallback: Callable[[str], None] | None = None,
    baseline: dict[Path, tuple[int, int]] | None = None,
) -> Iterator[set[Path]]:
    """Yield each batch of changed files under ``folder`` until ``stop`` is set.

    ``baseline`` is a :func:`snapshot` taken by the caller *before* it told the learner it is
    watching: a save made between that message and the moment the watcher is running is
    reported as the first batch instead of being lost (it was, on a loaded machine).
    """
    stop = stop or threading.Event()
    if poll is None:
        poll = os.environ.get(POLL_ENV, "") not in ("", "0")
    if not poll:
        try:
            yield from _events(folder, stop, debounce, baseline)
            return
        except (OSError, RuntimeError, ImportError) as error:  # no watchfiles, or the OS refused
            if on_fallback:
                on_fallback(f"file events are not available here ({error}); polling instead")
    yield from _polling(folder, stop, debounce, baseline)


def _events(folder: Path, stop: threading.Event, debounce: float,
            baseline: dict[Path, tuple[int, int]] | None) -> Iterator[set[Path]]:
    import watchfiles

    for batch in watchfiles.watch(
        folder,
        stop_event=stop,
        debounce=int(debounce * 1000),
        step=50,
        watch_filter=lambda _change, path: relevant(Path(path)),
        raise_interrupt=True,
        rust_timeout=int(POLL_INTERVAL_S * 1000),
        yield_on_timeout=True,
    ):
        paths = {Path(path) for _change, path in batch}
        if baseline is not None:
            # The watcher is running now: what changed before it started is in the snapshot.
            paths |= _diff(baseline, snapshot(folder))
            baseline = None
        if paths:
            yield paths


def snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    """path -> (mtime_ns, size) for every relevant file under ``folder``."""
    found = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if relevant(Path(root, d))]
        for name in files:
            path = Path(root, name)
            if relevant(path):
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def _diff(before: dict, after: dict) -> set[Path]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def _polling(folder: Path, stop: threading.Event, debounce: float,
             baseline: dict[Path, tuple[int, int]] | None = None) -> Iterator[set[Path]]:
    seen = snapshot(folder) if baseline is None else baseline
    while not stop.wait(POLL_INTERVAL_S):
        current = snapshot(folder)
        changed = _diff(seen, current)
        if not changed:
            continue
        # Debounce: wait until the files stop changing for `debounce` seconds.
        quiet_since = time.monotonic()
        while not stop.wait(min(POLL_INTERVAL_S, debounce)):
            latest = snapshot(folder)
            more = _diff(current, latest)
            if more:
                changed |= more
                current = latest
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= debounce:
                break
        seen = current
        if not stop.is_set():
            yield changed
