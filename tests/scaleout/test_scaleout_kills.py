"""Killing whatever runs a step mid-step: the attempt fails as lost, is retried exactly once more,
and the run succeeds; the side-effect ledger shows no attempt committed twice (RELIABILITY F-02,
F-03, D-02). A paused worker that comes back after its lease is fenced out."""

from __future__ import annotations

import collections
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
import scaleout_steps
from scaleout_support import PgSchema, alive, start_workers, wait_for
from sqlalchemy import select

from legato.definitions.project import Project
from legato.definitions.step import StepDef
from legato.execution.api import RunResult, launch_run
from legato.execution.executors.process_pool import ProcessPoolExecutor
from legato.graph.build import build_graph
from legato.store.schema_workers import step_queue

# module-scoped fixtures (clusters, workers, servers) are costly to start again
pytestmark = pytest.mark.together

PROJECT = Project.of(v for v in vars(scaleout_steps).values() if isinstance(v, StepDef))
GRAPH = build_graph(PROJECT)


def run_in_thread(schema: PgSchema, storage: Path, executor: Any, tmp_path: Path) -> dict:
    outcome: dict[str, RunResult] = {}

    def run() -> None:
        outcome["result"] = launch_run(
            PROJECT,
            GRAPH,
            ["victim"],
            store=schema.store,
            storage_root=storage,
            executor=executor,
            run_config={"dir": str(tmp_path), "ledger_url": schema.plain_url},
        )

    thread = threading.Thread(target=run)
    thread.start()
    outcome["thread"] = thread  # type: ignore[assignment]
    return outcome


def victim_pid(tmp_path: Path) -> int:
    pid_file = tmp_path / "victim.pid"
    return int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the victim"))


def assert_retried_once_and_succeeded(schema: PgSchema, outcome: dict, lost: str) -> RunResult:
    outcome["thread"].join(60)
    result = outcome["result"]
    assert result.success, result.failures()
    assert result.output("victim") == "attempt 2"
    retries = [e for e in result.events if e["type"] == "step_retry"]
    assert len(retries) == 1 and lost in retries[0]["data"]["error"]["message"]
    assert result.steps["victim"].attempt == 2
    ledger = collections.Counter(row for row in schema.ledger() if row[0] == result.run_id)
    assert ledger == {(result.run_id, "victim", 1): 1, (result.run_id, "victim", 2): 1}
    return result


def test_a_killed_process_pool_worker_is_retried_once(pg_schema, tmp_path):
    outcome = run_in_thread(pg_schema, tmp_path / "s", ProcessPoolExecutor(2), tmp_path)
    os.kill(victim_pid(tmp_path), signal.SIGKILL)
    assert_retried_once_and_succeeded(pg_schema, outcome, "killed by signal SIGKILL")


def test_a_killed_dask_worker_is_retried_once(pg_schema, dask_cluster, tmp_path):
    from legato.execution.executors.dask import DaskExecutor

    executor = DaskExecutor(dask_cluster.scheduler_address)
    outcome = run_in_thread(pg_schema, tmp_path / "s", executor, tmp_path)
    os.kill(victim_pid(tmp_path), signal.SIGKILL)  # the Dask worker process itself
    assert_retried_once_and_succeeded(pg_schema, outcome, "Dask worker running it died")


@pytest.fixture
def kill_workers(pg_schema, tmp_path_factory):
    storage = tmp_path_factory.mktemp("kills") / "storage"
    procs = start_workers(
        pg_schema, storage, "kills", 2, "--lease", "1.5", "--poll-interval", "0.2"
    )
    yield storage, procs
    for proc in procs:
        if proc.process.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
        proc.stop()


def holder_of(slot_pid: int, procs: list) -> Any:
    with open(f"/proc/{slot_pid}/stat") as f:
        parent = int(f.read().rsplit(")", 1)[1].split()[1])
    return next(p for p in procs if p.pid == parent)


def queue_rows(schema: PgSchema, run_id: str) -> list[tuple[int, str, str | None]]:
    q = step_queue.c
    with schema.store.read() as conn:
        rows = conn.execute(
            select(q.attempt, q.status, q.outcome).where(q.run_id == run_id).order_by(q.attempt)
        ).all()
    return [(r.attempt, r.status, r.outcome) for r in rows]


def test_a_killed_remote_worker_is_retried_once_on_another(pg_schema, kill_workers, tmp_path):
    from legato.execution.executors.remote import RemoteExecutor

    storage, procs = kill_workers
    executor = RemoteExecutor(pg_schema.store, "kills", lease_check=0.2)
    outcome = run_in_thread(pg_schema, storage, executor, tmp_path)
    slot = victim_pid(tmp_path)
    victim_worker = holder_of(slot, procs)
    victim_worker.kill()  # SIGKILL to the worker's group; its slot dies with it (PDEATHSIG)
    wait_for(lambda: not alive(slot), 10, "the killed worker's step process to die")
    result = assert_retried_once_and_succeeded(pg_schema, outcome, "stopped renewing its lease")
    rows = queue_rows(pg_schema, result.run_id)
    assert [(a, s) for a, s, _ in rows] == [(1, "lost"), (2, "done")] and rows[0][2] is None


def test_a_paused_worker_is_fenced_out_when_it_resumes(pg_schema, kill_workers, tmp_path):
    from legato.execution.executors.remote import RemoteExecutor

    storage, procs = kill_workers
    executor = RemoteExecutor(pg_schema.store, "kills", lease_check=0.2)
    outcome = run_in_thread(pg_schema, storage, executor, tmp_path)
    slot = victim_pid(tmp_path)
    paused = holder_of(slot, procs)
    os.kill(paused.pid, signal.SIGSTOP)  # past its lease: the attempt is retried elsewhere
    result = assert_retried_once_and_succeeded(pg_schema, outcome, "stopped renewing its lease")
    (tmp_path / "release").write_text("")  # the paused worker's step may now finish...
    os.kill(paused.pid, signal.SIGCONT)  # ...but its worker's writes are rejected
    wait_for(lambda: not alive(slot), 15, "the fenced attempt's process to stop")
    wait_for(lambda: "abandoned" in paused.log.read_text() or "rejected" in paused.log.read_text())
    assert paused.process.poll() is None  # the worker itself carries on
    rows = queue_rows(pg_schema, result.run_id)
    assert [(a, s) for a, s, _ in rows] == [(1, "lost"), (2, "done")] and rows[0][2] is None
