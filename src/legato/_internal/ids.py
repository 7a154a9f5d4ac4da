"""Time-ordered identifiers for runs and backfills, and keys bounded by construction."""

from __future__ import annotations

import hashlib
import secrets
import time


def new_run_id() -> str:
    """20 hex characters: milliseconds since the epoch, then 32 random bits. Sorts by creation."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


def bounded_key(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and a digest of the whole: a key
    derived from user data (a cursor, a file list, a message id) always fits its column, and
    distinct texts stay distinct."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{text[: max(0, limit - len(digest) - 1)]}~{digest}"[:limit]


RUN_KEY_LENGTH = 512  # the runs table's idempotency_key column


def run_request_key(*parts: str) -> str:
    """THE format of a run's idempotency key: its parts joined by ``:``, bounded to the column.

    Every way of asking for a run names its key with this (``tick:<trigger>:<time>``,
    ``msg:<source>:<message id>``, ``backfill:<id>:<group>:<attempt>``, a caller's own key), so
    a key stored by an earlier version is made again, character for character, from the same
    inputs."""
    return bounded_key(":".join(parts), RUN_KEY_LENGTH)
