"""Cancel stops a running run: its running step's process stops, the run ends cancelled within
seconds, steps after it are skipped, and nothing the step does afterwards counts."""

from __future__ import annotations

import time

import pytest
from journey import Journey, across_stores, wait_until

EXECUTORS = ["process", "threads", "inprocess", pytest.param("dask", marks=pytest.mark.slow)]

PROJECT = """
    import time
    from pathlib import Path
    import legato as lg

    @lg.asset
    def slow() -> int:
        beat = Path("slow.beats")
        for i in range(600):
            with beat.open("a") as f:
                f.write("x")
            print(f"working {i}", flush=True)
            time.sleep(0.1)
        return 1

    @lg.asset
    def after(slow: int) -> int:
        Path("after.ran").write_text("yes")
        return slow + 1
"""


def _beats(journey: Journey) -> int:
    path = journey.dir / "slow.beats"
    return path.stat().st_size if path.exists() else 0


def _status(journey: Journey, run_id: str) -> str:
    from legato.store.runs import get_run

    return get_run(journey.store(), run_id).status.value


def _steps(journey: Journey, run_id: str) -> dict[str, str]:
    from legato.store.runs import get_steps

    return {s.step_key: s.status.value for s in get_steps(journey.store(), run_id)}


def _assert_stopped(journey: Journey, run_id: str, cancelled_at: float) -> None:
    wait_until(
        lambda: _status(journey, run_id) == "cancelled", timeout=15, what="the run to be cancelled"
    )
    assert time.monotonic() - cancelled_at < 15
    beats = _beats(journey)
    # The step's process is gone: no more heartbeats over the next second and a half.
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        time.sleep(0.1)
    assert _beats(journey) == beats, "the cancelled step kept running"
    steps = _steps(journey, run_id)
    assert steps["slow"] == "cancelled", steps
    assert steps["after"] in ("cancelled", "skipped"), steps
    assert not (journey.dir / "after.ran").exists()
    assert "materialized" not in journey.ok("assets").stdout


@across_stores(EXECUTORS)
def test_cancel_from_the_api_stops_a_running_step(journey: Journey, executor: str) -> None:
    journey.write({"pipes.py": PROJECT}, config=f'executor = "{executor}"\n')
    server = journey.up()
    status, body = server.post("/api/v1/runs", {"selection": ["slow+"]})
    assert status in (200, 201), body
    run_id = body["run"]["run_id"]
    wait_until(lambda: _beats(journey) > 3, what="the step to start working")
    status, body = server.post(f"/api/v1/runs/{run_id}/cancel")
    assert status == 200, body
    _assert_stopped(journey, run_id, time.monotonic())


@across_stores(["process", "threads", "inprocess"])
def test_legato_cancel_stops_a_cli_run(journey: Journey, executor: str) -> None:
    journey.write({"pipes.py": PROJECT}, config=f'executor = "{executor}"\n')
    cli = journey.start("run", "slow+")
    wait_until(lambda: _beats(journey) > 3, what="the step to start working")
    from legato.store.runs import list_runs

    run_id = list_runs(journey.store(), limit=1)[0].run_id
    journey.ok("cancel", run_id)
    started = time.monotonic()
    _assert_stopped(journey, run_id, started)
    wait_until(lambda: not cli.alive(), timeout=15, what="legato run to exit")
    assert cli.popen.returncode == 130, cli.output()
    assert "cancelled" in cli.output()
