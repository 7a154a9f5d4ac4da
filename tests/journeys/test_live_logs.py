"""Logs are live: lines a running step prints reach the store, the REST API and the SSE stream
within about a second, on every local executor, while the step is still running."""

from __future__ import annotations

import json
import time

import pytest
from journey import Journey, across_stores, wait_until

EXECUTORS = ["process", "threads", "inprocess", pytest.param("dask", marks=pytest.mark.slow)]

PROJECT = """
    import logging
    import time
    from pathlib import Path
    import legato as lg

    @lg.task
    def long_step() -> int:
        for i in range(600):
            if Path("stop").exists():
                return i
            print(f"progress {i}", flush=True)
            logging.getLogger("pipes").warning("checkpoint %d", i)
            time.sleep(0.3)
        return -1
"""


def _lines(server, run_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    status, body = server.get(f"/api/v1/runs/{run_id}/logs")
    assert status == 200, body
    return [line["message"] for line in body["lines"]]


@across_stores(EXECUTORS)
def test_lines_of_a_running_step_reach_the_api_and_the_stream_within_a_second(
    journey: Journey, executor: str
) -> None:
    journey.write({"pipes.py": PROJECT}, config=f'executor = "{executor}"\n')
    server = journey.up()
    status, body = server.post("/api/v1/runs", {"selection": ["long_step"]})
    assert status == 201, body
    run_id = body["run"]["run_id"]
    first = wait_until(lambda: _lines(server, run_id), timeout=30, what="the first log line")
    assert any("progress" in line for line in first), first
    assert any("checkpoint" in line for line in first), first

    # New lines keep arriving while the step runs: each within about a second of being printed.
    seen = len(_lines(server, run_id))
    started = time.monotonic()
    wait_until(lambda: len(_lines(server, run_id)) >= seen + 4, timeout=5, what="more lines")
    assert time.monotonic() - started < 5

    streamed = []
    for raw in server.stream(f"/api/v1/runs/{run_id}/logs/stream", seconds=3):
        line = raw.decode().strip()
        if line.startswith("data:") and "message" in line:
            streamed.append(json.loads(line[5:])["message"])
    assert any("progress" in m for m in streamed), streamed

    from legato.store.runs import get_run

    assert get_run(journey.store(), run_id).status.value == "running"
    (journey.dir / "stop").write_text("")
    wait_until(
        lambda: get_run(journey.store(), run_id).status.value == "succeeded",
        what="the step to finish",
    )
    total = _lines(server, run_id)
    numbers = [int(m.split()[1]) for m in total if m.startswith("progress")]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers)), numbers


def test_legato_logs_follow_prints_lines_while_the_step_runs(journey: Journey) -> None:
    journey.write({"pipes.py": PROJECT})
    journey.daemon()
    journey.ok("run", "long_step", "--queue")
    from legato.store.runs import list_runs

    run_id = wait_until(
        lambda: [
            r.run_id for r in list_runs(journey.store(), limit=1) if r.status.value == "running"
        ],
        what="the run to start",
    )[0]
    follower = journey.start("logs", run_id, "-f")
    wait_until(lambda: "progress 3" in follower.output(), timeout=20, what="followed lines")
    assert follower.alive()
    (journey.dir / "stop").write_text("")
    wait_until(lambda: not follower.alive(), timeout=30, what="logs -f to end with the run")
