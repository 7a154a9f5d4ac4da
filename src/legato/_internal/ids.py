"""Time-ordered identifiers for runs and backfills."""

from __future__ import annotations

import secrets
import time


def new_run_id() -> str:
    """20 hex characters: milliseconds since the epoch, then 32 random bits. Sorts by creation."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"
