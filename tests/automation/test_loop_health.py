"""Each loop of the daemon reports its last success and latest error; one whose latest attempt
failed makes the daemon 'degraded' instead of 'running'."""

from datetime import UTC, datetime

import legato as lg
from legato.automation.loop_health import LoopHealth
from legato.testing import VirtualDaemon


def test_a_loop_failing_now_degrades_the_daemon_until_it_works_again():
    health = LoopHealth()
    health.ok("run_queue")
    health.ok("heartbeat")
    assert health.report()["state"] == "running"
    health.failed("heartbeat", "connection refused")
    report = health.report()
    assert report["state"] == "degraded" and report["failing"] == ["heartbeat"]
    assert report["loops"]["heartbeat"]["last_error"] == "connection refused"
    health.ok("heartbeat")
    assert health.report()["state"] == "running"


def test_a_daemon_iteration_reports_each_of_its_loops():
    @lg.task
    def job() -> None:
        return None

    hourly = lg.Pipeline("hourly", select="job", triggers=[lg.Cron("0 * * * *")])
    daemon = VirtualDaemon([hourly], steps=[job], start=datetime(2025, 1, 1, tzinfo=UTC))
    daemon.tick()
    status = daemon.daemon.status()
    assert status["state"] == "running" and status["id"] == daemon.daemon.id
    assert {"heartbeat", "evaluate_triggers", "backfills", "consumers"} <= set(status["loops"])
    assert all(loop["last_ok"] for loop in status["loops"].values())
