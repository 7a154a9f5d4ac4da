"""PostgreSQL goes away for 30 s under a daemon with runs in flight and queued, then comes back:
the daemon does not exit, every run ends succeeded, nothing is left in a transient state, each
asset is materialized once per run, and ``legato run`` during the outage says what is wrong
without a traceback (RELIABILITY F-06, F-07). The server is the test's own, never the
machine's shared one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from journey import Journey, Process, wait_until

OUTAGE = 30.0  # seconds
RUNS = 5  # one more than the daemon runs at once: one waits in the queue

PROJECT = """
    import time
    import legato as lg

    def _work(context):
        with open("ledger.txt", "a") as f:
            f.write(f"{context.run_id} {context.step} {context.attempt}\\n")
        time.sleep(2)
        return 1

    @lg.asset
    def extract(context) -> int:
        return _work(context)

    @lg.asset
    def transform(context, extract: int) -> int:
        return _work(context)

    @lg.asset
    def load(context, transform: int) -> int:
        return _work(context)
"""


@pytest.fixture
def journey(tmp_path: Path, postgres_cluster: Any) -> Iterator[Journey]:
    """A project on the test's own PostgreSQL (stopped after the journey's processes)."""
    j = Journey(tmp_path, "postgres", postgres_cluster.url)
    try:
        yield j
    finally:
        j.close()


def _runs(journey: Journey) -> dict[str, str]:
    from legato.store.runs import list_runs

    return {r.run_id: r.status.value for r in list_runs(journey.store(), limit=100)}


def _ledger(journey: Journey) -> Counter[tuple[str, str]]:
    path = journey.dir / "ledger.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter((run, step) for run, step, _ in (line.split() for line in lines))


def _recorded_attempts(journey: Journey) -> Counter[tuple[str, str]]:
    from legato.store.runs import get_steps

    return Counter(
        {
            (s.run_id, s.step_key): s.attempt
            for r in _runs(journey)
            for s in get_steps(journey.store(), r)
        }
    )


def _state(journey: Journey) -> str:
    from legato.store.runs import get_run, get_steps

    out = []
    for run_id, status in _runs(journey).items():
        record = get_run(journey.store(), run_id)
        steps = {
            s.step_key: (s.status.value, s.attempt) for s in get_steps(journey.store(), run_id)
        }
        out.append(
            f"{run_id} {status} launcher={record.launcher} lease={record.lease_until} {steps}"
        )
    return "\n".join(out)


def _materialized(journey: Journey) -> Counter[tuple[str, str]]:
    from sqlalchemy import select

    from legato.store.schema import materializations as m

    with journey.store().read() as conn:
        return Counter(
            (r.run_id, r.asset_key) for r in conn.execute(select(m.c.run_id, m.c.asset_key))
        )


@contextmanager
def _outage(cluster: Any, seconds: float, *survivors: Process) -> Iterator[None]:
    """The server down (``pg_ctl stop -m fast`` ends every connection) for ``seconds`` from
    entry, whatever the block does meanwhile; the processes in ``survivors`` stay up all along."""
    cluster.stop("fast")
    back_at = time.monotonic() + seconds
    yield
    while time.monotonic() < back_at:  # the outage lasts its time, whatever happens meanwhile
        for process in survivors:
            assert process.alive(), f"{process.name} exited in the outage:\n{process.output()}"
        time.sleep(0.5)
    cluster.start()


def _all_end(journey: Journey, timeout: float, *watched: Process) -> dict[str, str]:
    try:
        wait_until(
            lambda: all(s in ("succeeded", "failed", "cancelled") for s in _runs(journey).values()),
            timeout=timeout,
            what="every run to end after the outage",
        )
    except AssertionError as exc:
        logs = "\n".join(p.output()[-4000:] for p in watched)
        raise AssertionError(f"{exc}\n{_state(journey)}\n{logs}") from None
    return _runs(journey)


def _each_asset_once_per_run(journey: Journey, runs: dict[str, str]) -> None:
    assets = ("extract", "transform", "load")
    assert _materialized(journey) == {(r, a): 1 for r in runs for a in assets}
    assert _ledger(journey) == _recorded_attempts(journey)  # every attempt that ran is recorded


def test_legato_run_while_the_database_is_down_says_so_without_a_traceback(
    journey: Journey, postgres_cluster: Any
) -> None:
    journey.write({"pipes.py": PROJECT})
    journey.ok("run", "extract", "--queue")  # the store exists and has a run
    with _outage(postgres_cluster, 0):
        for args in (("run", "extract+"), ("run", "extract+", "--queue"), ("runs",)):
            done = journey.legato(*args, timeout=60)
            output = done.stdout + done.stderr
            assert done.returncode != 0, (args, output)
            assert "Traceback" not in output, (args, output)
            assert "store" in output and "reachable" in output, (args, output)
    assert list(_runs(journey).values()) == ["queued"]  # nothing was recorded meanwhile


@pytest.mark.slow
def test_the_daemon_executes_a_run_queued_after_a_database_restart(
    journey: Journey, postgres_cluster: Any
) -> None:
    journey.write({"pipes.py": PROJECT})
    server = journey.up()
    daemon = server.process
    run_id = journey.ok("run", "extract", "--queue").stdout.split("run ", 1)[1].split()[0]
    wait_until(lambda: _runs(journey)[run_id] == "succeeded", timeout=60, what="the first run")
    with _outage(postgres_cluster, 1.0, daemon):
        status, body = server.get("/api/v1/health")
        assert status == 503, body  # not "running" while the store is away
    restarted = time.time()
    run_id = journey.ok("run", "extract", "--queue").stdout.split("run ", 1)[1].split()[0]
    _all_end(journey, 30, daemon)
    assert _runs(journey)[run_id] == "succeeded", _state(journey)

    def recovered() -> dict[str, Any]:
        status, body = server.get("/api/v1/health")
        loops = body["daemon"].get("loops", {}) if status == 200 else {}
        done = all((loop["last_ok"] or 0) > restarted for loop in loops.values())
        return body if loops and done and body["daemon"]["state"] == "running" else {}

    health = wait_until(recovered, timeout=30, what="every loop of the daemon to work again")
    assert {"heartbeat", "evaluate_triggers", "run_queue"} <= set(health["daemon"]["loops"])


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_daemon_and_its_runs_ride_out_a_30_second_outage(
    journey: Journey, postgres_cluster: Any
) -> None:
    journey.write({"pipes.py": PROJECT})
    for _ in range(RUNS):
        journey.ok("run", "extract+", "--queue")
    daemon = journey.daemon()
    wait_until(
        lambda: len({run for run, _ in _ledger(journey)}) >= 3,
        timeout=120,
        what="three runs to be executing",
    )

    with _outage(postgres_cluster, OUTAGE, daemon):
        pass

    runs = _all_end(journey, 30 + 90, daemon)  # a lost lease expires in 30 s; a run works 6 s
    assert len(runs) == RUNS, runs
    assert set(runs.values()) == {"succeeded"}, _state(journey)
    _each_asset_once_per_run(journey, runs)
    assert daemon.alive(), daemon.output()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_legato_run_in_flight_finishes_after_a_10_second_outage(
    journey: Journey, postgres_cluster: Any
) -> None:
    journey.write({"pipes.py": PROJECT})
    cli = journey.start("run", "extract+")
    wait_until(lambda: _ledger(journey), timeout=60, what="extract to start")
    with _outage(postgres_cluster, 10.0):
        pass

    wait_until(lambda: not cli.alive(), timeout=90, what="legato run to exit")
    assert cli.popen.returncode == 0, cli.output()
    runs = _all_end(journey, 10, cli)
    assert set(runs.values()) == {"succeeded"}, _state(journey)
    _each_asset_once_per_run(journey, runs)
