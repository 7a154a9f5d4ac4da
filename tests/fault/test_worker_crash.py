"""A step whose process is killed is reported failed and retried per policy, never left running."""

import os
import signal
import threading
import time
from pathlib import Path

import legato as lg
from legato.definitions.project import Project
from legato.events.status import RunStatus, StepStatus
from legato.execution.api import launch_run, make_executor
from legato.graph.build import build_graph
from legato.store.engine import Store
from legato.store.runs import get_run, get_steps
from polling import poller

_wait_for = poller(timeout=20.0)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigkill_of_a_step_process_is_a_failed_attempt_then_a_retry(tmp_path):
    pid_file = tmp_path / "pid"

    @lg.task(retries=lg.Retry(1, delay=0))
    def victim():
        if not pid_file.exists():
            pid_file.write_text(str(os.getpid()))
            time.sleep(60)
        return "second attempt"

    outcome = {}

    def run():
        outcome["result"] = lg.materialize(
            [victim], executor="process", storage=tmp_path / "s", raise_on_error=False
        )

    thread = threading.Thread(target=run)
    thread.start()
    pid = int(_wait_for(lambda: pid_file.exists() and pid_file.read_text()))
    os.kill(pid, signal.SIGKILL)
    thread.join(60)
    result = outcome["result"]
    assert result.output("victim") == "second attempt"
    retry = [e for e in result.events if e["type"] == "step_retry"]
    assert len(retry) == 1 and "killed by signal SIGKILL" in retry[0]["data"]["error"]["message"]


def test_sigkill_without_retries_fails_the_run_visibly(tmp_path):
    @lg.task
    def suicide():
        os.kill(os.getpid(), signal.SIGKILL)

    result = lg.materialize(
        [suicide], executor="process", storage=tmp_path / "s", raise_on_error=False
    )
    assert result.status is RunStatus.FAILED
    assert result.steps["suicide"].status is StepStatus.FAILED
    assert "SIGKILL" in result.steps["suicide"].error["message"]


def test_cancel_stops_running_workers_and_marks_everything_cancelled(tmp_path):
    pid_file = tmp_path / "pid"

    @lg.task
    def long_step():
        pid_file.write_text(str(os.getpid()))
        time.sleep(60)

    @lg.task
    def after(long_step):
        return 1

    project = Project.of([long_step, after])
    graph = build_graph(project)
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    engines = []
    outcome = {}

    def run():
        outcome["result"] = launch_run(
            project,
            graph,
            "*",
            store=store,
            storage_root=Path(tmp_path / "s"),
            executor=make_executor("process"),
            engine_hook=engines.append,
        )

    thread = threading.Thread(target=run)
    thread.start()
    pid = int(_wait_for(lambda: pid_file.exists() and pid_file.read_text()))
    engines[0].cancel_requested.set()
    thread.join(30)
    result = outcome["result"]
    assert get_run(store, result.run_id).status is RunStatus.CANCELLED
    assert {s.status for s in get_steps(store, result.run_id)} == {StepStatus.CANCELLED}
    _wait_for(lambda: not _pid_alive(pid), timeout=10)
