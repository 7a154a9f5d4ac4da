"""A step's timeout counts its own run time, not its worker's start-up: a process-pool worker
that takes longer to load the project than the step's timeout still runs a quick step."""

import os
import sys
import textwrap
from pathlib import Path

import pytest

from legato.definitions.project import Project
from legato.definitions.step import StepDef
from legato.events.status import RunStatus
from legato.execution.api import launch_run
from legato.execution.executors.process_pool import ProcessPoolExecutor
from legato.graph.build import build_graph
from legato.store.engine import Store

STEPS = """
    import os
    import time

    import legato as lg

    if os.environ.get("SLOW_BOOT_PARENT") != str(os.getpid()):
        time.sleep(2.0)  # a worker loading a heavy project (imports, a model) on a busy machine

    @lg.task(timeout=1.0)
    def quick() -> int:
        return 7
"""


def test_a_worker_s_start_up_does_not_count_against_the_step_s_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "slow_boot_steps.py").write_text(textwrap.dedent(STEPS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SLOW_BOOT_PARENT", str(os.getpid()))
    import slow_boot_steps

    try:
        project = Project.of(v for v in vars(slow_boot_steps).values() if isinstance(v, StepDef))
        store = Store(f"sqlite:///{tmp_path}/db.sqlite")
        pool = ProcessPoolExecutor(1)
        try:
            result = launch_run(
                project,
                build_graph(project),
                "*",
                store=store,
                storage_root=tmp_path / "storage",
                executor=pool,
            )
        finally:
            pool.shutdown(kill=True)
            store.dispose()
        assert result.status is RunStatus.SUCCEEDED, result.failures()
        assert result.output("quick") == 7
    finally:
        sys.modules.pop("slow_boot_steps", None)
