"""Journeys run on both stores: the embedded default (SQLite) and PostgreSQL (a fresh schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orphans
import pytest
from journey import Journey


@pytest.fixture(params=["sqlite", "postgres"])
def journey(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journey]:
    """A project directory on one backend; every process it starts is reaped afterwards."""
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    j = Journey(tmp_path, request.param, url)  # PostgreSQL: the schema is dropped after close
    try:
        yield j
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:  # what the processes said, for a post-mortem
            for process in j.processes:
                tail = "\n".join(process.output().splitlines()[-60:])
                print(f"--- legato {process.name} (pid {process.pid}), last lines:\n{tail}")
        j.close()
        # Before the schema is dropped, which a process still writing to it would deadlock. A
        # run worker orphaned by a daemon's kill -9 goes on by design; anything else is a leak.
        left = orphans.kill_in(tmp_path)
        if left:
            print(f"killed, left running after the journey's processes stopped: {left}")
