"""What the mail provider remembers: the request journal and the queue of programmed faults.

Both are shared between the server thread (uvicorn) and whoever inspects or programs the
provider, so every access goes through a lock.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import asdict, dataclass
from typing import Any


class Journal:
    """Every request the provider received on a non-admin path, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> int:
        """Append ``entry`` and return its index (to complete it with :meth:`update` later)."""
        with self._lock:
            self._entries.append(dict(entry))
            return len(self._entries) - 1

    def update(self, index: int, **fields: Any) -> None:
        with self._lock:
            if 0 <= index < len(self._entries):
                self._entries[index].update(fields)

    def entries(self) -> list[dict[str, Any]]:
        """A deep copy, so callers can never change what the provider remembers."""
        with self._lock:
            return copy.deepcopy(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class FaultError(ValueError):
    """A fault definition that cannot be applied (the message says which field and why)."""


@dataclass(frozen=True)
class Fault:
    """How to misbehave on one call of ``POST /api/emails/send``.

    ``delay`` seconds pass first; then the connection is dropped (``drop``), or the response is
    ``status`` with ``body``, or (neither set) the request is handled normally, just late.
    """

    status: int | None = None
    delay: float = 0.0
    drop: bool = False
    body: Any = None

    @classmethod
    def from_json(cls, data: Any) -> tuple[Fault, int]:
        """Parse the admin API's JSON into a fault and how many calls it applies to."""
        if not isinstance(data, dict):
            raise FaultError('a fault is a JSON object such as {"status": 500, "times": 1}')
        unknown = set(data) - {"status", "delay", "drop", "times", "body"}
        if unknown:
            raise FaultError(
                f"unknown fault field(s) {sorted(unknown)}; use status, delay, drop, times, body"
            )
        status = data.get("status")
        if status is not None and (
            isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
        ):
            raise FaultError(f"status must be an HTTP status code (100-599), got {status!r}")
        delay = data.get("delay", 0.0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise FaultError(f"delay must be a number of seconds >= 0, got {delay!r}")
        drop = data.get("drop", False)
        if not isinstance(drop, bool):
            raise FaultError(f"drop must be true or false, got {drop!r}")
        times = data.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise FaultError(f"times must be a whole number >= 1, got {times!r}")
        if status is None and not drop and not delay:
            raise FaultError("a fault needs at least one of status, delay > 0 or drop: true")
        if status is not None and drop:
            raise FaultError("choose either status or drop: a dropped connection has no status")
        return cls(status=status, delay=float(delay), drop=drop, body=data.get("body")), times

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class FaultQueue:
    """Faults for the next calls, in the order they were programmed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[list[Any]] = []  # [fault, calls left]

    def add(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self._pending.append([fault, times])

    def take(self) -> Fault | None:
        """The fault for this call (using up one of its ``times``), or None to behave well."""
        with self._lock:
            if not self._pending:
                return None
            slot = self._pending[0]
            slot[1] -= 1
            if slot[1] == 0:
                self._pending.pop(0)
            return slot[0]

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**fault.to_json(), "times": left} for fault, left in self._pending]

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
