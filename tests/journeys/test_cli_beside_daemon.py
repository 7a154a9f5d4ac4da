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

pytestmark = pytest.mark.timeout(300)


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
