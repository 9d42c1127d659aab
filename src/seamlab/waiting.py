"""Wait for something by polling it against a deadline, never by sleeping a fixed time.

Integration tests often need "eventually": a message lands in a queue, a row appears, a server
starts answering. :func:`wait_for` asks the question again and again until the answer is truthy
or the deadline passes, and then fails with a message that says what was awaited and for how long.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T],
    timeout: float = 5.0,
    interval: float = 0.02,
    what: str = "the condition to become true",
) -> T:
    """Call ``predicate`` until it returns something truthy, and return that value.

    Raises ``AssertionError`` naming ``what`` and the time waited when ``timeout`` seconds pass
    without a truthy answer. An exception raised by ``predicate`` counts as "not yet"; the last
    one is mentioned in the failure message so the reason is not lost.
    """
    if timeout < 0:
        raise ValueError(f"timeout must be zero or more seconds, got {timeout}")
    if interval <= 0:
        raise ValueError(f"interval must be more than zero seconds, got {interval}")
    started = time.monotonic()
    deadline = started + timeout
    last_error: BaseException | None = None
    attempts = 0
    while True:
        attempts += 1
        try:
            value = predicate()
        except Exception as error:  # noqa: BLE001 - "not ready yet" can look like anything
            last_error = error
        else:
            last_error = None
            if value:
                return value
        now = time.monotonic()
        if now >= deadline:
            break
        time.sleep(min(interval, deadline - now))
    waited = time.monotonic() - started
    message = f"Timed out after {waited:.2f} s ({attempts} checks) waiting for {what}"
    if last_error is not None:
        message += f"; the last check raised {type(last_error).__name__}: {last_error}"
    raise AssertionError(message)
