"""Waiting for state in tests: poll a check until it holds, fail loudly at a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Check = Callable[[], Any]


def poller(timeout: float, interval: float = 0.02, longest: float = 0.25) -> Callable[..., Any]:
    """A ``wait(check, timeout=..., what=...)`` with these defaults: it returns the first truthy
    value of ``check()`` and raises AssertionError naming ``what`` once ``timeout`` has passed.

    Checks start ``interval`` apart and the gap grows by half each time up to ``longest`` (or
    stays at ``interval`` if that is longer): quick
    conditions are seen at once, and a long wait does not spend the CPU that the processes it
    waits for need (a check is a query or a file read, traced by coverage; the suite's tests
    spend most of their time waiting, on two cores)."""

    def wait(check: Check, timeout: float = timeout, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        pause = interval
        while True:
            value = check()
            if value:
                return value
            left = deadline - time.monotonic()
            if left < 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(min(pause, max(left, 0.001)))
            pause = max(interval, min(pause * 1.5, longest))

    return wait


wait_for = poller(timeout=10.0)
