"""A run whose process was killed is resumed by the daemon before a backlog of queued runs drains:
a run worker that frees up goes to the dead run first, with the user's defaults (a 30 s lease)."""

from __future__ import annotations

import pytest
from journey import Journey, wait_until

PROJECT = """
    import time
    from pathlib import Path
    import legato as lg

    @lg.asset(retries=lg.Retry(1, delay=0))
    def slow() -> int:
        Path("slow-started").write_text("")
        while not Path("release").exists():
            time.sleep(0.05)
        return 1

    @lg.asset
    def quick() -> int:
        time.sleep(15)
        return 1
"""
CONFIG = """
    [run_queue]
    max_concurrent_runs = 2
"""
BACKLOG = 8

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_a_killed_command_line_run_is_resumed_before_the_backlog_drains(journey: Journey) -> None:
    from legato.store.run_requests import NewRun, request_run
    from legato.store.runs import get_run, get_steps, list_runs

    journey.write({"pipes.py": PROJECT}, config=CONFIG)
    command = journey.start("run", "slow")
    wait_until((journey.dir / "slow-started").exists, what="the slow step to start")
    store = journey.store()
    (orphan,) = [r for r in list_runs(store) if r.selection == "slow"]
    running = get_run(store, orphan.run_id)
    assert running.status.value == "running" and running.launcher, running
    journey.ok("run", "quick", "--queue")  # one as a user queues it; the rest as the API does
    for _ in range(BACKLOG - 1):
        request_run(store, NewRun(selection="quick", trigger="cli"))

    command.kill_group()  # kill -9 of `legato run` and its step workers
    wait_until(lambda: not command.alive(), timeout=10, what="legato run to die")
    (journey.dir / "release").write_text("")  # a resumed attempt finishes at once
    daemon = journey.daemon()

    def ended() -> bool:
        assert daemon.alive(), daemon.output()
        return get_run(store, orphan.run_id).status.finished

    wait_until(ended, timeout=180, what="the killed run to be resumed and end")
    left = [r for r in list_runs(store, limit=100) if r.selection == "quick"]
    assert len(left) == BACKLOG
    waiting = [r for r in left if not r.status.finished]
    resumed = get_run(store, orphan.run_id)
    assert resumed.status.value == "succeeded", journey.ok("runs", "show", orphan.run_id).stdout
    steps = {s.step_key: (s.status.value, s.attempt) for s in get_steps(store, orphan.run_id)}
    assert steps == {"slow": ("succeeded", 2)}, steps  # the same run, its lost attempt retried
    # Its lease expired at most 30 s after the kill; the backlog takes longer than that on the
    # two workers (8 runs of 15 s: 60 s), so part of it must still be waiting or running.
    assert len(waiting) >= 3, [(r.run_id, r.status.value) for r in left]

    wait_until(
        lambda: all(get_run(store, r.run_id).status.finished for r in left),
        timeout=240,
        what="the backlog to drain",
    )
    statuses = {get_run(store, r.run_id).status.value for r in left}
    assert statuses == {"succeeded"}, statuses
