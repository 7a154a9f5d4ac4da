"""Durations as people write them in decorators and config: ``"2h"``, ``"45m"``, ``"1h30m"``,
``"90s"``, a number of seconds, or a ``timedelta``."""

from __future__ import annotations

import math
import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d))+\s*")
EXAMPLES = '"90s", "45m", "2h", "1h30m", "1d" or a number of seconds'


def parse_duration(value: object) -> float:
    """Seconds in ``value`` (> 0); ``ValueError`` saying what is wrong otherwise."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and _WHOLE.fullmatch(value.lower()):
        seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(value.lower()))
    else:
        raise ValueError(f"{value!r} is not a duration")
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{value!r} is not a positive duration")
    return seconds


def format_duration(seconds: float) -> str:
    """``7200`` → ``"2h"``, ``5400`` → ``"1h30m"``, ``0.5`` → ``"0.5s"``: for messages."""
    if seconds < 60 and seconds != int(seconds):
        return f"{seconds:g}s"
    left, parts = round(seconds), []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts) or "0s"
