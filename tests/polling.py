"""Waiting for state in tests: poll a check until it holds, fail loudly at a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Check = Callable[[], Any]


def poller(timeout: float, interval: float = 0.02) -> Callable[..., Any]:
    """A ``wait(check, timeout=..., what=...)`` with these defaults: it returns the first truthy
    value of ``check()`` and raises AssertionError naming ``what`` once ``timeout`` has passed."""

    def wait(check: Check, timeout: float = timeout, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(interval)

    return wait


wait_for = poller(timeout=10.0)
