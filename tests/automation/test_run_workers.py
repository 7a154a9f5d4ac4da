"""The daemon's run workers: one spare waits, loaded, for the next run; the spare that takes a run
is replaced only once the run has held it for a while, so a trickle of short runs is served by
one worker."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from legato.automation import run_workers
from legato.automation.run_workers import RunWorkers


@pytest.fixture
def workers(tmp_path: Path) -> RunWorkers:
    config = tmp_path / "legato.toml"
    config.write_text("modules = []\n")
    an_hour_ago = time.time() - 3600  # a file written just now would make a worker reload at once
    os.utime(config, (an_hour_ago, an_hour_ago))
    pool = RunWorkers(tmp_path, size=3)
    yield pool
    pool.close(drain=10)


def _until_idle(pool: RunWorkers, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while pool.free < pool.size:
        assert time.monotonic() < end, "the run worker never answered"
        pool.wait(0.5)


def test_a_short_run_takes_the_spare_and_no_second_worker_starts(workers: RunWorkers) -> None:
    workers.fill()
    assert len(workers._pool) == 1  # the spare, loading before any run arrives

    workers.submit(("no-such-run", "daemon", False))  # answered "done" at once: nothing to run
    assert len(workers._pool) == 1  # just taken: no replacement yet
    _until_idle(workers)
    assert len(workers._pool) == 1  # free again before a replacement was due


def test_a_run_that_holds_the_spare_gets_a_replacement(
    workers: RunWorkers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_workers, "SPARE_AFTER", 0.0)  # every run counts as a long one
    workers.fill()
    workers.submit(("no-such-run", "daemon", False))
    assert len(workers._pool) == 2  # the spare took it; another is loading for the next run


def test_a_burst_starts_a_worker_per_waiting_run_at_once(workers: RunWorkers) -> None:
    workers.fill()
    for n in range(3):
        workers._pending.append((f"run-{n}", "daemon", False))
    workers.fill()
    assert len(workers._pool) == 3  # up to size, without waiting for the first to be held
