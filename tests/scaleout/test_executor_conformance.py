"""Every executor behaves the same under the engine: success, failure, retry, timeout, cancel,
logs, dynamic fan-out and partitions. Each runs the same importable steps via ``launch_run``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import scaleout_steps
from scaleout_support import alive, wait_for

from legato.definitions.project import Project
from legato.definitions.step import StepDef
from legato.events.status import RunStatus, StepStatus
from legato.execution.api import RunResult, launch_run
from legato.execution.executors.inprocess import InProcessExecutor
from legato.execution.executors.process_pool import ProcessPoolExecutor
from legato.execution.executors.threads import ThreadExecutor
from legato.graph.build import build_graph
from legato.store.engine import Store
from legato.store.logs import read_logs

# module-scoped fixtures (clusters, workers, servers) are costly to start again
pytestmark = pytest.mark.together

EXECUTORS = ["inprocess", "threads", "process", "dask", "remote"]
PROJECT = Project.of(v for v in vars(scaleout_steps).values() if isinstance(v, StepDef))
GRAPH = build_graph(PROJECT)


class Harness:
    """Runs selections of the conformance project on one executor kind."""

    def __init__(self, kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.kind = kind
        self.request = request
        self.dir = tmp_path
        if kind == "remote":
            schema = request.getfixturevalue("pg_schema")
            request.getfixturevalue("remote_workers")
            self.store: Store = schema.store
            self.storage: Path = request.getfixturevalue("shared_storage")
        else:
            self.store = Store(f"sqlite:///{tmp_path}/legato.db")
            self.storage = tmp_path / "storage"

    def executor(self) -> Any:
        if self.kind == "inprocess":
            return InProcessExecutor()
        if self.kind == "threads":
            return ThreadExecutor(4)
        if self.kind == "process":
            return ProcessPoolExecutor(2)
        if self.kind == "dask":
            from legato.execution.executors.dask import DaskExecutor

            cluster = self.request.getfixturevalue("dask_cluster")
            return DaskExecutor(cluster.scheduler_address)
        from legato.execution.executors.remote import RemoteExecutor

        return RemoteExecutor(self.store, "conformance")

    def run(self, selection: list[str], **kwargs: Any) -> RunResult:
        return launch_run(
            PROJECT,
            GRAPH,
            selection,
            store=self.store,
            storage_root=self.storage,
            executor=self.executor(),
            run_config={"dir": str(self.dir)},
            **kwargs,
        )

    def release(self) -> None:
        (self.dir / "release").write_text("")


@pytest.fixture(params=EXECUTORS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    h = Harness(request.param, request, tmp_path)
    yield h
    h.release()  # let any step still sleeping in a thread go


def test_values_flow_through_a_dynamic_fan_out(harness):
    result = harness.run(["numbers", "doubled", "total"])
    assert result.success, result.failures()
    assert result.output("total") == 30
    items = sorted(k for k in result.steps if k.startswith("doubled#"))
    assert len(items) == 6 and result.output("doubled#4") == 8
    assert [e["type"] for e in result.events].count("materialized") == 2


def test_a_failure_is_recorded_and_skips_downstream(harness):
    result = harness.run(["broken", "after_broken"])
    assert result.status is RunStatus.FAILED
    error = result.steps["broken"].error
    assert error["message"] == "bad data in row 7" and "ValueError" in error["traceback"]
    assert result.steps["after_broken"].status is StepStatus.SKIPPED


def test_a_retry_runs_a_new_attempt(harness):
    result = harness.run(["flaky"])
    assert result.output("flaky") == 2
    types = [e["type"] for e in result.events if e["step"] == "flaky"]
    assert types == ["step_started", "step_retry", "step_started", "step_succeeded"]


def test_a_timeout_fails_the_attempt_at_its_deadline(harness):
    result = harness.run(["slow"])
    assert result.steps["slow"].status is StepStatus.FAILED
    assert "timeout" in result.steps["slow"].error["message"]
    # The step holds for 120 s unless released (by the teardown): the run ended while it was
    # still holding, so its timeout cut the attempt instead of waiting for it to return.
    assert not (harness.dir / "slow.held").exists()


def test_a_step_s_timeout_counts_its_run_time_not_its_wait_for_a_slot(harness):
    result = harness.run(["backlog", "timed_item"])
    assert result.success, result.failures()
    assert sorted(result.output(f"timed_item#{i}") for i in range(32)) == list(range(32))


def test_cancel_stops_the_run(harness):
    engines: list[Any] = []
    outcome: dict[str, RunResult] = {}
    thread = threading.Thread(
        target=lambda: outcome.setdefault(
            "result", harness.run(["long_step", "after_long"], engine_hook=engines.append)
        )
    )
    thread.start()
    pid_file = harness.dir / "long_step.pid"
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the step"))
    engines[0].cancel_requested.set()
    if harness.kind == "inprocess":  # the step runs in the engine's thread: let it return
        harness.release()
    thread.join(30)
    result = outcome["result"]
    assert result.status is RunStatus.CANCELLED
    if harness.kind != "inprocess":
        assert {s.status for s in result.steps.values()} == {StepStatus.CANCELLED}
    if harness.kind in ("process", "remote"):  # the step's process is killed
        wait_for(lambda: not alive(pid), 15, "the cancelled step's process to die")


def test_prints_logs_and_command_output_reach_the_step_logs(harness):
    result = harness.run(["chatty"])
    assert result.success, result.failures()
    lines = {(line.stream, line.message) for line in read_logs(harness.store, result.run_id)}
    assert lines >= {
        ("stdout", "to stdout"),
        ("log", "legato.step.chatty: through the step logger"),
        ("stdout", "from a command"),
        ("stderr", "and its stderr"),
    }


def test_a_partitioned_asset_runs_for_its_key(harness):
    result = harness.run(["regional"], partitions="eu")
    assert result.success, result.failures()
    assert list(result.steps) == ["regional[eu]"]
    assert result.output("regional[eu]").startswith("eu:")
