"""SIGTERM (a service manager's stop, a Ctrl-C) of a daemon with a run in flight: the daemon exits
within seconds, not when the run ends; it releases its triggers and hands the run on, and the next
daemon resumes it at once. The interrupted attempt does not count against the step's retries."""

from __future__ import annotations

import signal
import time

import procs
import pytest
from journey import Journey, wait_until
from sqlalchemy import select
from test_crash_recovery import PROJECT, _attempts, _ends, _queue, _release, _started

from legato.automation.daemon import DRAIN
from legato.store.schema import runs
from legato.store.schema_automation import triggers

EVERY_SECOND = """
    import legato as lg

    ticking = lg.Pipeline("ticking", select="after", triggers=[lg.Every(1)])
"""

SCHEDULED = """
    import legato as lg

    hourly = lg.Pipeline("hourly", select="after", triggers=[lg.Cron("0 * * * *")])
"""


def test_sigterm_stops_the_daemon_in_seconds_and_the_next_one_resumes_its_run(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PROJECT, "sched.py": SCHEDULED})
    daemon = journey.daemon()
    run_id = _queue(journey, "fragile")  # no retries: a lost attempt would fail the run
    _started(journey, "fragile")
    owned = wait_until(lambda: _trigger_owners(journey) == {daemon_id(journey)}, what="a claim")
    assert owned

    daemon.signal(signal.SIGTERM)
    # Bounded by the drain plus a margin for a loaded machine, far below the run's minute.
    wait_until(lambda: not daemon.alive(), timeout=DRAIN + 20, what="the daemon to exit")
    assert daemon.popen.returncode == 0, daemon.output()
    assert "daemon stopped" in daemon.output()
    assert _trigger_owners(journey) == {None}
    listed = journey.ok("automation", "daemons").stdout
    assert "stopped" in listed and "running" not in listed, listed
    with journey.store().read() as conn:
        lease = conn.execute(select(runs.c.lease_until).where(runs.c.run_id == run_id)).scalar()
    assert lease is not None and lease < time.time()  # handed on, not held for 30 s more

    _release(journey)
    journey.daemon()
    _ends(journey, run_id, "succeeded", timeout=60)
    ledger = _attempts(journey, run_id)
    assert ledger[("fragile", 1, "start")] == 1 and ledger[("fragile", 1, "end")] == 0
    assert ledger[("fragile", 2, "start")] == ledger[("fragile", 2, "end")] == 1


def test_sigterm_of_legato_up_stops_its_daemon_and_every_run_worker_before_exiting(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PROJECT, "sched.py": SCHEDULED})
    server = journey.up()
    run_id = _queue(journey, "fragile")
    _started(journey, "fragile")
    children = procs.children(server.process.pid)
    assert children, "legato up runs its runs in worker processes"

    server.process.signal(signal.SIGTERM)
    wait_until(lambda: not server.process.alive(), timeout=DRAIN + 20, what="legato up to exit")
    assert server.process.popen.returncode == 0, server.process.output()
    # A run worker left behind would go on writing the run after the server is gone.
    left = {pid: procs.cmdline(pid) for pid in children if procs.alive(pid)}
    assert left == {}, server.process.output()
    assert _trigger_owners(journey) == {None}
    with journey.store().read() as conn:
        lease = conn.execute(select(runs.c.lease_until).where(runs.c.run_id == run_id)).scalar()
    assert lease is not None and lease < time.time()  # handed on to the next daemon

    _release(journey)
    journey.daemon()
    _ends(journey, run_id, "succeeded", timeout=60)


SLOW_SENSOR = """
    import time
    from pathlib import Path
    import legato as lg

    @lg.sensor(interval=1)
    def slow_feed(context):
        Path("sensor.started").touch()
        time.sleep(600)  # a feed that hangs: well inside the code server's 60 s timeout at first

    @lg.task
    def fetch() -> int:
        return 1

    feed = lg.Pipeline("feed", select="fetch", triggers=[slow_feed])
"""


def test_sigterm_stops_a_daemon_whose_sensor_is_still_running(journey: Journey) -> None:
    journey.write({"pipes.py": SLOW_SENSOR})
    daemon = journey.daemon()
    wait_until(lambda: (journey.dir / "sensor.started").exists(), what="the sensor to start")

    daemon.signal(signal.SIGTERM)
    # The sensor is not awaited: the daemon stops long before the code server's timeout.
    wait_until(lambda: not daemon.alive(), timeout=DRAIN + 20, what="the daemon to exit")
    assert daemon.popen.returncode == 0, daemon.output()
    assert "daemon stopped" in daemon.output()
    assert _trigger_owners(journey) == {None}


def test_kill_9_of_a_daemon_hands_its_triggers_to_another_at_once(journey: Journey) -> None:
    if journey.backend == "sqlite":
        pytest.skip("a SQLite store runs one daemon")
    journey.write({"pipes.py": PROJECT, "sched.py": EVERY_SECOND})
    first = journey.daemon()
    victim = wait_until(lambda: _trigger_owners(journey) - {None}, what="a trigger claimed")
    second = journey.daemon()
    wait_until(lambda: len(_running_daemons(journey)) == 2, what="both daemons to beat")
    [victim_id] = victim
    dead, survivor = (
        (first, second) if int(victim_id.split(":")[-2]) == first.pid else (second, first)
    )

    dead.signal(signal.SIGKILL)
    # Well inside the 30 s lease: the presence lock died with the process's connection.
    wait_until(
        lambda: _running_daemons(journey) == [_survivor_id(journey, survivor.pid)],
        timeout=20,
        what=f"the killed daemon to be marked dead: {_running_daemons(journey)}",
    )
    wait_until(
        lambda: _trigger_owners(journey) == {_survivor_id(journey, survivor.pid)},
        timeout=20,
        what=f"the survivor to take the triggers over: {_trigger_owners(journey)}",
    )
    assert survivor.alive(), survivor.output()
    listed = journey.ok("automation", "daemons").stdout
    assert "dead" in listed, listed


def _survivor_id(journey: Journey, pid: int) -> str:
    [found] = [d for d in _running_daemons(journey) if int(d.split(":")[-2]) == pid]
    return found


def _running_daemons(journey: Journey) -> list[str]:
    from legato.store.automation import live_daemons

    return [d.daemon_id for d in live_daemons(journey.store(), within=60)]


def daemon_id(journey: Journey) -> str:
    from legato.store.automation import live_daemons

    found = wait_until(lambda: live_daemons(journey.store(), within=60), what="a heartbeat")
    return found[0].daemon_id


def _trigger_owners(journey: Journey) -> set[str | None]:
    with journey.store().read() as conn:
        return set(conn.execute(select(triggers.c.owner)).scalars())
