"""Failed-login throttling: a sliding window per client address and user name (S-12)."""

from __future__ import annotations

import threading
import time
from collections import deque


class LoginThrottle:
    """Counts failures in memory; ``allowed`` is False once ``attempts`` failed in ``window``."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self.window:
            times.popleft()
        return times

    def allowed(self, client: str, name: str) -> bool:
        with self._lock:
            return len(self._recent((client, name), time.monotonic())) < self.attempts

    def failed(self, client: str, name: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:  # bound memory under a spray of names
                self._failures.clear()
            now = time.monotonic()
            self._recent((client, name), now).append(now)

    def succeeded(self, client: str, name: str) -> None:
        with self._lock:
            self._failures.pop((client, name), None)
