"""kill -9 of each Legato process while a step is working: the daemon, a run worker, a step
worker, a ``legato run``, and all of them at once. Nothing is left running, the run ends as its
retry policy says, and every asset is materialized exactly once per successful attempt (RELIABILITY F-02).

Each step appends ``run step attempt start|end pid`` to a ledger file, with no dedupe, so an
attempt that ran twice, or one that went on after its process was killed, shows up there.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter
from typing import NamedTuple

import pytest
from journey import Journey, Process, wait_until
from procs import RUN_WORKER, STEP_WORKER, alive, children, cmdline, owner

PROJECT = """
    import os
    import time
    from pathlib import Path
    import legato as lg

    def _note(context, event):
        with open("ledger.txt", "a") as f:
            f.write(f"{context.run_id} {context.step} {context.attempt} {event} {os.getpid()}\\n")

    def _work(context):
        _note(context, "start")
        for _ in range(1200):  # a minute at most: until the test lets the step finish
            if Path("release").exists():
                break
            time.sleep(0.05)
        _note(context, "end")
        return 1

    @lg.asset(retries=lg.Retry(1, delay=0))
    def slow(context) -> int:
        return _work(context)

    @lg.asset
    def fragile(context) -> int:
        return _work(context)

    @lg.asset
    def after(context, slow: int) -> int:
        _note(context, "start")
        _note(context, "end")
        return slow + 1
