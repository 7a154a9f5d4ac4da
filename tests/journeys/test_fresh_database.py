"""A fresh database, many processes: whoever starts first creates the store, the others wait for
it, and nobody crashes. A race is won or lost in milliseconds: the broken store lost it in 5 of 5
tries for four commands and 2 of 3 for two daemons. Each run of the suite tries each scenario
once; ``LEGATO_RACE_TRIALS=N`` tries it N times (after a change to store creation, say)."""

from __future__ import annotations

import os

import pytest
from journey import Journey, Process, wait_until

PROJECT = """
    import legato as lg

    @lg.asset
    def hello() -> int:
        return 1
"""

TRIALS = range(int(os.environ.get("LEGATO_RACE_TRIALS", "1")))


def _finished(processes: list[Process], timeout: float = 120) -> list[tuple[int, str]]:
    """Wait for every process to exit; their exit codes and output."""
    wait_until(lambda: not any(p.alive() for p in processes), timeout, "the commands to finish")
    return [(p.popen.wait(), p.output()) for p in processes]


@pytest.mark.parametrize("trial", TRIALS)
def test_four_commands_started_at_once_on_a_fresh_store_all_succeed(
    journey: Journey, trial: int
) -> None:
    journey.write({"pipes.py": PROJECT})
    started = [journey.start(*args) for args in (["runs"], ["run", "hello"]) * 2]
    for code, output in _finished(started):
        assert code == 0, output
        assert "Traceback" not in output, output
    runs = journey.ok("runs", "--plain").stdout.split()
    assert len(runs) == 2, runs


def _live_daemons(journey: Journey) -> int:
    from legato.store.automation import live_daemons

    return len(live_daemons(journey.store(), within=30))


@pytest.mark.parametrize("trial", TRIALS)
def test_two_daemons_started_at_once_on_a_fresh_store(journey: Journey, trial: int) -> None:
    """On PostgreSQL both stay up; on SQLite one does and the other is refused with the reason."""
    journey.write({"pipes.py": PROJECT})
    daemons = [journey.daemon(), journey.daemon()]
    # The test opens the store only once the daemons have, or it would create it for them.
    if journey.backend == "postgres":

        def both_up() -> bool:
            for d in daemons:
                assert d.alive(), f"a daemon exited:\n{d.output()}"
            return all(" on Store(" in d.output() for d in daemons)

        wait_until(both_up, what="both daemons to open the store")
        wait_until(lambda: _live_daemons(journey) == 2, what="both daemons' heartbeats")
        assert all(d.alive() for d in daemons)
    else:
        wait_until(lambda: not all(d.alive() for d in daemons), 30, what="one daemon to be refused")
        refused = next(d for d in daemons if not d.alive())
        assert refused.popen.wait() == 2, refused.output()
        assert "another daemon" in refused.output(), refused.output()
        assert "PostgreSQL" in refused.output(), refused.output()  # the way to run several
        assert "Traceback" not in refused.output(), refused.output()
        wait_until(lambda: _live_daemons(journey) == 1, what="the other daemon's heartbeat")
    assert "succeeded" in journey.ok("run", "hello").stdout
    for d in daemons:
        if d.alive():
            assert d.stop() == 0, d.output()
        else:
            assert journey.backend == "sqlite", d.output()
