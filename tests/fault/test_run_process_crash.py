"""A run whose process was killed keeps every task result it recorded as succeeded: the process
that resumes it reads them from the run's result log (where a torn last write is cut off)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from legato.definitions.project import Project
from legato.definitions.step import StepDef
from legato.events.status import RunStatus, StepStatus
from legato.execution.api import make_executor
from legato.execution.launcher import execute_run
from legato.graph.build import build_graph
from legato.store.claims import take_over
from legato.store.engine import Store
from legato.store.runs import get_steps, list_runs
from polling import poller

_wait_for = poller(timeout=60.0)

STEPS = """
    import time
    from pathlib import Path

    import legato as lg

    HERE = Path(__file__).parent

    @lg.task
    def first() -> int:
        return 41

    @lg.task(retries=1)  # its attempt is lost with the process, and retried
    def second(first: int) -> int:
        deadline = time.monotonic() + 60
        while not (HERE / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # held until the test lets it finish
        return first + 1
"""

RUN = """
    import sys
    from pathlib import Path

    import crash_steps
    from legato.definitions.project import Project
    from legato.execution.api import launch_run, make_executor
    from legato.graph.build import build_graph
    from legato.store.engine import Store

    root = Path(sys.argv[1])
    project = Project.of([crash_steps.first, crash_steps.second])
    launch_run(
        project, build_graph(project), "*", store=Store(f"sqlite:///{root}/db.sqlite"),
        storage_root=root / "storage", executor=make_executor(sys.argv[2]),
    )
"""


@pytest.mark.parametrize("executor", ["inprocess", "process"])
def test_a_resumed_run_reads_the_results_its_killed_process_recorded(
    tmp_path, monkeypatch, executor
):
    (tmp_path / "crash_steps.py").write_text(textwrap.dedent(STEPS))
    monkeypatch.syspath_prepend(str(tmp_path))
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")  # the schema, before the run
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(RUN), str(tmp_path), executor],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])
            ),
        },
    )
    try:
        run_id = _wait_for(lambda: [r.run_id for r in list_runs(store, limit=1)])[0]

        def statuses() -> dict[str, StepStatus]:
            return {s.step_key: s.status for s in get_steps(store, run_id)}

        _wait_for(
            lambda: statuses() == {"first": StepStatus.SUCCEEDED, "second": StepStatus.RUNNING}
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        log = tmp_path / "storage" / "runs" / run_id / "results.log"
        with open(log, "ab") as f:  # as if the killed process had been cut off mid-write
            f.write(b"LGR1\x00\x01")
        (tmp_path / "release").touch()
        import crash_steps

        project = Project.of([v for v in vars(crash_steps).values() if isinstance(v, StepDef)])
        assert take_over(store, run_id, "resumer", lease=30, now=time.time() + 3600)
        result = execute_run(
            project,
            build_graph(project),
            store,
            run_id,
            storage_root=tmp_path / "storage",
            executor=make_executor(executor),
            launcher="resumer",
            resume=True,
        )
        assert result.status is RunStatus.SUCCEEDED, result.failures()
        assert result.output("second") == 42  # first's result, from the killed process's log
        assert statuses() == {"first": StepStatus.SUCCEEDED, "second": StepStatus.SUCCEEDED}
        assert not log.read_bytes().endswith(b"LGR1\x00\x01")  # the torn tail was cut off
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        sys.modules.pop("crash_steps", None)
        store.dispose()
