"""``legato run``, ``rerun`` and ``backfill`` beside a running daemon (the recommended set-up): the
command executes its own run, the daemon never takes it, and the exit code and the final status
printed tell the truth."""

from __future__ import annotations

import re

import pytest
from journey import Journey, wait_until

PROJECT = """
    import os
    import time
    import legato as lg

    @lg.asset
    def good() -> int:
        time.sleep(0.3)
        return 1

    @lg.asset
    def bad() -> int:
        if os.environ.get("BAD_FIXED") != "1":
            raise ValueError("the source is unreachable")
        return 2

    @lg.asset
    def after_bad(bad: int) -> int:
        return bad + 1

    @lg.asset(partitions=lg.StaticPartitions(["a", "b", "c"]))
    def regions(context) -> str:
        return context.partition_key
"""

pytestmark = pytest.mark.timeout(600)


def _daemon_ready(journey: Journey) -> None:
    from legato.store.automation import live_daemons

    daemon = journey.daemon()

    def live() -> bool:
        if not daemon.alive():
            raise AssertionError(f"legato daemon exited:\n{daemon.output()}")
        try:
            return bool(live_daemons(journey.store(), within=30.0))
        except Exception:  # the schema is being created by the daemon
            return False

    wait_until(live, what="the daemon to register")


def _final(stdout: str) -> tuple[str, str]:
    found = re.findall(r"^run (\S+) (succeeded|failed|cancelled|running|queued)\s*$", stdout, re.M)
    assert found, stdout
    return found[-1]


def test_runs_from_the_command_line_beside_a_daemon_report_their_true_outcome(
    journey: Journey,
) -> None:
    from legato.store.runs import get_run

    journey.write({"pipes.py": PROJECT})
    _daemon_ready(journey)
    for _ in range(3):
        result = journey.legato("run", "good")
        assert result.returncode == 0, result.stdout + result.stderr
        run_id, status = _final(result.stdout)
        assert status == "succeeded", result.stdout
        assert get_run(journey.store(), run_id).status.value == "succeeded"

    failed = journey.legato("run", "bad+")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    run_id, status = _final(failed.stdout)
    assert status == "failed", failed.stdout
    assert "skipped" in failed.stdout, failed.stdout
    assert get_run(journey.store(), run_id).status.value == "failed"

    rerun = journey.legato("rerun", run_id, "--from-failure", env={"BAD_FIXED": "1"})
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert _final(rerun.stdout)[1] == "succeeded", rerun.stdout

    backfill = journey.legato("backfill", "regions", "--keys", "a,b,c")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    assert "completed" in backfill.stdout, backfill.stdout


def test_a_queued_run_is_still_executed_by_the_daemon(journey: Journey) -> None:
    from legato.store.runs import get_run

    journey.write({"pipes.py": PROJECT})
    _daemon_ready(journey)
    queued = journey.ok("run", "good", "--queue").stdout
    run_id = re.search(r"run (\S+) queued", queued)
    assert run_id, queued
    wait_until(
        lambda: get_run(journey.store(), run_id.group(1)).status.value == "succeeded",
        what="the daemon to execute the queued run",
    )


SLOW = """
    import time
    from pathlib import Path
    import legato as lg

    @lg.asset(retries=lg.Retry(1, delay=0.1))
    def slow() -> int:
        marker = Path("slow.started")
        if not marker.exists():
            marker.write_text("first attempt")
            time.sleep(600)
        return 1
"""


def test_the_daemon_takes_over_a_command_line_run_whose_process_died(journey: Journey) -> None:
    from legato.store.runs import get_steps, list_runs

    journey.write({"pipes.py": SLOW})
    _daemon_ready(journey)
    cli = journey.start("run", "slow")
    wait_until((journey.dir / "slow.started").exists, what="the step's first attempt to start")
    [run] = list_runs(journey.store())
    assert run.status.value == "running" and run.launcher and ":" in run.launcher, run
    cli.kill_group()  # the command and its step's process vanish, as in a crash

    def finished() -> bool:
        [record] = list_runs(journey.store())
        return record.status.finished

    wait_until(finished, timeout=180, what="the daemon to resume the run after its lease")
    [record] = list_runs(journey.store())
    assert record.status.value == "succeeded", record
    assert record.launcher != run.launcher, record
    [step] = get_steps(journey.store(), run.run_id)
    assert step.status.value == "succeeded" and step.attempt == 2, step