"""


class Entry(NamedTuple):
    run: str
    step: str
    attempt: int
    event: str
    pid: int


def _ledger(journey: Journey) -> list[Entry]:
    path = journey.dir / "ledger.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    return [Entry(r, s, int(a), e, int(p)) for r, s, a, e, p in (line.split() for line in lines)]


def _attempts(journey: Journey, run_id: str) -> Counter[tuple[str, int, str]]:
    return Counter((e.step, e.attempt, e.event) for e in _ledger(journey) if e.run == run_id)


def _started(journey: Journey, step: str = "slow") -> Entry:
    found = wait_until(
        lambda: [e for e in _ledger(journey) if e.step == step and e.event == "start"],
        timeout=60,
        what=f"{step} to start",
    )
    return found[0]  # type: ignore[no-any-return]


def _release(journey: Journey) -> None:
    (journey.dir / "release").write_text("")


def _status(journey: Journey, run_id: str) -> str:
    from legato.store.runs import get_run

    return get_run(journey.store(), run_id).status.value


def _ends(journey: Journey, run_id: str, status: str, timeout: float) -> None:
    wait_until(
        lambda: _status(journey, run_id) in ("succeeded", "failed", "cancelled"),
        timeout=timeout,
        what=f"run {run_id} to end",
    )
    assert _status(journey, run_id) == status, journey.ok("runs", "show", run_id).stdout


def _steps(journey: Journey, run_id: str) -> dict[str, tuple[str, int]]:
    from legato.store.runs import get_steps

    return {s.step_key: (s.status.value, s.attempt) for s in get_steps(journey.store(), run_id)}


def _materialized(journey: Journey, run_id: str) -> Counter[str]:
    from sqlalchemy import select

    from legato.store.schema import materializations as m

    with journey.store().read() as conn:
        rows = conn.execute(select(m.c.asset_key).where(m.c.run_id == run_id)).scalars()
        return Counter(rows)


def _nothing_left_running(journey: Journey) -> None:
    from legato.store.runs import list_runs

    stuck = [
        (r.run_id, r.status.value) for r in list_runs(journey.store()) if not r.status.finished
    ]
    assert not stuck, stuck


def _attempt_1_lost_attempt_2_done(journey: Journey, run_id: str) -> None:
    """``slow``'s first attempt never ended, its second did, ``after`` ran once, each asset was
    materialized once, and no Legato process is left running."""
    assert _attempts(journey, run_id) == {
        ("slow", 1, "start"): 1,
        ("slow", 2, "start"): 1,
        ("slow", 2, "end"): 1,
        ("after", 1, "start"): 1,
        ("after", 1, "end"): 1,
    }
    assert _materialized(journey, run_id) == {"slow": 1, "after": 1}
    _nothing_left_running(journey)


def _queue(journey: Journey, selection: str) -> str:
    out = journey.ok("run", selection, "--queue").stdout
    return out.split("run ", 1)[1].split()[0]


def _killed(process: Process) -> None:
    process.signal(signal.SIGKILL)
    wait_until(lambda: not process.alive(), timeout=10, what=f"{process.name} to die")


def _gone(pids: list[int], timeout: float, what: str) -> None:
    wait_until(lambda: not any(alive(p) for p in pids), timeout=timeout, what=what)


def test_kill_9_of_the_daemon_leaves_its_run_to_finish_once(journey: Journey) -> None:
    journey.write({"pipes.py": PROJECT})
    daemon = journey.daemon()
    run_id = _queue(journey, "slow+")
    step = _started(journey).pid
    run_worker = owner(step)
    assert run_worker is not None and RUN_WORKER in cmdline(run_worker), cmdline(step)
    assert owner(run_worker) == daemon.pid
    idle = [w for w in children(daemon.pid, RUN_WORKER) if w != run_worker]

    _killed(daemon)
    # The run worker keeps executing its run (and renewing its lease); idle ones stop.
    assert alive(run_worker) and alive(step)
    _gone(idle, timeout=10, what="idle run workers of the dead daemon to exit")
    successor = journey.daemon()
    _release(journey)
    _ends(journey, run_id, "succeeded", timeout=60)

    assert _attempts(journey, run_id) == {
        ("slow", 1, "start"): 1,
        ("slow", 1, "end"): 1,
        ("after", 1, "start"): 1,
        ("after", 1, "end"): 1,
    }
    assert _materialized(journey, run_id) == {"slow": 1, "after": 1}
    _gone([run_worker, step], timeout=10, what="the orphaned run worker to exit after its run")
    _nothing_left_running(journey)
    assert successor.alive(), successor.output()


def test_kill_9_of_a_run_worker_kills_its_steps_and_the_daemon_resumes_the_run(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PROJECT})
    daemon = journey.daemon()
    run_id = _queue(journey, "slow+")
    step = _started(journey).pid
    run_worker = owner(step)
    assert run_worker is not None and owner(run_worker) == daemon.pid
    step_workers = children(run_worker, STEP_WORKER)
    assert step in step_workers, (step, step_workers)

    os.kill(run_worker, signal.SIGKILL)
    _gone(step_workers, timeout=3, what="the run worker's step workers to die with it")
    _release(journey)  # attempt 1 would finish now if it were still alive
    _ends(journey, run_id, "succeeded", timeout=60)

    assert _steps(journey, run_id)["slow"] == ("succeeded", 2)
    _attempt_1_lost_attempt_2_done(journey, run_id)
    assert daemon.alive(), daemon.output()


def test_kill_9_of_a_step_worker_is_a_failed_attempt_retried_per_policy(journey: Journey) -> None:
    journey.write({"pipes.py": PROJECT})
    daemon = journey.daemon()
    run_id = _queue(journey, "slow+")
    step = _started(journey).pid
    assert STEP_WORKER in cmdline(step), cmdline(step)

    os.kill(step, signal.SIGKILL)
    wait_until(lambda: _steps(journey, run_id)["slow"][1] == 2, timeout=15, what="attempt 2")
    _release(journey)
    _ends(journey, run_id, "succeeded", timeout=30)

    from legato.store.runs import get_events

    retries = [e for e in get_events(journey.store(), run_id) if e["type"] == "step_retry"]
    assert len(retries) == 1, retries
    assert "worker process was killed by signal SIGKILL" in retries[0]["data"]["error"]["message"]
    _attempt_1_lost_attempt_2_done(journey, run_id)
    assert daemon.alive(), daemon.output()


def test_kill_9_of_a_step_worker_without_retries_fails_the_run_naming_the_signal(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PROJECT})
    cli = journey.start("run", "fragile")
    step = _started(journey, "fragile")
    os.kill(step.pid, signal.SIGKILL)
    wait_until(lambda: not cli.alive(), timeout=30, what="legato run to exit")
    assert cli.popen.returncode == 1, cli.output()
    assert "SIGKILL" in cli.output(), cli.output()
    assert "Traceback" not in cli.output(), cli.output()

    assert _status(journey, step.run) == "failed"
    shown = journey.ok("runs", "show", step.run).stdout
    assert "worker process was killed by signal SIGKILL" in shown, shown
    assert _steps(journey, step.run)["fragile"] == ("failed", 1)
    assert _materialized(journey, step.run) == {}
    _nothing_left_running(journey)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_9_of_legato_run_is_recovered_by_the_daemon_after_the_lease(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PROJECT})
    daemon = journey.daemon()
    cli = journey.start("run", "slow+")
    step = _started(journey)
    assert owner(step.pid) == cli.pid, cmdline(step.pid)
    step_workers = children(cli.pid, STEP_WORKER)

    _killed(cli)
    _gone(step_workers, timeout=3, what="the CLI's step workers to die with it")
    _release(journey)
    _ends(journey, step.run, "succeeded", timeout=30 + 60)  # the 30 s lease, then the resume

    assert _steps(journey, step.run)["slow"] == ("succeeded", 2)
    _attempt_1_lost_attempt_2_done(journey, step.run)
    assert daemon.alive(), daemon.output()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_9_of_the_daemon_and_all_it_started_is_recovered_by_the_next_daemon(
    journey: Journey,
) -> None:
    """A host or container crash: every process goes at once; the next daemon resumes the run
    once its lease has expired."""
    journey.write({"pipes.py": PROJECT})
    daemon = journey.daemon()
    run_id = _queue(journey, "slow+")
    step = _started(journey).pid
    run_worker = owner(step)
    assert run_worker is not None and owner(run_worker) == daemon.pid
    doomed = [*children(daemon.pid), *children(run_worker)]
    for pid in [daemon.pid, *doomed]:
        # One that has already gone (a child dies with its parent) needs no kill.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not daemon.alive(), timeout=10, what="the daemon to die")
    _gone(doomed, timeout=10, what="every process of the daemon to die")

    successor = journey.daemon()
    _release(journey)
    _ends(journey, run_id, "succeeded", timeout=30 + 60)  # the 30 s lease, then the resume

    assert _steps(journey, run_id)["slow"] == ("succeeded", 2)
    _attempt_1_lost_attempt_2_done(journey, run_id)
    assert successor.alive(), successor.output()
