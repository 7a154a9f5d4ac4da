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
from legato.loader.config import WORKER_NICE


def _project(path: Path, config: str = "modules = []\n") -> Path:
    (path / "legato.toml").write_text(config)
    an_hour_ago = time.time() - 3600  # a file written just now would make a worker reload at once
    os.utime(path / "legato.toml", (an_hour_ago, an_hour_ago))
    return path


@pytest.fixture
def workers(tmp_path: Path) -> RunWorkers:
    pool = RunWorkers(_project(tmp_path), size=3)
    yield pool
    pool.close(drain=10)


@pytest.fixture
def nice_zero_workers(tmp_path: Path) -> RunWorkers:
    pool = RunWorkers(_project(tmp_path, "modules = []\n[run_queue]\nworker_nice = 0\n"), size=1)
    yield pool
    pool.close(drain=10)


def _until_idle(pool: RunWorkers, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while pool.free < pool.size:
        assert time.monotonic() < end, "the run worker never answered"
        pool.wait(0.5)


def _until_ready(pool: RunWorkers, deadline: float = 60.0) -> int:
    """The pid of the pool's first worker, once it has loaded the project."""
    end = time.monotonic() + deadline
    while not (pool._pool and pool._pool[0].ready_at):
        assert time.monotonic() < end, "the run worker never said it was ready"
        pool.wait(0.5)
    return pool._pool[0].process.pid


def _nice(pid: int = 0) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid)


def test_run_workers_run_below_the_daemons_cpu_priority(workers: RunWorkers) -> None:
    workers.fill()
    assert _nice(_until_ready(workers)) == min(19, _nice() + WORKER_NICE)


def test_worker_nice_zero_keeps_run_workers_at_the_daemons_priority(
    nice_zero_workers: RunWorkers,
) -> None:
    nice_zero_workers.fill()
    assert _nice(_until_ready(nice_zero_workers)) == _nice()


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
