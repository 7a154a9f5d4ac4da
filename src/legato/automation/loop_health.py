"""How each of the daemon's loops is doing: when it last did its job, and its latest error.

A loop whose latest attempt failed (the database is away, say) makes the daemon ``degraded``:
the health endpoint says so instead of ``running`` while nothing gets done.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass
class _Loop:
    ok_at: float | None = None
    error: str | None = None
    error_at: float | None = None


class LoopHealth:
    """Thread-safe: every loop reports from its own thread."""

    def __init__(self) -> None:
        self._loops: dict[str, _Loop] = {}
        self._lock = threading.Lock()

    def ok(self, loop: str) -> None:
        with self._lock:
            self._loops.setdefault(loop, _Loop()).ok_at = time.time()

    def failed(self, loop: str, error: str) -> None:
        with self._lock:
            entry = self._loops.setdefault(loop, _Loop())
            entry.error, entry.error_at = error[:500], time.time()

    def report(self) -> dict[str, Any]:
        """``state`` (running or degraded) and, per loop, its last success and latest error."""
        with self._lock:
            loops = {
                name: {"last_ok": e.ok_at, "last_error": e.error, "last_error_at": e.error_at}
                for name, e in sorted(self._loops.items())
            }
            failing = sorted(
                name
                for name, e in self._loops.items()
                if e.error_at is not None and (e.ok_at is None or e.error_at > e.ok_at)
            )
        state = "degraded" if failing else "running"
        return {"state": state, "failing": failing, "loops": loops}
