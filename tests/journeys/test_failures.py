"""A step fails: downstream steps are skipped, the CLI says why, and a rerun from the failure
finishes the run's work."""

from __future__ import annotations

from journey import Journey

PROJECT = """
    import os
    import legato as lg

    @lg.asset
    def up() -> int:
        if os.environ.get("UP_FAILS") == "1":
            raise ValueError("the upstream source is unreachable")
        return 1

    @lg.asset
    def down(up: int) -> int:
        return up + 1
"""


def test_a_failed_asset_skips_its_downstream_and_a_rerun_from_failure_completes(
    journey: Journey,
) -> None:
    journey.write({"pipes.py": PROJECT})
    failed = journey.legato("run", "up+", env={"UP_FAILS": "1"})
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    assert "failed" in failed.stdout and "skipped" in failed.stdout, failed.stdout

    runs = journey.ok("runs").stdout
    assert "failed" in runs and "running" not in runs, runs
    run_id = journey.store() and _latest_run(journey)
    shown = journey.ok("runs", "show", run_id).stdout
    assert "the upstream source is unreachable" in shown, shown
    assert "skipped" in shown, shown

    logs = journey.legato("logs", run_id).stdout
    assert "the upstream source is unreachable" in logs, logs

    rerun = journey.legato("rerun", run_id, "--from-failure")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assets = journey.ok("assets").stdout
    for name in ("up", "down"):
        row = next(line for line in assets.splitlines() if line.split()[:1] == [name])
        assert row.split()[-1] == "1", assets  # materialized once, by the rerun


def _latest_run(journey: Journey) -> str:
    from legato.store.runs import list_runs

    return list_runs(journey.store(), limit=1)[0].run_id


def test_materialize_reports_a_failed_asset_and_its_skipped_downstream() -> None:
    import legato as lg

    @lg.asset
    def up() -> int:
        raise ValueError("boom")

    @lg.asset
    def down(up: int) -> int:
        return up + 1

    result = lg.materialize([up, down], raise_on_error=False)
    assert not result.success
    statuses = {key: step.status.value for key, step in result.steps.items()}
    assert statuses == {"up": "failed", "down": "skipped"}, statuses
